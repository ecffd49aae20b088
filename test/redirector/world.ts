import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, tmpDir } from '../support/fixtures';
import { NetNs, createNetNs } from '../support/netns';
import { run } from '../support/tools';

/**
 * The redirector's world for the contract suite, in a network namespace of its own: Debian's
 * redis-server, mirrorbits (the stand-in, or the real binary MIRRORBITS_BIN names), the GeoIP test
 * databases, and three mirrors (one HTTP server, one rsync daemon) on addresses the test City
 * database places in London, Linköping and Milton, so that GeoIP picks them as it would for real.
 * URLs carry no port, as real mirrors' do: the namespace has ports 80 and 873 to itself.
 */
export const STANDIN = path.join(REPO, 'test', 'redirector', 'standin', 'mirrorbits');
/** MIRRORFLEET_RECONCILER: another reconciler through the same suite (e.g. to see a naive one fail it). */
export const RECONCILER = process.env.MIRRORFLEET_RECONCILER ? path.resolve(process.env.MIRRORFLEET_RECONCILER) : path.join(REPO, 'assets', 'mirrorfleet-reconcile');
export const GEOIP_DIR = path.join(REPO, 'test', 'redirector', 'geoip');
export const BIN = process.env.MIRRORBITS_BIN ? path.resolve(process.env.MIRRORBITS_BIN) : STANDIN;
export const BACKEND = process.env.MIRRORBITS_BIN ? `mirrorbits at ${BIN}` : 'the mirrorbits stand-in';

/** Mirror name, address (in the test GeoIP City database), rsync module, country, continent. */
export const GEO_MIRRORS = [
  { name: 'mirror-gb', ip: '81.2.69.143', module: 'gb', country: 'GB', continent: 'EU' },
  { name: 'mirror-se', ip: '89.160.20.113', module: 'se', country: 'SE', continent: 'EU' },
  { name: 'mirror-us', ip: '216.160.83.57', module: 'us', country: 'US', continent: 'NA' },
] as const;

/** The local repository: what the redirector's copy holds (paths under the tree root). */
export const FILES: Record<string, string> = {
  'xcp/8.3/install.iso': 'an installer image\n'.repeat(100),
  'xcp/8.3/repodata/repomd.xml': '<repomd/>\n',
  'xcp/8.3/stale.rpm': 'a package the Swedish mirror has an older copy of\n',
  'only-here.iso': 'a file no mirror has yet\n',
  trace: '1767225600\n',
};
const MTIME = new Date('2026-01-01T00:00:00Z');

export interface World {
  readonly ns: NetNs;
  readonly dir: string;
  readonly repository: string;
  readonly configFile: string;
  readonly pidFile: string;
  /** The mirrorbits CLI against the daemon (exit code, stdout, stderr); never throws. */
  cli(...args: string[]): ReturnType<typeof run>;
  /** The reconciler on a desired list (a file path). */
  reconcile(file: string, ...flags: string[]): ReturnType<typeof run>;
  /** A request to the daemon's HTTP port from inside the namespace: status and headers. */
  request(urlPath: string, headers?: Record<string, string>, method?: string): { status: number; headers: Record<string, string>; body: string };
  redis(...args: string[]): string;
  writeConfig(extra?: string): void;
  daemon: ChildProcess;
  daemonLog(): string;
  stop(): Promise<void>;
}

function sh(ns: NetNs, cmd: string, args: string[]): void {
  const r = ns.exec(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    fs.utimesSync(file, MTIME, MTIME);
  }
}

/** Runs in the namespace until the world stops; the child's output is kept for failure messages. */
function background(ns: NetNs, cmd: string, args: string[], log: string[]): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', ns.name, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => log.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
  return child;
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs / 1000} s\n${detail()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function configText(w: { dir: string; repository: string }, extra = ''): string {
  const templates = process.env.MIRRORBITS_TEMPLATES ?? path.join(path.dirname(BIN), 'templates');
  return [
    `Repository: ${w.repository}`,
    `Templates: ${templates}`,
    `GeoipDatabasePath: ${GEOIP_DIR}`,
    'OutputMode: redirect',
    'ListenAddress: 127.0.0.1:8080',
    'RPCListenAddress: 127.0.0.1:3390',
    'RedisAddress: 127.0.0.1:6379',
    'RedisDB: 0',
    'TraceFileLocation: /trace',
    'RepositoryScanInterval: 5',
    'ScanInterval: 60',
    'CheckInterval: 1',
    'Hashes:\n  SHA256: On',
    extra,
  ].join('\n') + '\n';
}

/** Receives sd_notify datagrams on `socket`, one line each in `log`. */
const NOTIFY_LISTENER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    with open(sys.argv[2], 'a') as f:
        f.write(s.recv(4096).decode() + '\\n')
`;

export async function startWorld(opts: { extraConfig?: string; notify?: boolean } = {}): Promise<World> {
  const ns = createNetNs();
  const dir = tmpDir('redirector');
  fs.chmodSync(dir, 0o755);
  const repository = path.join(dir, 'repo');
  const logs: string[] = [];
  const children: ChildProcess[] = [];
  try {
    for (const m of GEO_MIRRORS) sh(ns, 'ip', ['addr', 'add', `${m.ip}/32`, 'dev', 'lo']);
    writeTree(repository, FILES);
    // Each mirror holds the tree under its module's name (and gb2/ for a URL change); the Swedish
    // one has an older copy of stale.rpm, which mirrorbits must not send anyone to.
    for (const m of [...GEO_MIRRORS.map((g) => g.module), 'gb2']) {
      const files = Object.fromEntries(Object.entries(FILES).filter(([p]) => p !== 'only-here.iso'));
      writeTree(path.join(dir, 'www', m), files);
    }
    const stale = path.join(dir, 'www', 'se', 'xcp/8.3/stale.rpm');
    fs.utimesSync(stale, new Date('2025-12-01T00:00:00Z'), new Date('2025-12-01T00:00:00Z'));
    const modules = [...GEO_MIRRORS.map((g) => g.module), 'gb2'].map((m) => `[${m}]\npath = ${dir}/www/${m}\nread only = yes\n`).join('');
    fs.writeFileSync(path.join(dir, 'rsyncd.conf'), `use chroot = no\nuid = root\ngid = root\nport = 873\npid file = ${dir}/rsyncd.pid\n${modules}`);
    children.push(background(ns, 'rsync', ['--daemon', '--no-detach', `--config=${dir}/rsyncd.conf`], logs));
    children.push(background(ns, '/usr/bin/python3', ['-m', 'http.server', '80', '--bind', '0.0.0.0', '--directory', path.join(dir, 'www')], logs));
    children.push(background(ns, 'redis-server', ['--port', '6379', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], logs));
  } catch (e) {
    ns.destroy();
    throw e;
  }
  const configFile = path.join(dir, 'mirrorbits.conf');
  const pidFile = path.join(dir, 'mirrorbits.pid');
  const daemonLogFile = path.join(dir, 'mirrorbits.log');
  const w: World = {
    ns,
    dir,
    repository,
    configFile,
    pidFile,
    cli: (...args) => ns.exec(BIN, ['-h', '127.0.0.1', '-p', '3390', ...args]),
    reconcile: (file, ...flags) =>
      ns.exec('env', [`MIRRORBITS_BIN=${BIN}`, 'MIRRORBITS_HOST=127.0.0.1', 'MIRRORBITS_PORT=3390', RECONCILER, ...flags, file]),
    request: (urlPath, headers = {}, method = 'HEAD') => {
      const hs0 = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
      const r = ns.exec('curl', ['-s', ...(method === 'HEAD' ? ['-I'] : ['-D', '-', '-X', method]), ...hs0, `http://127.0.0.1:8080${urlPath}`]);
      const [head, ...body] = r.stdout.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const hs: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        const k = l.slice(0, i).toLowerCase();
        hs[k] = hs[k] ? `${hs[k]}, ${l.slice(i + 1).trim()}` : l.slice(i + 1).trim();
      }
      return { status: Number(lines[0].split(' ')[1] ?? 0), headers: hs, body: body.join('\r\n\r\n') };
    },
    redis: (...args) => {
      const r = ns.exec('redis-cli', ['-h', '127.0.0.1', '-p', '6379', '--raw', ...args]);
      if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
    writeConfig: (extra = '') => fs.writeFileSync(configFile, configText({ dir, repository }, `${opts.extraConfig ?? ''}\n${extra}`)),
    daemon: undefined as unknown as ChildProcess,
    daemonLog: () => `${logs.join('')}${fs.existsSync(daemonLogFile) ? fs.readFileSync(daemonLogFile, 'utf8') : ''}`,
    stop: async () => {
      for (const c of [w.daemon, ...children]) if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      ns.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor('redis-server', () => ns.exec('redis-cli', ['-h', '127.0.0.1', 'ping']).stdout.includes('PONG'), 15_000, w.daemonLog);
    w.writeConfig();
    const env: string[] = [];
    if (opts.notify) {
      children.push(background(ns, '/usr/bin/python3', ['-c', NOTIFY_LISTENER, `${dir}/notify.sock`, `${dir}/notify.log`], logs));
      await waitFor('the notify listener', () => fs.existsSync(`${dir}/notify.sock`), 10_000);
      env.push(`NOTIFY_SOCKET=${dir}/notify.sock`);
    }
    w.daemon = background(ns, 'env', [...env, BIN, 'daemon', '-config', configFile, '-p', pidFile, '-log', daemonLogFile], logs);
    children.push(w.daemon);
    await waitFor(`${BACKEND} answering its CLI`, () => w.cli('list').status === 0, 30_000, w.daemonLog);
  } catch (e) {
    await w.stop();
    throw e;
  }
  return w;
}

/** Waits until `list` shows each named mirror in the given state ("up", "down", "disabled"). */
export async function waitForState(w: World, names: readonly string[], state: string, timeoutMs = 120_000): Promise<void> {
  const states = () => Object.fromEntries(w.cli('list').stdout.split('\n').slice(1).map((l) => l.split(/\s+/)).filter((f) => f[0]).map((f) => [f[0], f[1]]));
  await waitFor(`${names.join(', ')} ${state}`, () => names.every((n) => states()[n] === state), timeoutMs, () => `${w.cli('list').stdout}\n${w.daemonLog()}`);
}

/** mirrors.json as renderDesiredMirrors writes it, in the world's directory. */
export function writeDesired(w: World, name: string, mirrors: readonly object[]): string {
  const file = path.join(w.dir, name);
  fs.writeFileSync(file, `${JSON.stringify({ version: 1, mirrors }, null, 1)}\n`);
  return file;
}
