import * as net from 'node:net';
import * as tls from 'node:tls';
import { TrafficBudget } from './budget';

/*
 * A small HTTP/1.1 client over node's net and tls, for the checker: it keeps the connection in
 * its hands (keep-alive, the server's idle close), sends exactly the headers it is given (no
 * decompression, no redirects) and never reads more than it is allowed to. HTTPS records the
 * certificate chain and whether it verifies, instead of refusing to talk.
 */

export interface Endpoint {
  /** The host name: Host header, SNI and the name the certificate must carry. */
  readonly host: string;
  /** The address to connect to. */
  readonly address: string;
  readonly port: number;
  readonly tls: boolean;
  /** Trust anchors (PEM) for HTTPS; node's bundled roots when undefined. */
  readonly ca?: readonly string[];
}

export interface HttpResponse {
  readonly status: number;
  /** Lower-case names; a repeated header's values joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** The body was longer than the limit: the connection was closed after the limit. */
  readonly truncated: boolean;
}

export interface ChainCert {
  readonly subject: string;
  readonly issuer: string;
  readonly selfSigned: boolean;
  readonly validTo: string;
}

export interface TlsState {
  /** Verified against the trust anchors and valid for the host name. */
  readonly trusted: boolean;
  /** Why not, in OpenSSL's and node's words. */
  readonly error?: string;
  /** Leaf first, up to the root when the trust anchors hold it. */
  readonly chain: readonly ChainCert[];
}

const cn = (name: Record<string, string | string[]> | undefined) => {
  const v = name?.CN;
  return Array.isArray(v) ? v.join(', ') : (v ?? JSON.stringify(name ?? {}));
};

export class HttpConnection {
  private buffered = Buffer.alloc(0);
  private ended = false;
  private closedAt?: number;
  private waiters: (() => void)[] = [];
  private failure?: Error;

  private constructor(
    private readonly socket: net.Socket,
    readonly endpoint: Endpoint,
    readonly tls?: TlsState,
  ) {
    socket.on('data', (d: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, d]);
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.closedAt ??= Date.now();
      this.wake();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', (e) => {
      this.failure = e;
      end();
    });
  }

  /** Connects (with TLS for HTTPS) within `timeoutMs`, counted against the budget. */
  static open(ep: Endpoint, budget: TrafficBudget, timeoutMs: number): Promise<HttpConnection> {
    budget.take(ep.address, `${ep.tls ? 'https' : 'http'}://${ep.host}:${ep.port}`);
    const ms = budget.remainingMs(timeoutMs);
    return new Promise((resolve, reject) => {
      const fail = (e: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(e);
      };
      const socket: net.Socket = ep.tls
        ? tls.connect({ host: ep.address, port: ep.port, servername: net.isIP(ep.host) ? undefined : ep.host, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], ...(ep.ca ? { ca: [...ep.ca] } : {}) })
        : net.connect({ host: ep.address, port: ep.port });
      const timer = setTimeout(() => fail(new Error(`no connection within ${(ms / 1000).toFixed(0)} s`)), ms);
      socket.once('error', (e: NodeJS.ErrnoException) => fail(new Error(e.code ? `${e.code} (${e.message})` : e.message)));
      socket.once(ep.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new HttpConnection(socket, ep, ep.tls ? tlsState(socket as tls.TLSSocket, ep.host) : undefined));
      });
    });
  }

  /** One request on this connection; the response is read whole (up to `maxBody` bytes) within `timeoutMs`. */
  async request(method: 'GET' | 'HEAD', path: string, headers: Readonly<Record<string, string>> = {}, o: { maxBody?: number; timeoutMs?: number } = {}): Promise<HttpResponse> {
    const maxBody = o.maxBody ?? 256 * 1024;
    const deadline = Date.now() + (o.timeoutMs ?? 10_000);
    const lines = [`${method} ${path} HTTP/1.1`, `Host: ${hostHeader(this.endpoint)}`, ...Object.entries({ 'User-Agent': 'mirrorfleet-check', Accept: '*/*', ...headers }).map(([k, v]) => `${k}: ${v}`)];
    if (this.ended) throw new Error(`the server closed the connection before the request${this.failure ? `: ${this.failure.message}` : ''}`);
    this.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    const headEnd = await this.until(() => this.buffered.indexOf('\r\n\r\n'), (i) => i >= 0, deadline, 'the response head');
    const head = this.buffered.subarray(0, headEnd).toString('latin1');
    this.buffered = this.buffered.subarray(headEnd + 4);
    const [statusLine, ...fields] = head.split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
    if (status === 0) throw new Error(`not an HTTP response: ${JSON.stringify(statusLine.slice(0, 80))}`);
    const h: Record<string, string> = {};
    for (const f of fields) {
      const i = f.indexOf(':');
      if (i <= 0) continue;
      const k = f.slice(0, i).trim().toLowerCase();
      const v = f.slice(i + 1).trim();
      h[k] = h[k] === undefined ? v : `${h[k]}, ${v}`;
    }
    if (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) return { status, headers: h, body: Buffer.alloc(0), truncated: false };
    if (/chunked/i.test(h['transfer-encoding'] ?? '')) return { status, headers: h, ...(await this.chunked(maxBody, deadline)) };
    const length = h['content-length'] !== undefined ? Number(h['content-length']) : undefined;
    if (length !== undefined && length > maxBody) {
      await this.until(() => this.buffered.length, (n) => n >= maxBody, deadline, 'the body');
      this.close();
      return { status, headers: h, body: this.buffered.subarray(0, maxBody), truncated: true };
    }
    const want = length ?? maxBody;
    const got = await this.until(() => this.buffered.length, (n) => n >= want || (length === undefined && this.ended), deadline, 'the body', length === undefined);
    const body = this.buffered.subarray(0, Math.min(got, want));
    this.buffered = this.buffered.subarray(body.length);
    if (length === undefined && !this.ended) this.close();
    return { status, headers: h, body, truncated: length === undefined && got > want };
  }

  /** Milliseconds until the server closes the idle connection, or undefined if it is still open after `maxMs`. */
  async idleClose(maxMs: number): Promise<number | undefined> {
    const from = Date.now();
    const deadline = from + maxMs;
    while (!this.ended && Date.now() < deadline) await this.wait(deadline);
    return this.ended ? (this.closedAt ?? Date.now()) - from : undefined;
  }

  get open(): boolean {
    return !this.ended;
  }

  close(): void {
    this.socket.destroy();
  }

  private async chunked(maxBody: number, deadline: number): Promise<{ body: Buffer; truncated: boolean }> {
    const parts: Buffer[] = [];
    let size = 0;
    for (;;) {
      const eol = await this.until(() => this.buffered.indexOf('\r\n'), (i) => i >= 0, deadline, 'a chunk');
      const n = Number.parseInt(this.buffered.subarray(0, eol).toString('latin1'), 16);
      if (Number.isNaN(n)) throw new Error('a malformed chunk');
      if (n === 0) {
        // The trailer ends with an empty line.
        const end = await this.until(() => this.buffered.indexOf('\r\n\r\n', eol), (i) => i >= 0, deadline, 'the last chunk');
        this.buffered = this.buffered.subarray(end + 4);
        return { body: Buffer.concat(parts), truncated: false };
      }
      if (size + n > maxBody) {
        this.close();
        return { body: Buffer.concat(parts), truncated: true };
      }
      await this.until(() => this.buffered.length, (len) => len >= eol + 2 + n + 2, deadline, 'a chunk');
      parts.push(this.buffered.subarray(eol + 2, eol + 2 + n));
      size += n;
      this.buffered = this.buffered.subarray(eol + 2 + n + 2);
    }
  }

  /** Waits until `done(measure())`, the deadline, or the end of the connection (an error unless `endIsOk`). */
  private async until(measure: () => number, done: (x: number) => boolean, deadline: number, what: string, endIsOk = false): Promise<number> {
    for (;;) {
      const x = measure();
      if (done(x)) return x;
      if (this.ended) {
        if (endIsOk) return x;
        throw new Error(`the server closed the connection while sending ${what}${this.failure ? ` (${this.failure.message})` : ''}`);
      }
      if (Date.now() >= deadline) {
        this.close();
        throw new Error(`no complete ${what} within the time allowed`);
      }
      await this.wait(deadline);
    }
  }

  private wait(deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, Math.max(0, deadline - Date.now()));
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.waiters.push(done);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

const hostHeader = (ep: Endpoint) => {
  const name = net.isIPv6(ep.host) ? `[${ep.host}]` : ep.host;
  return ep.port === (ep.tls ? 443 : 80) ? name : `${name}:${ep.port}`;
};

function tlsState(s: tls.TLSSocket, host: string): TlsState {
  const chain: ChainCert[] = [];
  let c: tls.DetailedPeerCertificate | undefined = s.getPeerCertificate(true);
  const seen = new Set<string>();
  while (c && c.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    const selfSigned: boolean = c.issuerCertificate === undefined || c.issuerCertificate.fingerprint256 === c.fingerprint256;
    chain.push({ subject: cn(c.subject as never), issuer: cn(c.issuer as never), selfSigned, validTo: c.valid_to });
    c = selfSigned ? undefined : c.issuerCertificate;
  }
  if (!s.authorized) return { trusted: false, error: String(s.authorizationError), chain };
  const leaf = s.getPeerCertificate();
  const wrongName = net.isIP(host) ? undefined : tls.checkServerIdentity(host, leaf);
  return wrongName ? { trusted: false, error: wrongName.message, chain } : { trusted: true, chain };
}
