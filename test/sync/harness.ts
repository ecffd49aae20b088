import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeConfig, TreeConfig } from '../../lib/config/node-config';
import { syncStateDir } from '../../lib/render/layout';
import { renderTreeConf } from '../../lib/render/tree-conf';
import { Example, REPO, exampleConfigAt, testLayout } from '../support/fixtures';
import { freePort } from '../support/ports';
import { RunResult, TestRsyncd, startRsyncd } from '../support/rsyncd';

/*
 * The sync engine's test bench: a real rsync daemon serving an upstream directory on loopback,
 * a tree config rendered from a mirror.yaml (renderTreeConf, as on a node), and mirror-sync run
 * as a process. Hooks are replaced by a recorder; test/daemons/sync.test.ts runs the real ones.
 */

export const REPO_ASSETS = path.join(REPO, 'assets');
export const SYNC = path.join(REPO_ASSETS, 'mirror-sync');
export const PUBLISH = path.join(REPO, 'assets', 'mirror-publish');

/** Writes files under `dir`: a string is the content, a number that many random bytes. */
export function writeFiles(dir: string, files: Record<string, string | number>, mtime?: number): void {
  for (const [rel, content] of Object.entries(files)) {
    const f = path.join(dir, rel);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, typeof content === 'number' ? crypto.randomBytes(content) : content);
    if (mtime !== undefined) fs.utimesSync(f, mtime, mtime);
  }
}

export interface Upstream {
  readonly dir: string;
  readonly url: string;
  daemon?: TestRsyncd;
  /** The daemon's log since it started (one "rsync on MODULE/PATH" line per request). */
  log(): string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** mirror-publish on the upstream tree: the master's step after new content lands (M2). */
  publish(list?: string): RunResult;
  /** The daemon's children: one per connection being served (to freeze one, as a hung master). */
  serving(): number[];
}

export async function startUpstream(root: string, name = 'repo', opts: { preXfer?: string } = {}): Promise<Upstream> {
  const dir = path.join(root, 'upstream', name);
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const logFile = path.join(root, 'upstream', 'rsyncd.log');
  const pidFile = path.join(root, 'upstream', 'rsyncd.pid');
  const preXfer = opts.preXfer ? `    pre-xfer exec = ${opts.preXfer}\n` : '';
  const conf = `port = ${port}\npid file = ${pidFile}\nlog file = ${logFile}\nuse chroot = no\nuid = root\ngid = root\nread only = yes\n\n[${name}]\n    path = ${dir}\n${preXfer}`;
  const up: Upstream = {
    dir,
    url: `rsync://127.0.0.1:${port}/${name}/`,
    serving: () => {
      const daemon = Number(fs.readFileSync(pidFile, 'utf8'));
      return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
        try {
          return Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]) === daemon;
        } catch {
          return false;
        }
      });
    },
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
    start: async () => {
      up.daemon = await startRsyncd(path.join(root, 'upstream', 'rsyncd.conf'), conf);
    },
    stop: async () => {
      await up.daemon?.stop();
      up.daemon = undefined;
    },
    publish: (list = `fullfiletimelist-${name}`) => runSync(PUBLISH, [dir, list, 'project/trace/master.example.org']),
  };
  await up.start();
  return up;
}

export interface Engine {
  readonly config: NodeConfig;
  readonly tree: TreeConfig;
  readonly conf: string;
  readonly state: string;
  /** node_exporter's textfile directory: the sync's and the hooks' .prom files. */
  readonly metricsDir: string;
  /** mirror-sync CONF [args], in its own process group (onSpawn gets its pid, for kill tests). */
  run(args?: string[], opts?: { conf?: string; onSpawn?: (pid: number) => void; env?: NodeJS.ProcessEnv }): Promise<RunResult>;
  metrics(): string;
  status(): Record<string, unknown>;
  /** The post-sync hook's calls so far (SYNC_STARTED..SYNC_BYTES of each). */
  hookCalls(): string[];
  /** A copy of the tree config with these variables changed (the same state, lock and tree). */
  variant(name: string, vars: Record<string, string | number>): string;
}

/**
 * A tree `repo` of a node from examples/xcp-ng.yaml (metadataLast: repodata/, .treeinfo,
 * SHA256SUMS*) or another example, with the tree keys given, under `mountPoint` (default
 * root/srv/mirror). Retries wait 1 s instead of 30; the hook is a recorder.
 */
export function engine(root: string, upstream: string, treeKeys: Record<string, unknown> = {}, opts: { mountPoint?: string; example?: Example } = {}): Engine {
  const mountPoint = opts.mountPoint ?? path.join(root, 'srv', 'mirror');
  // The example's preset tree under the name repo (the preset's rules follow the tree, not its name).
  const example = opts.example ?? 'xcp-ng';
  const config = exampleConfigAt(example, mountPoint, { trees: [{ name: 'repo', presetTree: example, upstream, ...treeKeys }], bitflips: [] });
  const layout = testLayout(root);
  const tree = config.trees[0];
  const hooks = path.join(root, 'hook-calls');
  const recorder = path.join(root, 'bin', 'post-sync-recorder');
  writeFiles(root, { 'bin/post-sync-recorder': `#!/bin/sh\necho "$SYNC_STARTED $SYNC_FINISHED $SYNC_BYTES $1" >>${hooks}\n` });
  fs.chmodSync(recorder, 0o755);
  const conf = path.join(layout.etcDir, 'trees', 'repo.conf');
  const write = (file: string, vars: Record<string, string | number>) => {
    const extra = Object.entries(vars).map(([k, v]) => `${k}=${v}`).join('\n');
    writeFiles(path.dirname(file), { [path.basename(file)]: `${renderTreeConf(config, layout, tree)}RETRY_DELAY=1\nPOST_SYNC=${recorder}\n${extra}\n` });
    return file;
  };
  write(conf, {});
  const state = syncStateDir(layout, 'repo');
  return {
    config,
    tree,
    conf,
    state,
    metricsDir: layout.metricsDir,
    run: (args = [], opts = {}) => runAsync(SYNC, [opts.conf ?? conf, ...args], opts.onSpawn, opts.env),
    metrics: () => fs.readFileSync(path.join(layout.metricsDir, 'mirrorfleet_sync_repo.prom'), 'utf8'),
    status: () => JSON.parse(fs.readFileSync(path.join(state, 'status.json'), 'utf8')),
    hookCalls: () => (fs.existsSync(hooks) ? fs.readFileSync(hooks, 'utf8').split('\n').filter(Boolean) : []),
    variant: (name, vars) => write(path.join(layout.etcDir, 'trees', `${name}.conf`), vars),
  };
}

export function runSync(cmd: string, args: string[]): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A command in its own process group (so a test can kill all of it), output collected. */
export function runAsync(cmd: string, args: string[], onSpawn?: (pid: number) => void, env?: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    if (onSpawn) onSpawn(child.pid!);
  });
}

export const out = (r: RunResult) => `${r.stdout}${r.stderr}`;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `cond` holds (or fails after `ms`). */
export async function until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  for (const deadline = Date.now() + ms; !cond(); await sleep(10)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

/** Files of the work directory of the last run that went past its checks (plan.log = a dry run). */
export const runFiles = (e: Engine) => fs.readdirSync(path.join(e.state, 'run')).sort();
/** The work directory with its files' times: a run that stopped at its checks leaves it as it was. */
export const runState = (e: Engine) => runFiles(e).map((f) => `${f} ${fs.statSync(path.join(e.state, 'run', f)).mtimeMs}`);
