/*
 * npm run bench:serve -- [--runs N] [--duration S] [--only 4k@500,1m@50,4k@2000]
 *
 * The rendered Apache config against Debian's default one, in the same run, on the same
 * machine, with wrk on loopback. Three servers serve the same files:
 *   rendered  the fedora example's tuning, ports and site as mirrorfleet-apache-setup installs
 *             them (1000 Mbit/s: MaxRequestWorkers 500 in 20 processes, all started, ServerLimit 40)
 *   previous  the same with the MPM block as it was before (StartServers 2, ServerLimit 20,
 *             MaxSpareThreads 125): what starting every process changes
 *   default   a pristine copy of /etc/apache2 (event MPM, StartServers 2, MaxRequestWorkers 150,
 *             KeepAliveTimeout 5) with only its port, run/log paths and DocumentRoot changed
 * Workloads, each with keep-alive connections for S seconds (default 8):
 *   4k@500   a 4 KB file, 500 connections (metadata, small packages)
 *   1m@50    a 1 MB file, 50 connections (downloads)
 *   4k@2000  a 4 KB file, 2000 connections (a burst beyond MaxRequestWorkers)
 * Each run starts the servers afresh (as after a boot or deploy) and measures them in turn (the
 * order rotates between runs); it prints requests/s, non-2xx responses and wrk's socket errors
 * (mostly connections the server closed) of each, the ratios and the 1-minute load average
 * before each measurement (the servers' own threads count in it). The last lines are
 *   serve-bench: <workload> rendered/default MIN..MAX (median M), rendered/previous-MPM ... over N runs;
 *     median errors (socket + non-2xx): rendered E1, previous E2, default E3
 * Needs root (Apache drops to www-data), apache2, curl and wrk (scripts/install-test-deps).
 * Run it alone: flock /tmp/mirrorfleet-bench.lock npm run bench:serve
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WrkResult, load, median, option, parseWrk } from './common';
import { startApache } from '../test/support/apache';
import { exampleConfigAt, testLayout } from '../test/support/fixtures';
import { freePort, waitForPort } from '../test/support/ports';

const RUNS = Number(option('--runs', '3'));
const DURATION = Number(option('--duration', '8'));
const ONLY = option('--only', '').split(',').filter(Boolean);
const WORKLOADS = [
  { name: '4k@500', file: 'f4k.bin', connections: 500 },
  { name: '1m@50', file: 'f1m.bin', connections: 50 },
  { name: '4k@2000', file: 'f4k.bin', connections: 2000 },
].filter((w) => ONLY.length === 0 || ONLY.includes(w.name));
if (!Number.isInteger(RUNS) || RUNS < 1 || !(DURATION >= 1) || WORKLOADS.length === 0) {
  console.error('usage: npm run bench:serve -- [--runs N] [--duration S] [--only 4k@500,1m@50,4k@2000]');
  process.exit(2);
}
for (const tool of ['apache2ctl', 'wrk']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`serve-bench: needs ${tool} (scripts/install-test-deps)`);
    process.exit(2);
  }
}

interface Server {
  readonly name: 'rendered' | 'previous' | 'default';
  readonly port: number;
  /** URL path of a file by name. */
  url(file: string): string;
  /** Resident memory of all its processes, MiB, and how many there are. */
  rss(): { mib: number; processes: number };
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function writeFiles(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'f4k.bin'), Buffer.alloc(4096, 7), { mode: 0o644 });
  fs.writeFileSync(path.join(dir, 'f1m.bin'), Buffer.alloc(1 << 20, 7), { mode: 0o644 });
}

/** Sum of RSS over the process group Apache leads (its pid file names the leader). */
function groupRss(pidFile: string): { mib: number; processes: number } {
  const pid = fs.readFileSync(pidFile, 'utf8').trim();
  const ps = spawnSync('ps', ['-o', 'rss=', '-g', pid], { encoding: 'utf8' }).stdout.trim().split(/\s+/).filter(Boolean).map(Number);
  return { mib: ps.reduce((a, b) => a + b, 0) / 1024, processes: ps.length };
}

/**
 * The MPM block before it started every process (StartServers 2, ServerLimit = the processes,
 * MaxSpareThreads a quarter of the pool): the rendered config otherwise, to show what that change does.
 */
function previousMpm(tuning: string): string {
  const set = (t: string, name: string, v: number) => t.replace(new RegExp(`^(\\s*${name}\\s+)\\d+$`, 'm'), `$1${v}`);
  const workers = Number(/^\s*MaxRequestWorkers\s+(\d+)$/m.exec(tuning)![1]);
  const processes = workers / 25;
  return set(set(set(tuning, 'StartServers', 2), 'ServerLimit', Math.max(16, processes)), 'MaxSpareThreads', Math.max(75, Math.ceil(workers / 4 / 25) * 25));
}

async function startRendered(root: string, variant: 'rendered' | 'previous' = 'rendered'): Promise<Server> {
  const port = await freePort();
  const config = exampleConfigAt('fedora', `${root}/srv/mirror`);
  const layout = { ...testLayout(root, { http: port }), httpListen: [`127.0.0.1:${port}`], httpsListen: [`127.0.0.1:${await freePort()}`] };
  const tree = config.trees[0];
  writeFiles(tree.path);
  const apache = await startApache(config, layout);
  if (variant === 'previous') {
    // ServerLimit is read at a cold start only: stop, rewrite the MPM block, start.
    const conf = `${apache.confDir}/conf-available/mirrorfleet.conf`;
    const pid = fs.readFileSync(apache.pidFile, 'utf8').trim();
    apache.ctl('stop');
    for (const deadline = Date.now() + 10_000; fs.existsSync(`/proc/${pid}`) && Date.now() < deadline; ) await sleep(50);
    fs.writeFileSync(conf, previousMpm(fs.readFileSync(conf, 'utf8')));
    const start = apache.ctl('start');
    if (start.status !== 0) throw new Error(`previous MPM: apache2ctl start: ${start.stdout}${start.stderr}`);
    await waitForPort(port);
    for (const deadline = Date.now() + 10_000; !fs.existsSync(apache.pidFile) && Date.now() < deadline; ) await sleep(20);
  }
  return { name: variant, port, url: (f) => `${tree.urlPath}${f}`, rss: () => groupRss(apache.pidFile), stop: () => apache.stop() };
}

/** Debian's /etc/apache2 as installed: only the port, the run/log paths and the DocumentRoot differ. */
async function startDefault(root: string): Promise<Server> {
  const port = await freePort();
  const confDir = `${root}/etc/apache2`;
  const docRoot = `${root}/www`;
  writeFiles(docRoot);
  fs.chmodSync(root, 0o755);
  fs.mkdirSync(`${root}/etc`, { recursive: true, mode: 0o755 });
  const cp = spawnSync('cp', ['-a', '/etc/apache2', confDir], { encoding: 'utf8' });
  if (cp.status !== 0) throw new Error(`cp -a /etc/apache2: ${cp.stderr}`);
  fs.writeFileSync(`${confDir}/ports.conf`, `Listen 127.0.0.1:${port}\n`);
  const site = `${confDir}/sites-available/000-default.conf`;
  const text = fs.readFileSync(site, 'utf8').replace('<VirtualHost *:80>', `<VirtualHost *:${port}>`).replace(/DocumentRoot \S+/, `DocumentRoot ${docRoot}`);
  fs.writeFileSync(site, `${text}\n<Directory ${docRoot}>\n\tRequire all granted\n</Directory>\n`);
  const vars: Record<string, string> = {
    APACHE_PID_FILE: `${root}/run/apache2/apache2.pid`,
    APACHE_RUN_DIR: `${root}/run/apache2`,
    APACHE_LOCK_DIR: `${root}/var/lock/apache2`,
    APACHE_LOG_DIR: `${root}/var/log/apache2`,
  };
  let envvars = fs.readFileSync(`${confDir}/envvars`, 'utf8');
  for (const [k, v] of Object.entries(vars)) {
    fs.mkdirSync(k === 'APACHE_PID_FILE' ? path.dirname(v) : v, { recursive: true });
    envvars = envvars.replace(new RegExp(`^export ${k}=.*$`, 'm'), `export ${k}=${v}`);
  }
  fs.writeFileSync(`${confDir}/envvars`, envvars);
  const env = { ...process.env, APACHE_CONFDIR: confDir, APACHE_STARTED_BY_SYSTEMD: '1' };
  const ctl = (a: string) => spawnSync('apache2ctl', [a], { env, encoding: 'utf8' });
  const start = ctl('start');
  if (start.status !== 0) throw new Error(`default apache2ctl start: ${start.stdout}${start.stderr}`);
  await waitForPort(port);
  for (const deadline = Date.now() + 10_000; !fs.existsSync(vars.APACHE_PID_FILE) && Date.now() < deadline; ) await sleep(20);
  const pidFile = vars.APACHE_PID_FILE;
  const stop = async () => {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    ctl('stop');
    for (const deadline = Date.now() + 10_000; fs.existsSync(`/proc/${pid}`) && Date.now() < deadline; ) await sleep(50);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  };
  return { name: 'default', port, url: (f) => `/${f}`, rss: () => groupRss(pidFile), stop };
}

/** One GET with curl: 200 and the file's size, or the bench stops (it would measure error pages). */
function checkServes(s: Server, file: string): void {
  const r = spawnSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', `http://127.0.0.1:${s.port}${s.url(file)}`], { encoding: 'utf8' });
  const want = `200 ${file === 'f4k.bin' ? 4096 : 1 << 20}`;
  if (r.stdout.trim() !== want) throw new Error(`${s.name} does not serve ${s.url(file)}: got "${r.stdout.trim()}" ${r.stderr}, expected "${want}"`);
}


function wrk(s: Server, w: (typeof WORKLOADS)[number]): WrkResult {
  const before = load();
  const threads = String(Math.min(2, os.cpus().length));
  const r = spawnSync('wrk', ['-t', threads, '-c', String(w.connections), '-d', `${DURATION}s`, '--timeout', '10s', `http://127.0.0.1:${s.port}${s.url(w.file)}`], {
    encoding: 'utf8',
    timeout: (DURATION + 60) * 1000,
  });
  if (r.status !== 0) throw new Error(`wrk against ${s.name}: exit ${r.status}: ${r.stdout}${r.stderr}`);
  return parseWrk(r.stdout, before);
}


async function main(): Promise<void> {
  console.log(`serve-bench: ${RUNS} run(s) of ${DURATION} s per workload and config; ${os.cpus().length} CPUs; load average ${load()}`);
  const ratios = new Map<string, number[]>(WORKLOADS.map((w) => [w.name, []]));
  const previousRatios = new Map<string, number[]>(WORKLOADS.map((w) => [w.name, []]));
  /** Socket errors per workload and server, one per run. */
  const errors = new Map<string, number[]>();
  const addErrors = (k: string, n: number) => errors.set(k, [...(errors.get(k) ?? []), n]);
  for (let run = 1; run <= RUNS; run++) {
    for (const w of WORKLOADS) {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mirrorfleet-bench-serve-'));
      fs.chmodSync(tmp, 0o755); // www-data walks down to the files
      const servers: Server[] = [];
      try {
        servers.push(await startRendered(path.join(tmp, 'rendered')));
        servers.push(await startRendered(path.join(tmp, 'previous'), 'previous'));
        servers.push(await startDefault(path.join(tmp, 'default')));
        await sleep(1000); // both settle: StartServers children up
        if (run === 1 && w === WORKLOADS[0]) {
          for (const s of servers) {
            const m = s.rss();
            console.log(`  idle ${s.name}: ${m.processes} processes, ${m.mib.toFixed(0)} MiB resident`);
          }
        }
        for (const s of servers) checkServes(s, w.file);
        // The order rotates between runs, so none always goes first (or last).
        const order = servers.map((_, i) => servers[(i + run - 1) % servers.length]);
        const result = new Map<string, WrkResult>();
        for (const s of order) result.set(s.name, wrk(s, w));
        const [a, p, d] = [result.get('rendered')!, result.get('previous')!, result.get('default')!];
        ratios.get(w.name)!.push(a.rps / d.rps);
        previousRatios.get(w.name)!.push(a.rps / p.rps);
        for (const [name, x] of result) addErrors(`${w.name} ${name}`, x.socketErrors + x.bad);
        const show = (x: WrkResult) => `${x.rps.toFixed(0)} req/s (non-2xx ${x.bad}, socket errors ${x.socketErrors}, load ${x.load})`;
        console.log(`  run ${run} ${w.name}: rendered ${show(a)}; previous MPM ${show(p)}; default ${show(d)}; rendered/default ${(a.rps / d.rps).toFixed(2)}, rendered/previous ${(a.rps / p.rps).toFixed(2)}`);
      } finally {
        for (const s of servers) await s.stop();
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    }
  }
  const range = (rs: number[]) => `${Math.min(...rs).toFixed(2)}..${Math.max(...rs).toFixed(2)} (median ${median(rs).toFixed(2)})`;
  for (const w of WORKLOADS) {
    const errs = (name: string) => `${name} ${median(errors.get(`${w.name} ${name}`)!)}`;
    console.log(
      `serve-bench: ${w.name} rendered/default ${range(ratios.get(w.name)!)}, rendered/previous-MPM ${range(previousRatios.get(w.name)!)} over ${RUNS} runs; ` +
        `median errors (socket + non-2xx): ${['rendered', 'previous', 'default'].map(errs).join(', ')}`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
