import { spawn, SpawnOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { SYNC_GROUP, SYNC_USER, TIER1_USER } from '../../lib/render/layout';
import { waitForPort } from './ports';
import { run } from './tools';

/** A real `rsync --daemon --no-detach` started from a config file; `stop()` ends it. */
export interface TestRsyncd {
  readonly port: number;
  readonly configFile: string;
  /** The daemon's own stdout/stderr and its log file (if the config names one), for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Writes `content` to `configFile` and starts the real daemon on it. The port comes from the
 * file's `port =` line (as on a node); readiness is "accepts TCP on 127.0.0.1:port".
 */
export async function startRsyncd(configFile: string, content: string): Promise<TestRsyncd> {
  const m = /^port = (\d+)$/m.exec(content);
  if (!m) throw new Error(`${configFile}: no "port =" line`);
  const port = Number(m[1]);
  for (const key of ['pid file', 'lock file', 'log file']) {
    const v = new RegExp(`^${key} = (.+)$`, 'm').exec(content);
    if (v) fs.mkdirSync(path.dirname(v[1]), { recursive: true });
  }
  fs.mkdirSync(path.dirname(configFile), { recursive: true });
  fs.writeFileSync(configFile, content);
  const logFile = /^log file = (.+)$/m.exec(content)?.[1];

  let output = '';
  const child = spawn('rsync', ['--daemon', '--no-detach', `--config=${configFile}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const logs = () => `${output}${logFile && fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await Promise.race([
      waitForPort(port, '127.0.0.1', 5000),
      exited.then(() => {
        throw new Error(`rsync daemon exited at start (${child.exitCode})`);
      }),
    ]);
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n${logs()}`);
  }
  return { port, configFile, logs, stop };
}

/**
 * The system accounts a node gets from cloud-init (N17): group `mirror`, the sync user `mirror`
 * and the tier-1 daemon's `mirror-tier1`. Created here when missing and left in place
 * (idempotent), so the daemons run with the rendered uid/gid directives unchanged.
 */
export function ensureMirrorAccounts(): void {
  const exists = (db: string, name: string) => run('getent', [db, name]).status === 0;
  // Jest runs test files in parallel: another worker may be creating the same account (or
  // holding /etc/passwd's lock), so a failure counts only if the account is still missing.
  const ensure = (db: string, name: string, cmd: string, args: string[]) => {
    let last = '';
    for (let attempt = 0; attempt < 20 && !exists(db, name); attempt++) {
      const r = run(cmd, args);
      last = r.stderr;
      if (r.status !== 0) run('sleep', ['0.1']);
    }
    if (!exists(db, name)) throw new Error(`${cmd} ${args.join(' ')}: ${last} (the rsync tests need root to create the mirror accounts)`);
  };
  ensure('group', SYNC_GROUP, 'groupadd', ['--system', SYNC_GROUP]);
  for (const user of [SYNC_USER, TIER1_USER]) {
    ensure('passwd', user, 'useradd', ['--system', '-g', SYNC_GROUP, '-M', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', user]);
  }
}

/** uid and gid of a user (and its primary group). */
export function idsOf(user: string): { uid: number; gid: number } {
  const f = run('getent', ['passwd', user]).stdout.split(':');
  if (f.length < 4) throw new Error(`no user ${user}`);
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

export function gidOf(group: string): number {
  const f = run('getent', ['group', group]).stdout.split(':');
  if (f.length < 3) throw new Error(`no group ${group}`);
  return Number(f[2]);
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `run()` without blocking the event loop: servers the test itself runs (a webhook receiver)
 * keep answering while the command runs.
 */
export function runAsync(cmd: string, args: readonly string[], opts: SpawnOptions = {}, timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Whether this host can listen on ::1 (some containers have IPv6 disabled). */
export function hasIpv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(0, '::1', () => s.close(() => resolve(true)));
  });
}

/**
 * Every file under `dir` (relative path → kind, mode, mtime and content hash, or link target), for comparing
 * two trees exactly. `skip` drops paths (and what is under them).
 */
export function snapshot(dir: string, skip: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip.some((s) => r === s || r.startsWith(`${s}/`))) continue;
      const p = path.join(dir, r);
      const st = fs.lstatSync(p);
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      if (st.isSymbolicLink()) out[r] = `link -> ${fs.readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${mode}`;
        walk(r);
      } else out[r] = `file ${mode} mtime=${Math.floor(st.mtimeMs / 1000)} sha256=${createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`;
    }
  };
  walk('');
  return out;
}
