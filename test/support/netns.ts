import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from './tools';

/**
 * A throwaway network namespace (its own lo, its own nftables ruleset, its own conntrack): the
 * rendered firewall is loaded on the real kernel without touching the host's rules.
 */
export interface NetNs {
  readonly name: string;
  /** Runs a command inside the namespace. */
  exec(cmd: string, args: readonly string[], opts?: { input?: string }): ReturnType<typeof run>;
  /** Runs a command inside the namespace without blocking the event loop (other children's output keeps flowing). */
  execAsync(cmd: string, args: readonly string[], timeoutMs?: number): Promise<{ status: number; stdout: string; stderr: string }>;
  /** Starts a long-running process inside the namespace. */
  spawn(cmd: string, args: readonly string[]): ChildProcess;
  destroy(): void;
}

/** Why a network namespace cannot be made here (e.g. no CAP_SYS_ADMIN), or undefined if it can. */
export function netnsUnavailable(): string | undefined {
  try {
    createNetNs().destroy();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Creates the namespace with lo up; throws with ip's message when that is not permitted. */
export function createNetNs(): NetNs {
  const name = `mf-${crypto.randomBytes(4).toString('hex')}`;
  const add = run('ip', ['netns', 'add', name]);
  if (add.status !== 0) {
    run('ip', ['netns', 'del', name]); // in case it got as far as the name
    throw new Error(`ip netns add ${name} failed (needs CAP_SYS_ADMIN): ${add.stderr.trim()}`);
  }
  const children: ChildProcess[] = [];
  const ns: NetNs = {
    name,
    exec: (cmd, args, opts = {}) => run('ip', ['netns', 'exec', name, cmd, ...args], { input: opts.input }),
    execAsync: (cmd, args, timeoutMs = 20_000) =>
      new Promise((resolve) => {
        execFile('ip', ['netns', 'exec', name, cmd, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
          resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
        );
      }),
    spawn: (cmd, args) => {
      // `ip netns exec` execs the command: the child's pid is the command's own.
      const child = spawn('ip', ['netns', 'exec', name, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      return child;
    },
    destroy: () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      run('ip', ['netns', 'del', name]);
    },
  };
  const up = ns.exec('ip', ['link', 'set', 'lo', 'up']);
  if (up.status !== 0) {
    ns.destroy();
    throw new Error(`ip link set lo up in ${name}: ${up.stderr}`);
  }
  return ns;
}

/** A TCP server on each [host, port] that accepts and holds connections, printing "accept <port>" per connection. */
const LISTENER = `
const net = require('net');
const listens = JSON.parse(process.argv[2]);
let ready = 0;
for (const [host, port] of listens) {
  net.createServer((s) => { process.stdout.write('accept ' + port + '\\n'); s.on('error', () => {}); })
    .listen(port, host, () => { if (++ready === listens.length) process.stdout.write('ready\\n'); });
}
`;

/**
 * Opens `count` concurrent connections to host:port from the `sources` addresses in turn (the
 * kernel's choice when empty) and keeps them open; then, while they are held, one from `other`
 * (if given); then closes the first cleanly (FIN both ways) and opens one more. Prints
 * {opened: [...], other, afterClose} as JSON, each "connected" or the error code.
 */
const CLIENT = `
const net = require('net');
const [host, port, count] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const sources = (process.argv[5] || '').split(',').filter(Boolean);
const other = process.argv[6] || '';
const connect = (localAddress) => new Promise((resolve) => {
  const s = net.connect(localAddress ? { host, port, localAddress } : { host, port });
  const timer = setTimeout(() => { s.destroy(); resolve({ result: 'TIMEOUT' }); }, 3000);
  s.once('connect', () => { clearTimeout(timer); resolve({ result: 'connected', s }); });
  s.once('error', (e) => { clearTimeout(timer); resolve({ result: e.code || e.message }); });
});
(async () => {
  const opened = [];
  const open = [];
  for (let i = 0; i < count; i++) {
    const c = await connect(sources[i % sources.length]);
    opened.push(c.result);
    if (c.s) open.push(c.s);
  }
  const o = other ? await connect(other) : { result: '' };
  if (o.s) open.push(o.s);
  if (open.length > 0) {
    const first = open.shift();
    await new Promise((r) => { first.once('close', r); first.end(); });
  }
  const again = await connect(sources[0]);
  if (again.s) open.push(again.s);
  process.stdout.write(JSON.stringify({ opened, other: o.result, afterClose: again.result }));
  for (const s of open) s.destroy();
})();
`;

/** Writes the helper scripts to `dir`; returns their paths. */
export function writeConnScripts(dir: string): { listener: string; client: string } {
  const listener = path.join(dir, 'listener.js');
  const client = path.join(dir, 'client.js');
  fs.writeFileSync(listener, LISTENER);
  fs.writeFileSync(client, CLIENT);
  return { listener, client };
}

/** Resolves once the listener printed "ready"; collects its "accept" lines. */
export function listenerReady(child: ChildProcess): Promise<{ accepted: () => string[] }> {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`listener not ready after 10 s: ${out}${err}`)), 10_000);
    const check = () => {
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve({ accepted: () => out.split('\n').filter((l) => l.startsWith('accept ')) });
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`listener exited ${code}: ${out}${err}`));
    });
  });
}

/** The two ends of a veth pair between two namespaces, with their addresses. */
export interface VethLink {
  readonly serverIp: string;
  /** The client end's IPv4 addresses (`clientIps[0]` first): each is a source of its own. */
  readonly clientIps: readonly string[];
  readonly serverIp6: string;
  /** The client end's IPv6 addresses: its own, then the extra ones asked for. */
  readonly clientIp6s: readonly string[];
}

/**
 * Links `server` and `client` with a veth pair (10.201.x.1 and 10.201.x.2.., fd00:6d66:x::1 and
 * ::2, no DAD), plus `extraIp6` on the client end (routed back by the server): the path a node's
 * traffic takes from its NIC. Over lo a client's SYN is tracked (and confirmed) on its way out,
 * before the firewall's input hook sees it: the per-source count behaves otherwise there.
 */
export function createVethLink(server: NetNs, client: NetNs, opts: { ipv4Clients?: number; extraIp6?: readonly string[] } = {}): VethLink {
  const id = crypto.randomBytes(3).toString('hex');
  const [s, c] = [`mfs${id}`, `mfc${id}`];
  const x = parseInt(id.slice(0, 2), 16);
  const clientIps = Array.from({ length: opts.ipv4Clients ?? 1 }, (_, i) => `10.201.${x}.${i + 2}`);
  const extra = opts.extraIp6 ?? [];
  const link: VethLink = { serverIp: `10.201.${x}.1`, clientIps, serverIp6: `fd00:6d66:${x}::1`, clientIp6s: [`fd00:6d66:${x}::2`, ...extra] };
  const steps: string[][] = [
    ['link', 'add', s, 'netns', server.name, 'type', 'veth', 'peer', 'name', c, 'netns', client.name],
    ['-n', server.name, 'addr', 'add', `${link.serverIp}/24`, 'dev', s],
    ...clientIps.map((a) => ['-n', client.name, 'addr', 'add', `${a}/24`, 'dev', c]),
    ['-n', server.name, '-6', 'addr', 'add', `${link.serverIp6}/64`, 'dev', s, 'nodad'],
    ['-n', client.name, '-6', 'addr', 'add', `${link.clientIp6s[0]}/64`, 'dev', c, 'nodad'],
    ...extra.map((a) => ['-n', client.name, '-6', 'addr', 'add', `${a}/128`, 'dev', c, 'nodad']),
    ['-n', server.name, 'link', 'set', s, 'up'],
    ['-n', client.name, 'link', 'set', c, 'up'],
    ...extra.map((a) => ['-n', server.name, '-6', 'route', 'add', `${a}/128`, 'dev', s]),
  ];
  for (const args of steps) {
    const r = run('ip', args);
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  }
  return link;
}

/**
 * HTTP workloads of well-behaved clients from one source address, each request on a new
 * connection (Connection: close), never more than the cap open at once. argv: JSON
 * {host, port, localAddress, workload, ...}.
 * - downloads: `rounds` times, `parallel` GETs of `file` at once; the next round starts as soon
 *   as the last of them is done ("6 parallel downloads followed at once by 6 more").
 * - sequential: `requests` GETs of `file`, one connection open at a time.
 * - validator: `rounds` times, a burst of `parallel` GETs of `file` at once, and as soon as they
 *   are done one GET of `probe` from the same address (an ACME validator sharing it, or the
 *   next step of an installer); the probe's outcomes are also counted apart, in `probe`.
 * Prints {requests, failed: {outcome: n}, probe: {outcome: n}, slowConnects} as JSON; an
 * outcome is "ok" (200 and the full body), "status <n>", "short body" or the socket error.
 */
const LOAD_CLIENT = `
const http = require('http');
const o = JSON.parse(process.argv[2]);
const tally = { requests: 0, failed: {}, probe: {}, slowConnects: 0 };
const add = (t, k) => (t[k] = (t[k] || 0) + 1);
const get = (path) => new Promise((resolve) => {
  const t0 = Date.now();
  const req = http.get({ host: o.host, port: o.port, localAddress: o.localAddress, path, agent: false, headers: { Connection: 'close' }, timeout: 60000 }, (res) => {
    let n = 0;
    res.on('data', (d) => (n += d.length));
    res.on('end', () => resolve(res.statusCode !== 200 ? 'status ' + res.statusCode : String(n) === res.headers['content-length'] ? 'ok' : 'short body'));
    res.on('error', (e) => resolve(e.code || e.message));
  });
  req.on('socket', (s) => s.on('connect', () => { if (Date.now() - t0 > 900) tally.slowConnects++; }));
  req.on('timeout', () => req.destroy(new Error('TIMEOUT')));
  req.on('error', (e) => resolve(e.code || e.message));
});
const count = (outcome, t = tally.failed) => { tally.requests++; if (outcome !== 'ok') add(t, outcome); return outcome; };
const round = () => Promise.all(Array.from({ length: o.parallel }, () => get(o.file).then((r) => count(r))));
(async () => {
  if (o.workload === 'downloads') for (let i = 0; i < o.rounds; i++) await round();
  if (o.workload === 'sequential') for (let i = 0; i < o.requests; i++) count(await get(o.file));
  if (o.workload === 'validator') for (let i = 0; i < o.rounds; i++) { await round(); const p = count(await get(o.probe)); if (p !== 'ok') add(tally.probe, p); }
  process.stdout.write(JSON.stringify(tally));
})();
`;

export type LoadWorkload =
  | { workload: 'downloads'; file: string; parallel: number; rounds: number }
  | { workload: 'sequential'; file: string; requests: number }
  | { workload: 'validator'; file: string; probe: string; parallel: number; rounds: number };

export interface LoadResult {
  readonly requests: number;
  /** Outcomes other than "ok", counted. */
  readonly failed: Record<string, number>;
  /** The probe's outcomes other than "ok" (validator workload only; also counted in `failed`). */
  readonly probe: Record<string, number>;
  /** Connections that took over 0.9 s to establish: a SYN retried after a drop. */
  readonly slowConnects: number;
}

/** Runs one workload from inside `client`, from `localAddress`, against host:port (the script is written to `dir`). */
export async function runLoad(client: NetNs, dir: string, to: { host: string; port: number; localAddress: string }, w: LoadWorkload): Promise<LoadResult> {
  const script = path.join(dir, 'load-client.js');
  if (!fs.existsSync(script)) fs.writeFileSync(script, LOAD_CLIENT);
  const r = await client.execAsync(process.execPath, [script, JSON.stringify({ ...to, ...w })], 600_000);
  if (r.status !== 0) throw new Error(`load client in ${client.name}: exit ${r.status}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as LoadResult;
}
