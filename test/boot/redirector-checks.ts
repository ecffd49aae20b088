import * as fs from 'node:fs';
import * as path from 'node:path';
import { CERT_SERVICE, CERT_TIMER, certificateUnits } from '../../lib/host/certificate';
import type { UnitFile } from '../../lib/host/units';
import { REDIRECTOR_UNITS, redirectorUnits } from '../../lib/roles/redirector/files';
import { REDIRECTOR_LAYOUT } from '../../lib/roles/redirector/layout';
import { redirectorHost } from '../../lib/roles/redirector/role';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { assess } from './assess';
import { preferredRoot } from './config';
import { readNodeFile, unitJournal, unitProps, waitForQuiet } from './inspect';
import { buildOutput } from './master-upload';
import { HttpResponse, http, tcpOpen } from './probe';
import { RedirectorCtx, lastRun, listStates, mbCli } from './redirector';
import { expect } from './results';
import { shAsync, sleep, tail } from './sh';
import { TREES, sha256 } from './trees';

/**
 * The booted redirector seen from outside (the host, the client), and its state: what a user,
 * an attacker choosing a location and an operator each get (R1, R3, R6, R7).
 */

const ISO = TREES['xcp-ng'].octetStream[0];
/** An address the GeoIP test City database places in London: what a forged header would claim. */
const FORGED = '81.2.69.143';

const hostname = (c: RedirectorCtx) => c.project.redirector!.node.hostname;

function get(c: RedirectorCtx, urlPath: string, o: { v6?: boolean; https?: boolean; headers?: string[] } = {}): HttpResponse {
  const ip = o.v6 ? `[${c.world.nodeIp6}]` : c.world.nodeIp;
  const scheme = o.https ? 'https' : 'http';
  let caFile: string | undefined;
  if (o.https) {
    caFile = path.join(c.dir, 'preferred-root.pem');
    fs.writeFileSync(caFile, preferredRoot(c.world).pem);
  }
  return http(`${scheme}://${hostname(c)}${urlPath}`, c.dir, { resolve: { host: hostname(c), ip }, headers: o.headers, caFile });
}

/** Each enabled mirror's URLs for `rel`: where a redirect may point. */
function mirrorUrls(c: RedirectorCtx, rel: string): string[] {
  return c.project.mirrorList.mirrors.filter((m) => m.enabled).flatMap((m) => [m.http, m.https].filter((u): u is string => !!u).map((u) => `${u}${rel}`));
}

/**
 * Fetches a mirror URL from the host (the mirrors are the host's, by name, with the world's CA);
 * without blocking: this process serves the mirrors' HTTPS.
 */
async function fetchMirror(c: RedirectorCtx, url: string): Promise<{ status: string; sha256: string; error: string }> {
  const u = new URL(url);
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  const out = path.join(c.dir, 'from-mirror');
  fs.rmSync(out, { force: true });
  const r = await shAsync('curl', ['-sS', '--max-time', '10', '--resolve', `${u.hostname}:${port}:${c.world.hostIp}`, '--cacert', c.world.ca.caFile, '-o', out, '-w', '%{http_code}', url], { timeoutMs: 20_000 });
  return { status: r.stdout.trim(), sha256: fs.existsSync(out) ? sha256(fs.readFileSync(out)) : '', error: r.stderr.trim() };
}

export async function fromOutside(c: RedirectorCtx): Promise<void> {
  const { results, node, world } = c;
  await results.run('/healthz answers from nginx, over IPv4 and IPv6', () => {
    for (const v6 of [false, true]) {
      const r = get(c, '/healthz', { v6 });
      expect(r.status === 200 && r.body.toString() === 'ok\n', `${v6 ? 'IPv6' : 'IPv4'}: ${r.status} ${r.error}\n${r.head}`);
    }
  });
  await results.run(`a file request is redirected to a listed mirror (302), over IPv4 and IPv6 (R1)`, async () => {
    const allowed = mirrorUrls(c, ISO);
    const seen: Record<string, number> = {};
    for (const v6 of [false, false, false, false, true, true]) {
      const r = get(c, `/${ISO}`, { v6 });
      expect(r.status === 302 && allowed.includes(r.headers.location), `${v6 ? 'IPv6' : 'IPv4'}: ${r.status} ${r.error}\n${r.head}\nallowed: ${allowed.join(' ')}`);
      seen[r.headers.location] = (seen[r.headers.location] ?? 0) + 1;
    }
    const want = sha256(fs.readFileSync(path.join(buildOutput(c.m), ISO)));
    for (const url of Object.keys(seen)) {
      const f = await fetchMirror(c, url);
      expect(f.status === '200' && f.sha256 === want, `${url}: ${f.status} ${f.error}: not the published ${ISO}`);
    }
    return Object.entries(seen).map(([u, n]) => `${n}x ${u}`).join(', ') + '; each serves the published file';
  });
  await results.run('a file no mirror holds goes to the master (the Fallbacks entry)', () => {
    const trace = `project/trace/${c.project.master.node.hostname}`;
    const r = get(c, `/${trace}`);
    const master = `://${c.project.master.node.hostname}/${c.project.master.node.trees[0].name}/${trace}`;
    expect(r.status === 302 && r.headers.location?.includes(master), `${r.status} ${r.error}\n${r.head}`);
    return r.headers.location;
  });
  const json = ['Accept: application/json', `X-Forwarded-For: ${FORGED}`];
  await results.run(`a forged X-Forwarded-For (${FORGED}, London) does not move the client: mirrorbits sees the peer, over IPv4 and IPv6 (R7)`, () => {
    const saw: string[] = [];
    for (const [v6, peer] of [[false, world.hostIp], [true, world.hostIp6]] as const) {
      const r = get(c, `/${ISO}`, { v6, headers: json });
      const ip = (JSON.parse(r.body.toString() || '{}') as { IP?: string }).IP;
      expect(r.status === 200 && ip === peer, `${v6 ? 'IPv6' : 'IPv4'}: ${r.status} ${r.error}\n${r.head}\n${r.body.toString().slice(0, 300)}`);
      saw.push(ip!);
    }
    // The control: the same request straight to mirrorbits (on the host) moves the client.
    const direct = node.exec(['curl', '-sS', '--max-time', '10', ...json.flatMap((h) => ['-H', h]), `http://${REDIRECTOR_LAYOUT.mirrorbitsHttp}/${ISO}`]);
    const ip = (JSON.parse(direct.stdout || '{}') as { IP?: string }).IP;
    expect(ip === FORGED, `straight to mirrorbits, the forged header should have been trusted (the check would prove nothing): ${direct.stdout}${direct.stderr}`);
    return `seen ${saw.join(' and ')}; straight to mirrorbits on the host the same request is ${ip}`;
  });
  await results.run('mirrorbits reads the GeoIP databases the refresh fetched (?mirrorlist&fromip, through nginx)', () => {
    const r = get(c, `/${ISO}?mirrorlist&fromip=${FORGED}`);
    const text = r.body.toString();
    expect(r.status === 200 && new RegExp(`${FORGED.replace(/\./g, '\\.')}[^<]*GB`).test(text), `${r.status}\n${text.slice(0, 400)}`);
    return /IP: [^<]*/.exec(text)?.[0];
  });
  await results.run('mirrorbits\' HTTP (8080) and RPC (3390) ports and Redis (6379) are closed from outside, IPv4 and IPv6; 80 is open (R7)', async () => {
    for (const ip of [world.nodeIp, world.nodeIp6]) {
      expect(await tcpOpen(ip, 80), `${ip}:80 is not open: the probe cannot tell closed from unreachable`);
      for (const port of [8080, 3390, 6379]) expect(!(await tcpOpen(ip, port)), `${ip}:${port} accepts connections`);
    }
    const listening = node.exec(['ss', '-ltnH']).stdout;
    const bound = listening.split('\n').map((l) => l.trim().split(/\s+/)[3]).filter((a) => a && /:(8080|3390|6379)$/.test(a));
    expect(bound.length >= 3 && bound.every((a) => /^(127\.0\.0\.1|\[::1\]):/.test(a)), `ss -ltn:\n${listening}`);
    return `bound to ${bound.join(', ')}`;
  });
}

/** mirrorbits' log lines per mirror (`logs NAME`): every write through its CLI adds one. */
function logCounts(c: RedirectorCtx): Record<string, number> {
  return Object.fromEntries(c.project.mirrorList.mirrors.map((m) => {
    const r = mbCli(c, 'logs', m.name);
    if (r.status !== 0) throw new Error(`mirrorbits logs ${m.name}: ${r.stderr}`);
    return [m.name, r.stdout.split('\n').filter((l) => /^\d{4}-\d\d-\d\d /.test(l)).length];
  }));
}

export async function reconcileAgain(c: RedirectorCtx): Promise<void> {
  const { results, node } = c;
  await results.run('a second apply of the same list writes nothing: no edit, no new log entry in mirrorbits logs (R3)', async () => {
    const before = logCounts(c);
    const t0 = Date.now();
    const r = await node.execAsync(['systemctl', 'start', REDIRECTOR_UNITS.reconcile]);
    const seconds = (Date.now() - t0) / 1000;
    const s = unitProps(node, REDIRECTOR_UNITS.reconcile, ['Result', 'ExecMainStatus']);
    const journal = lastRun(node, REDIRECTOR_UNITS.reconcile);
    expect(r.status === 0 && s.Result === 'success' && s.ExecMainStatus === '0', `${r.stderr}\n${JSON.stringify(s)}\n${journal}`);
    expect(/^nothing to do: mirrorbits is in line$/m.test(journal) && !/^(plan|applied):/m.test(journal), journal);
    const after = logCounts(c);
    expect(JSON.stringify(after) === JSON.stringify(before), `log entries before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
    c.figures.push(`a no-change reconcile of the example's ${c.project.mirrorList.mirrors.length} mirrors: ${seconds.toFixed(1)} s (systemctl start, exit 0)`);
    return `${seconds.toFixed(1)} s; exit 0; log entries ${Object.values(before).join('/')} before and after`;
  });
}

export async function certificateAndHttps(c: RedirectorCtx): Promise<void> {
  const { results, node, world } = c;
  await world.setA(hostname(c), world.nodeIp);
  const t0 = Date.now();
  const cert = await node.execAsync(['systemctl', 'start', CERT_SERVICE]);
  await waitForQuiet(node, ['nginx.service']);
  const props = unitProps(node, CERT_SERVICE, ['Result']);
  results.check('certificate issued once DNS points at the redirector', cert.status === 0 && props.Result === 'success', () => `${cert.stderr}\n${unitJournal(node, CERT_SERVICE, 20)}\npebble:\n${tail(world.pebbleLog(), 10)}`, `${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await results.run('HTTPS (chain to the preferred root): /healthz, and a file redirected to a mirror\'s HTTPS URL', async () => {
    for (let i = 0; i < 20 && !(await tcpOpen(world.nodeIp, 443)); i++) await sleep(250);
    const h = get(c, '/healthz', { https: true });
    expect(h.status === 200, `/healthz: ${h.status} ${h.error}\n${h.head}`);
    const r = get(c, `/${ISO}`, { https: true });
    const allowed = mirrorUrls(c, ISO).filter((u) => u.startsWith('https://'));
    expect(r.status === 302 && allowed.includes(r.headers.location), `${r.status} ${r.error}\n${r.head}\nallowed: ${allowed.join(' ')}`);
    return `verified against "${preferredRoot(world).cn}" only; ${r.headers.location}`;
  });
}

/** Once the certificate is issued: the retry timer retired, timers and paths wait, daemons run. */
function expectedState(u: UnitFile): { enabled?: string; active: string[] } {
  if (u.name === CERT_TIMER) return { enabled: 'disabled', active: ['inactive/dead'] };
  if (/\.(timer|path)$/.test(u.name)) return { enabled: u.enable ? 'enabled' : undefined, active: ['active/waiting'] };
  // A oneshot its timer may be running at this very moment (the copy's sync, the metrics).
  if (!u.enable) return { active: ['inactive/dead', 'activating/start'] };
  return { enabled: 'enabled', active: [/^RemainAfterExit=yes$/m.test(u.content) ? 'active/exited' : 'active/running'] };
}

export async function redirectorState(c: RedirectorCtx): Promise<void> {
  const { results, node, project: p } = c;
  const a = assess(node);
  results.check('systemctl is-system-running: running, no failed units; cloud-init done without errors', a.ok, a.quote);
  const units: UnitFile[] = [
    ...['nginx.service', 'redis-server.service', 'certbot.timer'].map((name) => ({ name, enable: true, content: '' })),
    ...redirectorUnits(p.redirector!, REDIRECTOR_LAYOUT),
    ...certificateUnits(redirectorHost(p).certificate!, NODE_LAYOUT),
  ];
  const bad: string[] = [];
  const summary: string[] = [];
  for (const u of units) {
    const e = expectedState(u);
    const s = unitProps(node, u.name, ['LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'Result']);
    const state = `${s.ActiveState}/${s.SubState}`;
    summary.push(`${u.name} ${s.UnitFileState} ${state}`);
    if (s.LoadState !== 'loaded' || (e.enabled && s.UnitFileState !== e.enabled) || !e.active.includes(state) || !(s.Result === 'success' || s.Result === '')) {
      bad.push(`${u.name}: loaded=${s.LoadState} enabled=${s.UnitFileState} state=${state} result=${s.Result} (expected ${e.enabled ?? ''} ${e.active.join(' or ')})\n${unitJournal(node, u.name, 8)}`);
    }
  }
  results.check(`every unit of the redirector enabled and in its expected state (${units.length} units)`, bad.length === 0, bad.join('\n'));
  if (bad.length === 0) console.log(`      ${summary.join('\n      ')}`);
  await results.run('the metrics count the redirects and the fallback, and the mirrors up (R6)', async () => {
    const r = await node.execAsync(['systemctl', 'start', REDIRECTOR_UNITS.metrics]);
    const prom = readNodeFile(node, `${REDIRECTOR_LAYOUT.host.metricsDir}/mirrorfleet_redirector.prom`);
    const value = (name: string) => Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(prom)?.[1] ?? NaN);
    const up = p.mirrorList.mirrors.filter((m) => m.enabled && m.rsync).length;
    const states = listStates(mbCli(c, 'list').stdout);
    expect(r.status === 0 && value('mirrorfleet_redirector_redirects_total') >= 8 && value('mirrorfleet_redirector_fallbacks_total') >= 1, `${r.stderr}\n${prom}`);
    expect(value('mirrorfleet_redirector_mirrors{state="up"}') === up && value('mirrorfleet_redirector_reconcile_success') === 1, `${prom}\nmirrorbits list: ${JSON.stringify(states)}`);
    return ['redirects_total', 'fallbacks_total', 'mirrors{state="up"}', 'mirrors{state="disabled"}'].map((n) => `${n} ${value(`mirrorfleet_redirector_${n}`)}`).join(', ');
  });
}
