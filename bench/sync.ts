/*
 * npm run bench:sync -- [--files N] [--scaling] [--no-nodelay] [--keep]
 *
 * The sync engine against the guides' command, in the same run, on the same loopback rsync
 * daemon: a synthetic tree of N files (default 100,000) shaped like a Fedora tree (releases and
 * updates, per-letter Packages directories, repodata), published with mirror-publish (the
 * master's step, M2). Timed: plain `rsync -rlpt --delete-delay` and `mirror-sync` (strategy
 * filelist) for (a) a no-change sync and (b) a sync after 1% of the files changed. Both copies
 * are checked against upstream afterwards. Before each timed run the page cache is written out
 * (`sync`), for both tools alike. --scaling adds the no-change series at 10,000,
 * 100,000 and 1,000,000 files. The daemon sets `socket options = TCP_NODELAY` (as a master
 * should: without it each small protocol message can wait 40 ms for a delayed ACK, which costs
 * both clients); --no-nodelay runs it with rsync's defaults. The last line is
 *   sync-bench: files=N nochange_ratio=R1 changed_ratio=R2     (ratio = plain time / engine time)
 * Needs root (the daemon runs as root), rsync, flock and a few GB of disk at 1,000,000 files.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseConfig } from '../lib/config/load';
import { NODE_LAYOUT, NodeLayout } from '../lib/render/layout';
import { renderTreeConf } from '../lib/render/tree-conf';
import { median } from './common';

const ASSETS = path.join(__dirname, '..', 'assets');
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const FILES = option('--files', 100_000);
/** Samples per figure: a no-change run takes ~15 ms, so one busy moment on the host moves it. */
const NOCHANGE_RUNS = 9;
const ROUNDS = 7;
if (!Number.isInteger(FILES) || FILES < 1000) {
  console.error('usage: npm run bench:sync -- [--files N (at least 1000)] [--scaling] [--no-nodelay] [--keep]');
  process.exit(2);
}

/** A small deterministic PRNG: the same tree for the same N. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 2246822519) + 0x9e3779b9) >>> 0) / 2 ** 32);
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const WORDS = ['libfoo', 'python3-bar', 'kernel-modules', 'texlive-baz', 'golang-github-qux', 'rust-crate', 'perl-Some-Module', 'ghc-lens', 'nodejs-left-pad', 'glibc-langpack'];

/** Package paths: 5 releases x 2 arches x (release, updates) repositories, N files in all. */
function layoutOf(n: number): { repos: string[]; files: string[] } {
  const repos: string[] = [];
  for (const ver of [40, 41, 42, 43, 44]) {
    for (const arch of ['x86_64', 'aarch64']) {
      repos.push(`linux/releases/${ver}/Everything/${arch}/os`, `linux/updates/${ver}/Everything/${arch}`);
    }
  }
  const files: string[] = [];
  const perRepo = Math.ceil(n / repos.length);
  for (const [r, repo] of repos.entries()) {
    const ver = repo.split('/')[2];
    const arch = repo.includes('aarch64') ? 'aarch64' : 'x86_64';
    for (let i = 0; i < perRepo && files.length < n - repos.length * 2; i++) {
      const word = WORDS[(i + r) % WORDS.length];
      files.push(`${repo}/Packages/${LETTERS[i % 26]}/${word}-${i}-${(i * 7) % 13}.${i % 5}-1.fc${ver}.${arch}.rpm`);
    }
  }
  return { repos, files };
}

function writeFile(root: string, rel: string, size: number, rnd: () => number, mtime?: number) {
  const f = path.join(root, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) buf.writeUInt32LE((rnd() * 2 ** 32) >>> 0, Math.min(i, size - 4));
  fs.writeFileSync(f, buf);
  if (mtime) fs.utimesSync(f, mtime, mtime);
}

/** The upstream tree: N files in all, packages of 200-1500 bytes, two metadata files per repo. */
function buildTree(root: string, n: number) {
  const rnd = prng(n);
  const { repos, files } = layoutOf(n);
  const old = Math.floor(Date.now() / 1000) - 86_400;
  for (const f of files) writeFile(root, f, 200 + Math.floor(rnd() * 1300), rnd, old);
  for (const repo of repos) {
    writeFile(root, `${repo}/repodata/0123abcd-primary.xml.zck`, 4000, rnd, old);
    fs.writeFileSync(path.join(root, repo, 'repodata/repomd.xml'), `<repomd><revision>${old}</revision></repomd>\n`);
    fs.utimesSync(path.join(root, repo, 'repodata/repomd.xml'), old, old);
  }
  return { repos, files };
}

/**
 * 1% of the files change (other ones each round): half rewritten, a quarter added, a quarter
 * removed; repomd.xml follows. Each round's files carry their own time (a minute apart), so a
 * rewrite within the same second as the last round still looks changed to rsync's quick check.
 */
function changeOnePercent(root: string, files: string[], repos: string[], round: number) {
  const rnd = prng(42 + round);
  const mtime = Math.floor(Date.now() / 1000) - 3600 + 60 * round;
  const k = Math.max(4, Math.floor(files.length / 100));
  const step = Math.floor(files.length / k);
  const touched = new Set<string>();
  for (let j = 0; j < k; j++) {
    const f = files[j * step + round];
    const repo = repos.find((r) => f.startsWith(`${r}/`))!;
    touched.add(repo);
    if (j % 4 < 2) writeFile(root, f, 200 + Math.floor(rnd() * 1300), rnd, mtime);
    else if (j % 4 === 2) writeFile(root, f.replace(/\.rpm$/, '.new.rpm'), 900, rnd, mtime);
    else fs.rmSync(path.join(root, f));
  }
  for (const repo of touched) {
    const repomd = path.join(root, repo, 'repodata/repomd.xml');
    fs.writeFileSync(repomd, `<repomd><revision>${mtime}</revision></repomd>\n`);
    fs.utimesSync(repomd, mtime, mtime);
  }
  return { changed: k, repos: touched.size };
}

function sh(cmd: string, argv: string[], env?: NodeJS.ProcessEnv) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env: env ?? process.env, maxBuffer: 1 << 28 });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return { seconds, stdout: r.stdout, stderr: r.stderr };
}

const fmt = (s: number) => `${s.toFixed(3)} s`;

/**
 * A timed sync, after the page cache is written out: neither tool pays for writing back what the
 * step before it left (the master's publishing, the other tool's sync); on a mirror, syncs are
 * hours apart. Both tools are timed through here.
 */
function timedSync(cmd: string, argv: string[], env?: NodeJS.ProcessEnv) {
  spawnSync('sync');
  return sh(cmd, argv, env);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Every entry below `dir`: directories by name, the rest as "path type size mtime"; the lists and traces left out. */
function listing(dir: string): string {
  const find = ['-mindepth', '1', '(', '-path', `${dir}/project`, '-o', '-name', 'fullfiletimelist-*', ')', '-prune', '-o'];
  return sh('find', [dir, ...find, '-type', 'd', '-printf', '%P/\n', '-o', '-printf', '%P %y %s %T@\n']).stdout.split('\n').sort().join('\n');
}

interface Setup {
  work: string;
  up: string;
  plain: string;
  conf: string;
  engineTree: string;
  stateDir: string;
  url: string;
  stop(): Promise<void>;
  built: { repos: string[]; files: string[] };
  times: { build: number; publish: number; plainInitial: number; engineInitial: number };
}

async function setup(n: number): Promise<Setup> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `mirrorfleet-bench-sync-${n}-`));
  const up = path.join(work, 'upstream', 'bench');
  let t = Date.now();
  const built = buildTree(up, n);
  const build = (Date.now() - t) / 1000;
  const publish = sh(path.join(ASSETS, 'mirror-publish'), [up, 'fullfiletimelist-bench', 'project/trace/master.example.org']).seconds;

  const port = await freePort();
  const rsyncdConf = path.join(work, 'rsyncd.conf');
  const nodelay = flag('--no-nodelay') ? '' : 'socket options = TCP_NODELAY\n';
  fs.writeFileSync(rsyncdConf, `port = ${port}\naddress = 127.0.0.1\n${nodelay}use chroot = no\nuid = root\ngid = root\nread only = yes\nlog file = ${work}/rsyncd.log\n\n[bench]\n    path = ${up}\n`);
  const daemon = spawn('rsync', ['--daemon', '--no-detach', `--config=${rsyncdConf}`], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (spawnSync('rsync', [`rsync://127.0.0.1:${port}/`], { stdio: 'ignore' }).status === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = `rsync://127.0.0.1:${port}/bench/`;

  // The engine's tree config, rendered from a mirror.yaml as on a node (layout under `work`).
  const mount = path.join(work, 'mirror');
  const config = parseConfig(`preset: custom
hostname: bench.example.org
admin: { name: Bench, email: bench@example.org }
site: { city: Lyon, country: FR }
bandwidthMbps: 1000
storage: { mountPoint: ${mount}, sizeGiB: 100 }
trees:
  - name: bench
    upstream: ${url}
    strategy: filelist
    fileList: fullfiletimelist-bench
`);
  const layout: NodeLayout = { ...NODE_LAYOUT, etcDir: `${work}/etc`, stateDir: `${work}/state`, metricsDir: `${work}/metrics`, binDir: ASSETS };
  const conf = path.join(work, 'bench.conf');
  fs.writeFileSync(conf, renderTreeConf(config, layout, config.trees[0]));

  const plain = path.join(work, 'plain');
  fs.mkdirSync(plain);
  t = Date.now();
  sh('rsync', ['-rlpt', '--delete-delay', url, `${plain}/`]);
  const plainInitial = (Date.now() - t) / 1000;
  const engineInitial = sh(path.join(ASSETS, 'mirror-sync'), [conf]).seconds;
  return {
    work, up, plain, conf, url, built,
    engineTree: config.trees[0].path,
    stateDir: `${work}/state/sync/bench`,
    stop: () => new Promise<void>((resolve) => {
      if (daemon.exitCode !== null) return resolve();
      daemon.once('exit', () => resolve());
      daemon.kill();
    }),
    times: { build, publish, plainInitial, engineInitial },
  };
}

/**
 * No-change syncs: the median of NOCHANGE_RUNS runs each, plain rsync and mirror-sync alternating. With
 * MIRROR_SYNC_TIMING, mirror-sync says where its time went (microseconds): reading its file and
 * taking the lock (a flock process), the check (one rsync --list-only), the record (metrics and
 * status.json, one rename.ul); the rest of the wall time is starting and ending the process.
 */
function noChange(s: Setup) {
  const plain: number[] = [];
  const engine: number[] = [];
  const phases: Record<string, number[]> = {};
  for (let i = 0; i < NOCHANGE_RUNS; i++) {
    plain.push(timedSync('rsync', ['-rlpt', '--delete-delay', s.url, `${s.plain}/`]).seconds);
    const r = timedSync(path.join(ASSETS, 'mirror-sync'), [s.conf], { ...process.env, MIRROR_SYNC_TIMING: '1' });
    if (!r.stdout.includes('unchanged:')) throw new Error(`mirror-sync did a sync where nothing changed:\n${r.stdout}`);
    engine.push(r.seconds);
    const t = /mirror-sync-timing: (\S+) (\S+) (\S+) (\S+)/.exec(r.stderr)!.slice(1).map(Number);
    const phase = (k: string, seconds: number) => (phases[k] ??= []).push(seconds);
    phase('conf+lock', t[1] - t[0]);
    phase('check', t[2] - t[1]);
    phase('record', t[3] - t[2]);
    phase('process start and exit', r.seconds - (t[3] - t[0]));
  }
  const breakdown = ['process start and exit', 'conf+lock', 'check', 'record'].map((k) => `${k} ${(median(phases[k]) * 1000).toFixed(1)} ms`).join(', ');
  return { plain: median(plain), engine: median(engine), range: [Math.min(...engine), Math.max(...engine)], breakdown };
}

/** The median time of 9 starts of a small command: what each process a run starts costs here. */
function floor(cmd: string, argv: string[]): number {
  return median(Array.from({ length: 9 }, () => sh(cmd, argv).seconds));
}

async function cleanup(s: Setup) {
  await s.stop(); // the daemon writes its log as it exits
  if (!flag('--keep')) fs.rmSync(s.work, { recursive: true, force: true, maxRetries: 3 });
}

async function main() {
  const rsyncVersion = sh('rsync', ['--version']).stdout.split('\n')[0].split(/\s+/)[2];
  console.log(`sync-bench: ${FILES} files, ${os.cpus().length} cores, rsync ${rsyncVersion}, daemon ${flag('--no-nodelay') ? 'with default socket options' : 'with TCP_NODELAY'}, load average ${os.loadavg()[0].toFixed(2)}`);
  const s = await setup(FILES);
  console.log(`  tree built in ${s.times.build.toFixed(1)} s; mirror-publish (master side, once per change): ${fmt(s.times.publish)}`);
  console.log(`  initial sync from empty: plain rsync ${fmt(s.times.plainInitial)}, mirror-sync ${fmt(s.times.engineInitial)}`);

  const a = noChange(s);
  const r1 = a.plain / a.engine;
  console.log(`(a) no change:   plain rsync ${fmt(a.plain)}   mirror-sync ${fmt(a.engine)}   ratio ${r1.toFixed(1)}`);
  console.log(`    mirror-sync's no-change time (medians; its ${NOCHANGE_RUNS} runs took ${fmt(a.range[0])} to ${fmt(a.range[1])}): ${a.breakdown}`);
  console.log(`    for scale, in this run: a process start (bash -c :) ${(floor('bash', ['-c', ':']) * 1000).toFixed(1)} ms, rsync --version ${(floor('rsync', ['--version']) * 1000).toFixed(1)} ms, flock -n ${(floor('flock', ['-n', path.join(s.work, 'floor.lock'), 'true']) * 1000).toFixed(1)} ms`);

  // ROUNDS rounds, each a new 1% change published by the master, then both syncs (which goes first
  // alternates: neither always reads upstream's files while the other left them cached); medians.
  const rounds: { plain: number; engine: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const change = changeOnePercent(s.up, s.built.files, s.built.repos, round);
    const publish = sh(path.join(ASSETS, 'mirror-publish'), [s.up, 'fullfiletimelist-bench', 'project/trace/master.example.org']).seconds;
    const plainFirst = round % 2 === 0;
    const engine = () => timedSync(path.join(ASSETS, 'mirror-sync'), [s.conf]);
    const engineBefore = plainFirst ? undefined : engine();
    const plainRun = timedSync('rsync', ['-rlpt', '--delete-delay', '--stats', s.url, `${s.plain}/`]);
    const engineRun = engineBefore ?? engine();
    rounds.push({ plain: plainRun.seconds, engine: engineRun.seconds });
    const plainFiles = Number(/^Number of regular files transferred: ([\d,]+)/m.exec(plainRun.stdout)![1].replace(/,/g, ''));
    const status = JSON.parse(fs.readFileSync(path.join(s.stateDir, 'status.json'), 'utf8'));
    console.log(`    round ${round + 1}: ${change.changed} packages changed (rewritten, added, removed) in ${change.repos} repositories (repomd.xml too), published in ${fmt(publish)}; ` +
      `plain rsync ${fmt(plainRun.seconds)} (${plainFiles} files), mirror-sync ${fmt(engineRun.seconds)} (${status.files} files, ${status.deleted} deleted)`);
    const expected = listing(s.up);
    for (const [name, dir] of [['plain rsync', s.plain], ['mirror-sync', s.engineTree]]) {
      if (listing(dir) !== expected) throw new Error(`${name}'s copy differs from upstream`);
    }
  }
  const b = { plain: median(rounds.map((r) => r.plain)), engine: median(rounds.map((r) => r.engine)) };
  const r2 = b.plain / b.engine;
  console.log(`(b) 1% changed:  plain rsync ${fmt(b.plain)}   mirror-sync ${fmt(b.engine)}   ratio ${r2.toFixed(2)}   (medians of ${ROUNDS} rounds; both copies equal upstream after each)`);
  await cleanup(s);

  if (flag('--scaling')) {
    console.log(`scaling of the no-change sync (median of ${NOCHANGE_RUNS}):`);
    for (const n of [10_000, 100_000, 1_000_000]) {
      const t = await setup(n);
      const m = noChange(t);
      console.log(`  files=${n}: plain rsync ${fmt(m.plain)}   mirror-sync ${fmt(m.engine)}   ratio ${(m.plain / m.engine).toFixed(1)}   (build ${t.times.build.toFixed(0)} s, publish ${fmt(t.times.publish)}, initial ${fmt(t.times.plainInitial)} / ${fmt(t.times.engineInitial)})`);
      await cleanup(t);
    }
  }
  console.log(`sync-bench: files=${FILES} nochange_ratio=${r1.toFixed(1)} changed_ratio=${r2.toFixed(2)}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
