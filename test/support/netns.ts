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
  execAsync(cmd: string, args: readonly string[]): Promise<{ status: number; stdout: string; stderr: string }>;
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
    execAsync: (cmd, args) =>
      new Promise((resolve) => {
        execFile('ip', ['netns', 'exec', name, cmd, ...args], { timeout: 20_000 }, (err, stdout, stderr) =>
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
