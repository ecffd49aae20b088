import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { sh } from './sh';

/** What the world sees when it talks to the node: curl and rsync run on the host. */

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** Raw header block, for quoting. */
  readonly head: string;
  readonly error: string;
}

export interface HttpOptions {
  readonly method?: 'GET' | 'HEAD';
  readonly headers?: readonly string[];
  /** HTTPS: the host name to send (SNI, Host) and the IP to connect to. */
  readonly resolve?: { host: string; ip: string };
  readonly caFile?: string;
}

export function http(url: string, tmp: string, o: HttpOptions = {}): HttpResponse {
  const bodyFile = path.join(tmp, `body-${process.pid}-${Date.now()}`);
  const args = ['-sS', '--max-time', '10', '-D', '-', '-o', bodyFile, '--http1.1'];
  if (o.method === 'HEAD') args.push('-I');
  for (const h of o.headers ?? []) args.push('-H', h);
  if (o.resolve) {
    const port = new URL(url).port || (url.startsWith('https') ? '443' : '80');
    args.push('--resolve', `${o.resolve.host}:${port}:${o.resolve.ip}`);
  }
  if (o.caFile) args.push('--cacert', o.caFile);
  args.push(url);
  const r = sh('curl', args, { timeoutMs: 20_000 });
  const head = r.stdout;
  let body = Buffer.alloc(0);
  if (fs.existsSync(bodyFile)) {
    body = fs.readFileSync(bodyFile);
    fs.rmSync(bodyFile);
  }
  const blocks = head.trim().split(/\r?\n\r?\n/);
  const last = blocks[blocks.length - 1] ?? '';
  const status = Number(/^HTTP\/\S+ (\d{3})/.exec(last)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of last.split(/\r?\n/).slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status, headers, body, head: last, error: r.status === 0 ? '' : r.stderr.trim() };
}

export function rsync(args: readonly string[]): { status: number; out: string } {
  const r = sh('rsync', ['--timeout=15', '--contimeout=5', ...args], { timeoutMs: 60_000 });
  return { status: r.status, out: (r.stdout + r.stderr).trim() };
}

/**
 * Opens `n` TCP connections and reports how many were accepted and stayed open for 500 ms; the
 * rest were refused: reset, or not answered within 3 s (a firewall dropping the SYN).
 */
export async function concurrentConnections(host: string, port: number, n: number): Promise<{ open: number; refused: number }> {
  const sockets: net.Socket[] = [];
  const outcomes = await Promise.all(
    Array.from(
      { length: n },
      (_, i) =>
        new Promise<'open' | 'refused'>((resolve) => {
          // One after the other: the cap counts connections already established.
          setTimeout(() => {
            const s = net.connect({ host, port });
            sockets.push(s);
            let settled = false;
            const done = (v: 'open' | 'refused') => {
              if (!settled) {
                settled = true;
                resolve(v);
              }
            };
            s.on('connect', () => setTimeout(() => done(s.destroyed ? 'refused' : 'open'), 500));
            setTimeout(() => done('refused'), 3000);
            s.on('error', () => done('refused'));
            s.on('close', () => done('refused'));
          }, i * 60);
        }),
    ),
  );
  for (const s of sockets) s.destroy();
  return { open: outcomes.filter((o) => o === 'open').length, refused: outcomes.filter((o) => o === 'refused').length };
}

/** `n` simultaneous HTTP/1.0 HEAD requests; how many got an HTTP answer (the rest were reset). */
export async function simultaneousRequests(host: string, port: number, n: number): Promise<number> {
  const one = () =>
    new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port }, () => s.write(`HEAD / HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
      let got = '';
      s.setTimeout(5000, () => s.destroy());
      s.on('data', (d) => (got += d.toString()));
      s.on('error', () => undefined);
      s.on('close', () => resolve(got.startsWith('HTTP/')));
    });
  return (await Promise.all(Array.from({ length: n }, one))).filter(Boolean).length;
}

/** Is anything accepting TCP on host:port (quickly)? */
export function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 3000);
    s.on('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve(true);
    });
    s.on('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

/** The certificates a TLS server presents (leaf first), as PEM. */
export function servedChain(ip: string, port: number, servername: string): string[] {
  const r = sh('openssl', ['s_client', '-connect', `${ip}:${port}`, '-servername', servername, '-showcerts'], { input: '', timeoutMs: 15_000 });
  return r.stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}
