/*
 * npm run bench:scaled -- [--runs N] [--files N[,N...]] [--skip-synth] [--skip-walk]
 *
 * Two figures for the scaled redirector (docs/redirector-scaled.md):
 *
 * 1. `cdk synth` of examples/project.yaml with `profile: scaled` (the real CLI, cdk.json's app,
 *    cdk-nag and the ingress policy as a user runs them) against the obvious alternative, a bare
 *    CDK app with one ECS service (bench/scaled-bare-app.ts), N runs each, alternated:
 *      scaled-synth: scaled MIN..MAX (median M) bare MIN..MAX (median M) ratio R over N runs; load L
 *
 * 2. The EFS metadata cost of mirrorbits' repository walk. mirrorbits indexes its copy with Go's
 *    filepath.Walk (one lstat per entry, one directory read per directory) and one Redis HMGET per
 *    file, serially (scan/scan.go: ScanSource). The same walk runs here on a local file system and
 *    a local redis-server, on a synthetic repository tree of each size; it counts the operations,
 *    times them, and derives what the same walk costs on EFS and ElastiCache from the per-operation
 *    figures below (docs/adr/0067):
 *      walk-bench: files=F dirs=D lstat=L readdir=R local=T (redis T2) efs-expected=A..B s ratio=X..Y metadata-read=G GB $C per walk; load L
 *
 * Run it alone: flock /tmp/mirrorfleet-bench.lock npm run bench:scaled
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { median } from './common';

const REPO = path.join(__dirname, '..');
const CDK = path.join(REPO, 'node_modules', '.bin', 'cdk');
const args = process.argv.slice(2);
const option = (name: string, fallback: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const RUNS = Number(option('--runs', '3'));
const SIZES = option('--files', '20000,100000').split(',').map(Number);
if (!Number.isInteger(RUNS) || RUNS < 1 || SIZES.some((n) => !Number.isInteger(n) || n < 100)) {
  console.error('usage: npm run bench:scaled -- [--runs N] [--files N[,N...]] [--skip-synth] [--skip-walk]');
  process.exit(2);
}

/**
 * EFS, General Purpose: "sub-millisecond or low single-digit millisecond" latency per operation
 * (AWS's EFS performance page); a serial walk waits for each. Elastic throughput meters a metadata
 * operation as at least 4 KiB read (AWS re:Post, "How do I estimate Elastic Throughput mode costs",
 * 2025) at $0.03 per GB read (us-east-1). ElastiCache inside a region: about half a millisecond a round trip.
 */
const EFS_OP_SECONDS = { low: 0.0005, high: 0.002 };
const REDIS_RTT_SECONDS = 0.0005;
const METADATA_BYTES = 4096;
const EFS_READ_USD_PER_GB = 0.03;

const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
const secs = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e9;

function synthOnce(extra: string[], env: NodeJS.ProcessEnv = {}): number {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'scaled-bench-out-'));
  const t = process.hrtime.bigint();
  const r = spawnSync(CDK, ['synth', '--quiet', '-o', out, ...extra], { cwd: REPO, encoding: 'utf8', env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', ...env } });
  const s = secs(t);
  fs.rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`cdk synth ${extra.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return s;
}

function benchSynth(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scaled-bench-project-'));
  fs.writeFileSync(path.join(dir, 'project.yaml'), fs.readFileSync(path.join(REPO, 'examples', 'project.yaml'), 'utf8').replace('  profile: single\n', '  profile: scaled\n'));
  fs.copyFileSync(path.join(REPO, 'examples', 'mirrors.yaml'), path.join(dir, 'mirrors.yaml'));
  const scaled: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    scaled.push(synthOnce(['-c', `project=${path.join(dir, 'project.yaml')}`]));
    bare.push(synthOnce(['-a', 'npx ts-node --transpile-only --prefer-ts-exts bench/scaled-bare-app.ts']));
    console.log(`  run ${i + 1}: scaled ${scaled[i].toFixed(2)} s, bare ${bare[i].toFixed(2)} s (load ${load()})`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const span = (xs: number[]) => `${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)} s (median ${median(xs).toFixed(2)} s)`;
  console.log(`scaled-synth: scaled ${span(scaled)} bare ${span(bare)} ratio ${(median(scaled) / median(bare)).toFixed(2)} over ${RUNS} runs; load ${load()}`);
}

/** A repository shaped like a distribution's: releases × repositories × architectures, Packages/ and repodata/. */
function buildTree(root: string, files: number): void {
  const repos: string[] = [];
  for (const rel of ['8.2', '8.3', '9.0']) for (const repo of ['base', 'updates', 'testing', 'candidates']) for (const arch of ['x86_64', 'Source']) repos.push(`${rel}/${repo}/${arch}`);
  const per = Math.ceil(files / repos.length);
  let made = 0;
  for (const repo of repos) {
    fs.mkdirSync(path.join(root, repo, 'Packages'), { recursive: true });
    fs.mkdirSync(path.join(root, repo, 'repodata'), { recursive: true });
    for (const f of ['repomd.xml', 'primary.xml.gz', 'filelists.xml.gz', 'other.xml.gz']) fs.writeFileSync(path.join(root, repo, 'repodata', f), f);
    for (let i = 0; i < per && made < files; i++, made++) fs.writeFileSync(path.join(root, repo, 'Packages', `pkg-${i}-1.0-${i % 7}.el8.rpm`), 'x');
  }
}

/** Go's filepath.Walk: lstat the root, then per directory read its names, sort them, lstat each. */
function walk(root: string, onFile: (rel: string, size: number) => void): { lstat: number; readdir: number; dirs: number; files: number } {
  const n = { lstat: 1, readdir: 0, dirs: 0, files: 0 };
  const visit = (dir: string) => {
    n.dirs++;
    n.readdir++;
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = fs.lstatSync(p);
      n.lstat++;
      if (st.isSymbolicLink()) continue;
      if (st.isDirectory()) visit(p);
      else { n.files++; onFile(path.relative(root, p), st.size); }
    }
  };
  fs.lstatSync(root);
  visit(root);
  return n;
}

/** One RESP request at a time, as mirrorbits' walk sends them. */
class Redis {
  private buf = '';
  private lines = 0;
  private waiting?: () => void;
  constructor(private readonly sock: net.Socket) {
    sock.on('data', (d) => { this.buf += d.toString('latin1'); if (this.replyComplete()) { const w = this.waiting; this.waiting = undefined; w?.(); } });
  }
  static connect(port: number) { return new Promise<Redis>((resolve, reject) => { const s = net.connect(port, '127.0.0.1', () => resolve(new Redis(s))); s.on('error', reject); }); }
  /** The reply to HMGET of keys that do not exist: the array header and one nil per field. */
  private replyComplete(): boolean { return (this.buf.match(/\r\n/g) ?? []).length >= this.lines; }
  hmget(key: string, ...fields: string[]): Promise<void> {
    const parts = ['HMGET', key, ...fields];
    this.buf = '';
    this.lines = 1 + fields.length;
    return new Promise((resolve) => { this.waiting = resolve; this.sock.write(`*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`); });
  }
  close() { this.sock.destroy(); }
}

async function benchWalk(): Promise<void> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    let client: Redis | undefined;
    for (let i = 0; i < 50 && !client; i++) { try { client = await Redis.connect(port); } catch { await new Promise((r) => setTimeout(r, 100)); } }
    if (!client) throw new Error('redis-server did not start');
    for (const files of SIZES) {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'scaled-bench-tree-'));
      buildTree(root, files);
      walk(root, () => undefined); // warm the cache: every figure below is a warm walk
      const times: number[] = [];
      let counts = walk(root, () => undefined);
      for (let i = 0; i < RUNS; i++) { const t = process.hrtime.bigint(); counts = walk(root, () => undefined); times.push(secs(t)); }
      const keys: string[] = [];
      walk(root, (rel) => keys.push(`FILE_/${rel}`));
      const t = process.hrtime.bigint();
      for (const k of keys) await client.hmget(k, 'size', 'modTime', 'sha1', 'sha256', 'md5');
      const redisSeconds = secs(t);
      fs.rmSync(root, { recursive: true, force: true });
      const ops = counts.lstat + counts.readdir;
      const local = median(times);
      const efs = (perOp: number) => ops * perOp + counts.files * REDIS_RTT_SECONDS;
      const gb = (ops * METADATA_BYTES) / 1024 ** 3;
      console.log(`walk-bench: files=${counts.files} dirs=${counts.dirs} lstat=${counts.lstat} readdir=${counts.readdir} local=${local.toFixed(3)} s (redis ${redisSeconds.toFixed(3)} s) ` +
        `efs-expected=${efs(EFS_OP_SECONDS.low).toFixed(0)}..${efs(EFS_OP_SECONDS.high).toFixed(0)} s ratio=${(efs(EFS_OP_SECONDS.low) / (local + redisSeconds)).toFixed(0)}..${(efs(EFS_OP_SECONDS.high) / (local + redisSeconds)).toFixed(0)} ` +
        `metadata-read=${gb.toFixed(3)} GB $${(gb * EFS_READ_USD_PER_GB).toFixed(4)} per walk; load ${load()}`);
    }
    client.close();
  } finally {
    redis.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  if (!args.includes('--skip-synth')) benchSynth();
  if (!args.includes('--skip-walk')) await benchWalk();
}

main().catch((e) => { console.error(e); process.exit(1); });
