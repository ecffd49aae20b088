/*
 * npm run bench:redirect -- [--runs N] [--duration S] [--connections C]
 *
 * Redirects per second through the redirector's rendered nginx site (Debian's nginx and its own
 * nginx.conf, the site as the role renders it) to mirrorbits, against the same requests straight
 * to mirrorbits, in the same run. mirrorbits is the stand-in (test/redirector/standin/) or the
 * real binary MIRRORBITS_BIN names, in the contract suite's world (test/redirector/world.ts): a
 * network namespace with Redis, the GeoIP test databases and three mirrors reconciled from a
 * mirrors.yaml and up, so every answer is a 302 to a mirror chosen for the client. wrk runs in
 * the namespace, C keep-alive connections (default 32) for S seconds (default 8); each run
 * measures both paths (the order alternates between runs), then nginx alone on the site's own
 * /healthz (no backend: the ceiling nginx puts on this machine, so a ratio near 1 reads as "the
 * backend is the limit"), and prints requests/s, answers wrk counts as errors (not 2xx or 3xx), socket
 * errors and the 1-minute load average before each measurement. Last line:
 *   redirect-bench: through nginx A..B req/s, straight C..D req/s, nginx/straight R1..R2 (median M), nginx alone E..F req/s over N runs
 * Needs root (a network namespace), nginx, redis-server, rsync, curl, python3 and wrk.
 * Run it alone: flock /tmp/mirrorfleet-bench.lock npm run bench:redirect
 */
import { ChildProcess, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WrkResult, load, median, option, parseWrk } from './common';
import { loadProjectFile } from '../lib/project/project';
import { REDIRECTOR_LAYOUT, RedirectorLayout, repositoryPath } from '../lib/roles/redirector/layout';
import { renderNginxSite } from '../lib/roles/redirector/nginx';
import { REPO, testLayout } from '../test/support/fixtures';
import { desiredFile } from '../test/redirector/mirrors';
import { BACKEND, GEO_MIRRORS, World, startWorld, waitForState } from '../test/redirector/world';

const RUNS = Number(option('--runs', '3'));
const DURATION = Number(option('--duration', '8'));
const CONNECTIONS = Number(option('--connections', '32'));
if (!Number.isInteger(RUNS) || RUNS < 1 || !(DURATION >= 1) || !Number.isInteger(CONNECTIONS) || CONNECTIONS < 1) {
  console.error('usage: npm run bench:redirect -- [--runs N] [--duration S] [--connections C]');
  process.exit(2);
}
for (const tool of ['nginx', 'wrk', 'redis-server', 'rsync', 'curl', 'python3']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`redirect-bench: needs ${tool} (scripts/install-test-deps)`);
    process.exit(2);
  }
}

/** Where mirrorbits listens in the world (test/redirector/world.ts) and where nginx will. */
const MIRRORBITS = '127.0.0.1:8080';
const NGINX_PORT = 8081;
const FILE = 'xcp/8.3/install.iso';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Debian's nginx.conf with its paths moved into `root` and the rendered site in place of
 * sites-enabled (the role removes the default site and links its own, nothing else).
 */
function nginxConf(root: string, site: string): string {
  const debian = fs.readFileSync('/etc/nginx/nginx.conf', 'utf8');
  const conf = debian
    .replace(/^pid .*;$/m, `pid ${root}/nginx.pid;`)
    .replace(/^error_log .*;$/m, `error_log ${root}/log/error.log;`)
    .replace(/^(\s*)access_log .*;$/m, `$1access_log ${root}/log/access.log;\n$1client_body_temp_path ${root}/tmp; proxy_temp_path ${root}/tmp;`)
    .replace(/^(\s*)include \/etc\/nginx\/sites-enabled\/\*;$/m, `$1include ${site};`);
  if (!conf.includes(site) || !conf.includes(`pid ${root}/nginx.pid;`)) throw new Error('/etc/nginx/nginx.conf is not Debian\'s: the bench cannot place the site in it');
  return `daemon off;\n${conf}`;
}

/** The example redirector's site, its repository the world's, mirrorbits where the world runs it. */
function startNginx(w: World, root: string): ChildProcess {
  const file = path.join(root, 'project.yaml');
  fs.writeFileSync(file, fs.readFileSync(path.join(REPO, 'examples', 'project.yaml'), 'utf8').replace('  repoSync: every 5 minutes', `  repoSync: every 5 minutes\n  storage: { mountPoint: ${root}/srv }`));
  fs.copyFileSync(path.join(REPO, 'examples', 'mirrors.yaml'), path.join(root, 'mirrors.yaml'));
  const r = loadProjectFile(file).redirector!;
  const rl: RedirectorLayout = { ...REDIRECTOR_LAYOUT, host: testLayout(root), mirrorbitsHttp: MIRRORBITS, nginxConfDir: `${root}/nginx`, nginxLogDir: `${root}/log`, nginxHttpPort: NGINX_PORT };
  // nginx lists directories from the local copy: the world's repository, the one mirrorbits indexes.
  fs.mkdirSync(path.dirname(repositoryPath(r)), { recursive: true });
  fs.symlinkSync(w.repository, repositoryPath(r));
  for (const d of ['nginx/mirrorfleet-tls', 'log', 'tmp']) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.writeFileSync(path.join(root, 'nginx', 'site.conf'), renderNginxSite(r, rl));
  fs.writeFileSync(path.join(root, 'nginx', 'nginx.conf'), nginxConf(root, path.join(root, 'nginx', 'site.conf')));
  const t = w.ns.exec('nginx', ['-t', '-q', '-c', path.join(root, 'nginx', 'nginx.conf')]);
  if (t.status !== 0) throw new Error(`nginx -t: ${t.stderr}`);
  return w.ns.spawn('nginx', ['-c', path.join(root, 'nginx', 'nginx.conf')]);
}

/** One request with curl in the namespace: a 302 to one of the world's mirrors, or the bench stops. */
function checkRedirects(w: World, url: string): string {
  const r = w.ns.exec('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', url]);
  const [status, location] = r.stdout.trim().split(' ');
  if (status !== '302' || !GEO_MIRRORS.some((m) => location?.startsWith(`http://${m.ip}/`))) throw new Error(`${url}: got "${r.stdout.trim()}" ${r.stderr}, expected a 302 to a mirror`);
  return location;
}


async function wrk(w: World, url: string): Promise<WrkResult> {
  const before = load();
  const threads = String(Math.min(2, os.cpus().length));
  const r = await w.ns.execAsync('wrk', ['-t', threads, '-c', String(CONNECTIONS), '-d', `${DURATION}s`, '--timeout', '10s', url], (DURATION + 60) * 1000);
  if (r.status !== 0) throw new Error(`wrk ${url}: exit ${r.status}: ${r.stdout}${r.stderr}`);
  return parseWrk(r.stdout, before);
}


async function main(): Promise<void> {
  console.log(`redirect-bench: ${BACKEND}; ${RUNS} run(s) of ${DURATION} s, ${CONNECTIONS} connections; ${os.cpus().length} CPUs; load average ${load()}`);
  const t0 = Date.now();
  const w = await startWorld();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mirrorfleet-bench-redirect-'));
  fs.chmodSync(root, 0o755); // nginx's workers (www-data) read the site's root through it
  let nginx: ChildProcess | undefined;
  try {
    const mirrors = GEO_MIRRORS.map((m) => ({ name: m.name, http: `http://${m.ip}/${m.module}/`, rsync: `rsync://${m.ip}/${m.module}/`, countries: [m.country], continent: m.continent }));
    const rec = w.reconcile(desiredFile(w, 'mirrors.json', mirrors));
    if (rec.status !== 2) throw new Error(`reconcile: ${rec.stdout}${rec.stderr}`);
    await waitForState(w, GEO_MIRRORS.map((m) => m.name), 'up');
    nginx = startNginx(w, root);
    const through = `http://127.0.0.1:${NGINX_PORT}/${FILE}`;
    const straight = `http://${MIRRORBITS}/${FILE}`;
    for (let i = 0; i < 50 && w.ns.exec('curl', ['-s', '-o', '/dev/null', through]).status !== 0; i++) await sleep(100);
    console.log(`  world up in ${((Date.now() - t0) / 1000).toFixed(1)} s (three mirrors up); ${through} -> ${checkRedirects(w, through)}; ${straight} -> ${checkRedirects(w, straight)}`);
    const healthz = `http://127.0.0.1:${NGINX_PORT}/healthz`;
    const rows: { nginx: WrkResult; direct: WrkResult; alone: WrkResult }[] = [];
    for (let run = 1; run <= RUNS; run++) {
      // The order alternates, so neither path always goes first.
      const first = run % 2 === 1 ? 'nginx' : 'direct';
      const res: Partial<Record<'nginx' | 'direct', WrkResult>> = {};
      for (const which of first === 'nginx' ? (['nginx', 'direct'] as const) : (['direct', 'nginx'] as const)) res[which] = await wrk(w, which === 'nginx' ? through : straight);
      const row = { nginx: res.nginx!, direct: res.direct!, alone: await wrk(w, healthz) };
      rows.push(row);
      const show = (x: WrkResult) => `${x.rps.toFixed(0)} req/s (non-3xx ${x.bad}, socket errors ${x.socketErrors}, load ${x.load})`;
      console.log(`  run ${run}: through nginx ${show(row.nginx)}; straight to mirrorbits ${show(row.direct)}; nginx/straight ${(row.nginx.rps / row.direct.rps).toFixed(2)}; nginx alone (/healthz) ${show(row.alone)}`);
    }
    const rng = (xs: number[], digits = 0) => `${Math.min(...xs).toFixed(digits)}..${Math.max(...xs).toFixed(digits)}`;
    const ratios = rows.map((r) => r.nginx.rps / r.direct.rps);
    console.log(`redirect-bench: through nginx ${rng(rows.map((r) => r.nginx.rps))} req/s, straight ${rng(rows.map((r) => r.direct.rps))} req/s, nginx/straight ${rng(ratios, 2)} (median ${median(ratios).toFixed(2)}), nginx alone ${rng(rows.map((r) => r.alone.rps))} req/s over ${RUNS} runs; load average ${load()}`);
  } finally {
    if (nginx && nginx.exitCode === null) {
      // A graceful stop: its workers go with it (a killed master would leave them behind).
      const exited = new Promise((r) => nginx!.once('exit', r));
      nginx.kill('SIGQUIT');
      await Promise.race([exited, sleep(10_000)]);
    }
    await w.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
