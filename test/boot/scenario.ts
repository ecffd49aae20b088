import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeConfig } from '../../lib/config/node-config';
import { CERT_NAME, NODE_LAYOUT, SYNC_USER, acmeWebroot, treeConfPath } from '../../lib/render/layout';
import { ASSETS_DIR } from '../../lib/host/files';
import { renderNodeFiles } from '../../lib/render/node-files';
import { renderUnits, syncUnitName } from '../../lib/render/systemd';
import { certificateUnits } from '../../lib/host/certificate';
import { nodeCertificate } from '../../lib/roles/mirror-node/role';
import { Example, exampleConfig } from '../support/fixtures';
import { assess } from './assess';
import { cleanup } from './cleanup';
import { bootConfig, bootUserData, preferredRoot } from './config';
import { readNodeFile, unitJournal, unitProps, waitForCloudInit, waitForQuiet } from './inspect';
import { DataVolume, Node } from './node';
import { checkerChecks } from './checker';
import { concurrentConnections, http, rsync, simultaneousRequests, tcpOpen } from './probe';
import { Results, expect } from './results';
import { sh, sleep, tail } from './sh';
import { TREES, TreeSpec, diffManifests, manifest, sha256, writeTree } from './trees';
import { World, WorldOptions } from './world';
import { fedoraStandIns, reportCheckins } from './stand-ins';
import { BootVariant, LateAttach, attachLate } from './variant';


export const KEEP = process.env.MIRRORFLEET_BOOT_KEEP === '1';

/** A scratch directory for one scenario, removed at the end (MIRRORFLEET_BOOT_KEEP=1 keeps it). */
export function scratch(name: string): string {
  const dir = fs.mkdtempSync(path.join(process.env.MIRRORFLEET_BOOT_TMP ?? '/var/tmp', `mirrorfleet-boot-${name}-`));
  if (!KEEP) cleanup.add(`remove ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts the world for an example: its upstream tree(s), proxy, DNS, pebble, stand-ins. */
export async function startWorld(example: Example, index: number, dir: string, extra: Partial<WorldOptions> = {}): Promise<World> {
  const modules: Record<string, string> = {};
  const c = exampleConfig(example);
  const confs = renderNodeFiles(c, NODE_LAYOUT);
  for (const t of c.trees) {
    const d = path.join(dir, 'upstream', t.name);
    writeTree(TREES[example], d);
    // A tree whose node syncs from a file list gets one from the upstream, published the way the
    // project's master does it (M2): mirrorfleet's own mirror-publish.
    const list = /^FILE_LIST=(\S+)$/m.exec(confs.find((f) => f.path === treeConfPath(NODE_LAYOUT, t.name))?.content ?? '')?.[1];
    if (list) {
      const r = sh('bash', [path.join(ASSETS_DIR, 'mirror-publish'), d, list, 'project/trace/master.boot-test']);
      if (r.status !== 0) throw new Error(`mirror-publish ${d} ${list}: ${r.stderr}`);
    } else {
      // Every master publishes a trace (M2): what the checker's freshness check compares.
      fs.mkdirSync(path.join(d, 'project', 'trace'), { recursive: true });
      fs.writeFileSync(path.join(d, 'project', 'trace', 'master.boot-test'), `${new Date().toUTCString()}\n`);
    }
    modules[t.name] = d;
  }
  const world = new World({ index, dir: path.join(dir, 'world'), modules, standIns: example === 'fedora' ? fedoraStandIns() : undefined, ...extra });
  await world.start();
  return world;
}

export interface Ctx {
  readonly example: Example;
  readonly results: Results;
  readonly world: World;
  readonly config: NodeConfig;
  readonly node: Node;
  readonly volume: DataVolume;
  readonly dir: string;
  readonly spec: TreeSpec;
  unmountVolume?: () => Promise<void>;
  /** A cloud's variant of the user data (variant.ts); absent: the generic one. */
  readonly variant?: BootVariant;
  attach?: LateAttach;
}

/** Services mirrorfleet-provision starts without waiting (first sync, first certificate). */
const startedAtProvision = (c: NodeConfig) => [...c.trees.map((t) => `${syncUnitName(t)}.service`), ...(c.https.enabled ? ['mirrorfleet-cert.service'] : [])];

/**
 * One example end to end: first boot (HTTP up, first certificate attempt fails because DNS
 * points elsewhere), the world fixes DNS and the retry timer turns HTTPS on; a reboot; a rebuild
 * (fresh root disk, new instance-id, same user data and data volume).
 */
export async function runExample(example: Example, index: number, baseFile: string, results: Results, waitForTimer = true, variant?: BootVariant): Promise<void> {
  results.setScope(variant ? `${example} on ${variant.title}: ` : `${example}: `);
  const dir = scratch(variant ? `${example}-${variant.cloud}` : example);
  let ctx: Ctx | undefined;
  try {
    ctx = await results.phase('world up (netns, proxy, DNS, pebble, upstream rsyncd)', async () => {
      const world = await startWorld(example, index, dir, variant?.world);
      const config = bootConfig(example, world, { edit: variant?.editConfig ? (doc) => variant.editConfig!(doc, world) : undefined });
      const userData = variant ? await variant.start(world, config, dir) : bootUserData(config);
      fs.writeFileSync(path.join(dir, 'user-data'), userData);
      // First boot as in real life: the node's name still points somewhere else.
      await world.setA(config.hostname, world.hostIp);
      const volume = new DataVolume(path.join(dir, 'data.img'), 4096);
      const node = new Node(path.join(dir, 'node'), world, volume, variant?.dataDevice);
      console.log(`  user data: ${Buffer.byteLength(userData)} bytes; node ${world.nodeIp} / ${world.nodeIp6}; data volume ${volume.device}${variant ? ` as ${variant.dataDevice}` : ''}`);
      return { example, results, world, config, node, volume, dir, spec: TREES[example], variant };
    });
    const c = ctx;
    const firstBootOk = await results.phase('first boot (root disk, boot, cloud-init, provisioning)', () => firstBoot(c, baseFile, `iid-${example}-1`));
    if (!firstBootOk) return;
    await results.phase('checks: node from outside over HTTP and rsync', () => serviceChecks(c, 'http'));
    await results.phase('certificate: DNS fixed, the retry timer issues, HTTPS turns on', () => certificateRetry(c, waitForTimer));
    await results.phase('checks: HTTPS', () => httpsChecks(c));
    // After the certificate: the world's CA validates from the very address this test floods
    // (a real CA's vantage points have their own), and the kernel's per-source count forgets
    // closed connections lazily: run before the retry, it once got pebble's validation reset.
    if (c.config.http.perIpConnectionLimit !== undefined) await results.phase('checks: per-IP connection cap', () => connectionCapCheck(c));
    await results.phase('checks: final state of the first boot', () => stateChecks(c, 'first boot'));
    if (variant) await results.phase(`checks: what only ${variant.title} adds`, () => variant.checks(c));
    await results.phase('reboot (same instance-id)', () => reboot(c));
    await results.phase('rebuild (fresh root disk, new instance-id, same volume)', () => rebuild(c, baseFile, `iid-${example}-2`));
    if (variant?.afterRebuild) await variant.afterRebuild(c);
  } catch (e) {
    results.fail('scenario', `${(e as Error).stack ?? e}`);
    if (ctx?.node.running) results.fail('node state at the error', assess(ctx.node).quote);
  } finally {
    await results.phase('teardown', async () => {
      if (ctx?.node.running) await ctx.node.shutdown();
      await cleanup.runAll();
    });
    results.setScope('');
  }
}

/**
 * Boots a fresh root disk and waits for cloud-init. A cloud variant's volume appears late, as the
 * cloud attaches it after the start (variant.ts, attachLate).
 */
async function bootAndWait(c: Ctx) {
  await c.node.boot([], { volumeName: c.variant ? 'late' : 'at-boot' });
  const attaching = c.variant ? attachLate(c.node) : undefined;
  const wait = await waitForCloudInit(c.node);
  if (attaching) {
    c.attach ??= await attaching;
    const a = await attaching;
    console.log(`  the cloud attached ${c.node.dataDevice} ${a.seconds.toFixed(1)} s after the start${a.sawWaiting ? ', while the data-volume step waited for it' : ''}`);
  }
  return wait;
}

/** Boots, waits for cloud-init and the first sync/certificate attempt; false when it failed. */
async function firstBoot(c: Ctx, baseFile: string, instanceId: string): Promise<boolean> {
  const t0 = Date.now();
  c.node.prepare(baseFile, { userData: fs.readFileSync(path.join(c.dir, 'user-data'), 'utf8'), instanceId });
  const tExtract = Date.now();
  console.log(`  root disk ready (overlay on the extracted base) in ${((tExtract - t0) / 1000).toFixed(1)} s`);
  const wait = await bootAndWait(c);
  console.log(`  cloud-init final stage ${wait.finished ? 'done' : 'NOT done'} ${wait.seconds.toFixed(1)} s after boot`);
  if (!c.results.check('cloud-init finished its final stage', wait.finished, () => `${wait.problem}\n${assess(c.node).quote}`)) return false;
  const busy = await waitForQuiet(c.node, startedAtProvision(c.config));
  console.log(`  first sync and first certificate attempt over ${((Date.now() - tExtract) / 1000).toFixed(1)} s after boot`);
  c.results.check('the first sync and certificate attempt ended', busy.length === 0, `still running after 120 s: ${busy.join(', ')}`);
  const a = assess(c.node);
  c.results.check('cloud-init: status done, no errors in result.json', a.cloudInitDone && a.cloudInitErrors.length === 0, a.quote);
  const provision = readNodeFile(c.node, '/var/log/cloud-init-output.log');
  c.results.check('mirrorfleet-provision finished (runcmd)', /mirrorfleet-provision: done/.test(provision), () => `no "mirrorfleet-provision: done" in /var/log/cloud-init-output.log:\n${tail(provision, 20)}`);
  // The only acceptable failure at this point is the first certificate attempt.
  const unexpected = a.failedUnits.filter((u) => u !== 'mirrorfleet-cert.service');
  c.results.check('no failed unit other than the first certificate attempt', unexpected.length === 0, a.quote);
  if (!a.cloudInitDone || unexpected.length > 0) return false;
  await volumeChecks(c, 'first boot');
  await syncChecks(c, 'first boot');
  if (c.config.https.enabled) await firstCertificateAttempt(c);
  return true;
}

async function volumeChecks(c: Ctx, when: string): Promise<void> {
  const { results, node, volume, config } = c;
  const fs0 = volume.probe();
  results.check(`data volume formatted: ${config.storage.filesystem}, label mirrordata (${when})`, fs0.type === config.storage.filesystem && fs0.label === 'mirrordata', `blkid -p ${volume.device}: ${JSON.stringify(fs0)}`);
  const m = node.exec(['findmnt', '-n', '-o', 'SOURCE,FSTYPE,OPTIONS', config.storage.mountPoint]);
  results.check(`data volume mounted at ${config.storage.mountPoint} (${when})`, m.status === 0 && m.stdout.includes(config.storage.filesystem), () => `findmnt: ${m.stdout}${m.stderr}\n${mountEvidence(c)}`);
}

export async function syncChecks(c: Ctx, when: string, expectRun = true): Promise<void> {
  const { results, node, config, world } = c;
  for (const t of config.trees) {
    const unit = `${syncUnitName(t)}.service`;
    const p = unitProps(node, unit, ['Result', 'ExecMainStatus', 'ActiveState', 'ExecMainStartTimestamp']);
    if (expectRun) results.check(
      `${unit} ran and succeeded (${when})`,
      p.Result === 'success' && p.ExecMainStatus === '0' && p.ExecMainStartTimestamp !== '',
      () => `${JSON.stringify(p)}\n${unitJournal(node, unit)}`,
    );
    const upstream = manifest(world.opts.modules[t.name]);
    if (!results.check(`tree ${t.name} present at ${t.path} (${when})`, fs.existsSync(node.path(t.path)), () => mountEvidence(c))) continue;
    const onNode = manifest(node.path(t.path));
    const trace = (rel: string) => rel === 'project' || rel.startsWith('project/');
    const diff = diffManifests(upstream, onNode, (rel) => trace(rel) || t.excludes.some((pat) => globMatch(pat, rel)));
    results.check(`tree ${t.name} matches the upstream (content, sizes, modes) (${when})`, diff.length === 0, diff.join('\n'));
    const leaked = c.spec.excluded.filter((x) => onNode.has(x));
    if (c.spec.excluded.length) results.check(`tree ${t.name}: excluded paths not synced (N18)`, leaked.length === 0, `on the node: ${leaked.join(', ')}`);
    const traceFile = node.path(`${t.path}/project/trace/${config.hostname}`);
    const traceText = fs.existsSync(traceFile) ? fs.readFileSync(traceFile, 'utf8') : '(missing)';
    if (config.reports.trace) results.check(`tree ${t.name}: trace file written after the sync (N16)`, traceText.includes(`Running on host: ${config.hostname}`), `project/trace/${config.hostname}:\n${traceText}`);
    const prom = fs.existsSync(node.path(`${NODE_LAYOUT.metricsDir}/mirrorfleet_sync_${t.name}.prom`)) ? fs.readFileSync(node.path(`${NODE_LAYOUT.metricsDir}/mirrorfleet_sync_${t.name}.prom`), 'utf8') : '';
    results.check(`tree ${t.name}: sync metrics say success (N21)`, new RegExp(`mirrorfleet_sync_success\\{tree="${t.name}"\\} 1`).test(prom), prom || 'no metrics file');
    const timer = unitProps(node, `${syncUnitName(t)}.timer`, ['ActiveState', 'SubState', 'UnitFileState', 'NextElapseUSecRealtime']);
    results.check(
      `${syncUnitName(t)}.timer enabled and armed (${when})`,
      timer.ActiveState === 'active' && timer.SubState === 'waiting' && timer.UnitFileState === 'enabled' && timer.NextElapseUSecRealtime !== '',
      JSON.stringify(timer),
      `next: ${timer.NextElapseUSecRealtime}`,
    );
  }
}

/** FILE_LIST and PRECHECK of a tree's rendered sync settings: the markers a sync reads first. */
export function treeMarkers(c: Ctx, tree: string): string[] {
  const conf = renderNodeFiles(c.config, NODE_LAYOUT).find((f) => f.path === treeConfPath(NODE_LAYOUT, tree))?.content ?? '';
  return [/^FILE_LIST=(\S+)$/m.exec(conf)?.[1], /^PRECHECK=(\S+)$/m.exec(conf)?.[1]].filter((x): x is string => !!x);
}

/** The master publishes its file list again after a change (mirror-publish), when the tree has one. */
function republish(c: Ctx, tree: string): void {
  const list = treeMarkers(c, tree).find((m) => m.startsWith('fullfiletimelist'));
  if (!list) return;
  const r = sh('bash', [path.join(ASSETS_DIR, 'mirror-publish'), c.world.opts.modules[tree], list, 'project/trace/master.boot-test']);
  if (r.status !== 0) throw new Error(`mirror-publish: ${r.stderr}`);
}

/** A file on the node (root disk or data volume), or '' when missing. */
function readVolumeFile(c: Ctx, p: string): string {
  const f = c.node.path(p);
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
}

/** Minimal rsync-style glob for the example excludes (leading "/" anchors at the tree root). */
function globMatch(pattern: string, rel: string): boolean {
  const re = pattern
    .replace(/^\//, '')
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${re}(/|$)`).test(rel);
}

async function firstCertificateAttempt(c: Ctx): Promise<void> {
  const { results, node, world } = c;
  // The retry timer may be running an attempt right now (OnBootSec=30s can fall seconds after the
  // first attempt provisioning starts): read the states between attempts, not during one.
  for (let i = 0; i < 40 && unitProps(node, 'mirrorfleet-cert.service', ['ActiveState']).ActiveState === 'activating'; i++) await sleep(250);
  const p = unitProps(node, 'mirrorfleet-cert.service', ['Result', 'ExecMainStatus', 'ExecMainStartTimestamp']);
  const journal = unitJournal(node, 'mirrorfleet-cert.service', 30);
  const selfCheck = new RegExp(`${HELD_BACK.source}: .* does not serve`);
  results.check(
    'first certificate attempt held back by the self-check while DNS points elsewhere (the realistic first boot)',
    p.Result === 'exit-code' && selfCheck.test(journal),
    `${JSON.stringify(p)}\n${journal}\npebble:\n${tail(world.pebbleLog(), 10)}`,
    quoteLine(journal, selfCheck),
  );
  // Waiting for DNS must not spend the CA's failure budget (Let's Encrypt: 5 per name per hour).
  const orders = pebbleOrders(world);
  results.check('the CA was not asked while DNS pointed elsewhere (no order at pebble)', orders === 0, `${orders} order(s):\n${tail(world.pebbleLog(), 15)}`);
  results.check('HTTPS is off until a certificate exists (nothing on :443)', !(await tcpOpen(world.nodeIp, 443)), 'port 443 accepts connections');
  const timer = unitProps(node, 'mirrorfleet-cert.timer', ['ActiveState', 'SubState', 'UnitFileState', 'NextElapseUSecMonotonic']);
  results.check('mirrorfleet-cert.timer enabled and armed to retry', timer.ActiveState === 'active' && timer.SubState === 'waiting' && timer.UnitFileState === 'enabled', JSON.stringify(timer));
  const http0 = http(`http://${world.nodeIp}/`, c.dir);
  results.check('HTTP serves meanwhile (N1)', http0.status === 200, `${http0.head}${http0.error}`);
  // The world's part: DNS now points at the node.
  await world.setA(c.config.hostname, world.nodeIp);
}

/** What mirrorfleet-cert logs when its self-check holds a run back. */
const HELD_BACK = /not asking the CA yet/;

/** The per-IP cap's counters and the node's connections on :80, when a validation was refused. */
function capEvidence(c: Ctx): string {
  if (c.config.http.perIpConnectionLimit === undefined) return '';
  const nft = c.node.exec(['nft', 'list', 'table', 'inet', 'mirrorfleet']).stdout.trim();
  const ss = c.node.exec(['ss', '-tan', 'sport', '= :80']).stdout.trim();
  return `$ nft list table inet mirrorfleet\n${nft}\n$ ss -tan sport = :80\n${ss}`;
}

/** New-order requests pebble has logged so far. */
const pebbleOrders = (world: World) => (world.pebbleLog().match(/POST \/order-plz/g) ?? []).length;

const quoteLine = (text: string, re: RegExp) => (text.split('\n').find((l) => re.test(l)) ?? '').replace(/^\S+\s+\S+\s+/, '').slice(0, 160);

/** Waits for the retry timer to issue the certificate by itself, else fires it. */
async function certificateRetry(c: Ctx, waitForTimer: boolean): Promise<void> {
  const { results, node, world, config } = c;
  if (!config.https.enabled) return;
  const live = node.path(`${NODE_LAYOUT.letsencryptDir}/live/${CERT_NAME}/fullchain.pem`);
  const t0 = Date.now();
  let byTimer = false;
  // OnUnitInactiveSec=30s: the next run is at most 30 s away, and its self-check now passes.
  while (waitForTimer && Date.now() - t0 < 45_000) {
    const p = unitProps(node, 'mirrorfleet-cert.service', ['Result', 'ActiveState']);
    if (fs.existsSync(live) && p.Result === 'success' && p.ActiveState !== 'activating') {
      byTimer = true;
      break;
    }
    await sleep(1000);
  }
  // The timer retires itself after issuance (its trigger time goes with it): count the held-back runs instead.
  const heldBack = unitJournal(node, 'mirrorfleet-cert.service', 200).split(HELD_BACK).length - 1;
  if (!byTimer) {
    console.log(waitForTimer ? '  the timer did not fire within 45 s: starting mirrorfleet-cert.service as the timer would' : '  (the wait for the timer is shown on the first example; here the harness fires it)');
    await node.execAsync(['systemctl', 'start', 'mirrorfleet-cert.service']);
  }
  const p = unitProps(node, 'mirrorfleet-cert.service', ['Result', 'ExecMainStatus']);
  results.check(
    `certificate issued on retry${byTimer ? ' by mirrorfleet-cert.timer, no manual step' : ' (started by the harness)'}`,
    p.Result === 'success' && fs.existsSync(live),
    () => `${JSON.stringify(p)}\n${unitJournal(node, 'mirrorfleet-cert.service', 30)}\npebble:\n${tail(world.pebbleLog(), 15)}\n${capEvidence(c)}`,
    `${((Date.now() - t0) / 1000).toFixed(0)} s after DNS was fixed, after ${heldBack} run(s) held back by the self-check`,
  );
  await waitForQuiet(node, ['apache2.service']);
  results.check('HTTPS turned on by itself (deploy hook reloaded Apache, :443 open)', await tcpOpen(world.nodeIp, 443), `${unitJournal(node, 'mirrorfleet-cert.service', 20)}\n${unitJournal(node, 'apache2.service', 10)}`);
}

export async function serviceChecks(c: Ctx, scheme: 'http' | 'https'): Promise<void> {
  const { results, world, config, spec, node } = c;
  const tls = scheme === 'https';
  const caFile = path.join(c.dir, 'preferred-root.pem');
  fs.writeFileSync(caFile, preferredRoot(world).pem);
  const base = tls ? `https://${config.hostname}` : `http://${world.nodeIp}`;
  const opts = tls ? { resolve: { host: config.hostname, ip: world.nodeIp }, caFile } : {};
  const S = scheme.toUpperCase();
  // Headers, types, compression, HEAD, keep-alive, both address families, rsync's refusals,
  // certificate and chain: the product's checker (test/boot/checker.ts). What it cannot know
  // from outside (the upstream's bytes, staged and in-flight files, the logs) is checked here.
  await checkerChecks(results, world, config, scheme);
  for (const t of config.trees) {
    const upstream = world.opts.modules[t.name];
    const url = (rel: string) => `${base}${t.urlPath.replace(/\/?$/, '/')}${rel}`;
    for (const rel of spec.octetStream) {
      await results.run(`${S}: ${path.extname(rel)} byte-exact to the upstream with Accept-Encoding: gzip (N8)`, () => {
        const r = http(url(rel), c.dir, { ...opts, headers: ['Accept-Encoding: gzip, deflate, br'] });
        expect(r.status === 200, `${r.status} ${r.error}\n${r.head}`);
        expect(sha256(r.body) === sha256(fs.readFileSync(path.join(upstream, rel))), `body (${r.body.length} B) differs from upstream`);
        return `${r.body.length} B`;
      });
    }
    await results.run(`${S}: listing of ${spec.listed} (N7)`, () => {
      const r = http(url(spec.listed), c.dir, opts);
      const want = config.http.listings === 'none' ? 403 : 200;
      expect(r.status === want && (want !== 200 || /Index of/.test(r.body.toString())), `${r.status} (expected ${want})`);
    });
    await results.run(`${S}: staged 0750 content not served before the bitflip (N17)`, () => {
      const r = http(url(spec.staged), c.dir, opts);
      expect(r.status === 403 || r.status === 404, `${spec.staged}: ${r.status}`);
      return `${r.status}`;
    });
    await results.run(`${S}: rsync in-flight files (.~tmp~) never served (N8)`, () => {
      const mk = node.exec(['setpriv', `--reuid=${SYNC_USER}`, `--regid=${SYNC_USER}`, '--init-groups', 'sh', '-c', `mkdir -p '${t.path}/.~tmp~' && echo partial > '${t.path}/.~tmp~/partial.iso'`]);
      expect(mk.status === 0, `could not stage a .~tmp~ file: ${mk.stderr}`);
      try {
        const r = http(url('.~tmp~/partial.iso'), c.dir, opts);
        expect(r.status === 403 || r.status === 404, `.~tmp~/partial.iso: ${r.status}`);
        return `${r.status}`;
      } finally {
        node.exec(['rm', '-rf', `${t.path}/.~tmp~`]);
      }
    });
    if (config.reports.trace) {
      await results.run(`${S}: trace file served (N16)`, () => {
        const r = http(url(`project/trace/${config.hostname}`), c.dir, opts);
        expect(r.status === 200 && r.body.toString().includes('Creator: mirrorfleet'), `${r.status}\n${r.body}`);
      });
    }
  }
  await results.run(`${S}: access log records bytes in and out (N6)`, () => {
    const log = fs.readFileSync(node.path(`${NODE_LAYOUT.apacheLogDir}/mirror${tls ? '-ssl' : ''}-access.log`), 'utf8').trim().split('\n');
    const last = log[log.length - 1] ?? '';
    // ... "%r" %>s %b "%{Referer}i" %I %O "%{User-Agent}i" %D
    const m = /" (\d{3}) (\d+|-) "[^"]*" (\d+) (\d+) "[^"]*" \d+$/.exec(last);
    expect(!!m && Number(m[3]) > 0 && Number(m[4]) > 0, `last line: ${last}`);
    return `in ${m![3]} B, out ${m![4]} B`;
  });
  if (tls) return;
  await rsyncChecks(c);
  await ownershipChecks(c);
  await apacheTuningChecks(c);
  if (config.rsync.private) await tier1Checks(c);
  if (config.reports.reportMirror) await reportMirrorChecks(c);
}

async function rsyncChecks(c: Ctx): Promise<void> {
  const { results, world, config, spec } = c;
  if (!config.rsync.enabled) return;
  for (const t of config.trees) {
    const module = t.urlPath.replace(/^\/|\/$/g, '');
    await results.run('rsync: a pull gets the tree, without staged 0750 content (N10, N17)', () => {
      const dest = path.join(c.dir, `pull-${module}`);
      fs.rmSync(dest, { recursive: true, force: true });
      const r = rsync(['-rlpt', `rsync://${world.nodeIp}/${module}/`, `${dest}/`]);
      expect(r.status === 0, `rsync exit ${r.status}: ${r.out}`);
      const upstream = manifest(world.opts.modules[t.name]);
      const pulled = manifest(dest);
      const stagedDir = Object.keys(spec.dirModes);
      const ignore = (rel: string) => rel === 'project' || rel.startsWith('project/') || spec.excluded.some((x) => x === rel || x.startsWith(`${rel}/`)) || stagedDir.some((d) => rel === d || rel.startsWith(`${d}/`)) || t.excludes.some((p) => globMatch(p, rel));
      const diff = diffManifests(upstream, pulled, ignore);
      expect(diff.length === 0, diff.join('\n'));
      expect(!pulled.has(spec.staged), `the staged file ${spec.staged} was served by public rsync`);
      fs.rmSync(dest, { recursive: true, force: true });
      return `${pulled.size} entries`;
    });
  }
}

async function ownershipChecks(c: Ctx): Promise<void> {
  const { results, node, config } = c;
  await results.run('the sync user owns the tree (N17)', () => {
    for (const t of config.trees) {
      const r = node.exec(['find', t.path, '(', '!', '-user', SYNC_USER, '-o', '!', '-group', SYNC_USER, ')', '-print']);
      expect(r.status === 0 && r.stdout.trim() === '', `not owned by ${SYNC_USER}:${SYNC_USER}:\n${tail(r.stdout + r.stderr, 10)}`);
    }
  });
  await results.run('Apache and rsyncd run as other users than the sync user (N17)', () => {
    const ps = node.exec(['ps', '-eo', 'user:20,comm']).stdout;
    const users = (comm: string) => [...new Set(ps.split('\n').filter((l) => l.trim().split(/\s+/)[1] === comm).map((l) => l.trim().split(/\s+/)[0]))].sort();
    const apache = users('apache2');
    expect(apache.includes('www-data') && !apache.includes(SYNC_USER), `apache2 processes run as: ${apache.join(', ')}`);
    const rsyncd = users('rsync');
    expect(rsyncd.length > 0 && !rsyncd.includes(SYNC_USER), `rsync daemon processes run as: ${rsyncd.join(', ')}`);
    const conf = readNodeFile(node, '/etc/rsyncd.conf');
    expect(/^uid = nobody$/m.test(conf), 'rsyncd.conf has no "uid = nobody"');
    for (const u of ['www-data', 'nobody']) {
      const g = node.exec(['id', '-nG', u]).stdout.trim().split(/\s+/);
      expect(!g.includes(SYNC_USER), `${u} is in group ${SYNC_USER}: ${g.join(' ')}`);
    }
    return `apache2: ${apache.join(',')}; rsync daemon: ${rsyncd.join(',')} (transfers as nobody)`;
  });
}

async function apacheTuningChecks(c: Ctx): Promise<void> {
  const { results, node, config } = c;
  await results.run('Apache: event MPM sized for at least 30 downloads (N2)', () => {
    const v = node.exec(['apache2ctl', '-V']).stdout;
    expect(/Server MPM:\s+event/.test(v), `apache2ctl -V: ${v}`);
    const conf = readNodeFile(node, '/etc/apache2/conf-enabled/mirrorfleet.conf');
    const workers = Number(/MaxRequestWorkers\s+(\d+)/.exec(conf)?.[1] ?? 0);
    expect(workers >= 30 && workers === config.http.maxRequestWorkers, `MaxRequestWorkers ${workers} in conf-enabled/mirrorfleet.conf`);
    const deflate = node.exec(['apache2ctl', '-M']).stdout;
    expect(!/deflate_module/.test(deflate), 'mod_deflate is loaded');
    return `MaxRequestWorkers ${workers}, no mod_deflate`;
  });
}

async function connectionCapCheck(c: Ctx): Promise<void> {
  const { results, world, config } = c;
  const cap = config.http.perIpConnectionLimit!;
  await results.run(`per-IP connection cap: ${cap} open, the next ones not answered (SYN dropped, N5)`, async () => {
    const r = await concurrentConnections(world.nodeIp, 80, cap + 2);
    expect(r.open === cap && r.refused === 2, `${r.open} open, ${r.refused} refused (expected ${cap} and 2)\n${capEvidence(c)}`);
    return `${r.open} open, ${r.refused} not answered within 3 s`;
  });
  // A cap that does not let go would lock out a busy client (and the CA's validation) for good.
  await results.run(`per-IP connection cap lets go once connections close: ${cap} simultaneous requests served again (N5)`, async () => {
    const t0 = Date.now();
    let served = 0;
    while ((served = await simultaneousRequests(world.nodeIp, 80, cap)) < cap && Date.now() - t0 < 60_000) await sleep(500);
    expect(served === cap, `${served} of ${cap} served 60 s after the connections closed\n${capEvidence(c)}`);
    return `after ${((Date.now() - t0) / 1000).toFixed(1)} s`;
  });
}

async function tier1Checks(c: Ctx): Promise<void> {
  const { results, world, config, spec } = c;
  const p = config.rsync.private!;
  const t = config.trees[0];
  const staged = spec.staged.split('/').slice(0, -1).join('/');
  await results.run(`tier-1 rsync on ${p.port}: listed downstream pulls staged content (N11)`, () => {
    const r = rsync([`rsync://${world.nodeIp}:${p.port}/${t.name}/${staged}/`]);
    expect(r.status === 0 && r.out.includes(path.basename(spec.staged)), `exit ${r.status}: ${r.out}`);
  });
  await results.run(`tier-1 rsync on ${p.port}: other hosts refused (N11)`, () => {
    const r = rsync([`rsync://[${world.nodeIp6}]:${p.port}/${t.name}/`]);
    // rsync 3.2+ answers a host outside "hosts allow" of a "list = no" module as if it did not exist.
    expect(r.status !== 0 && /access denied|Unknown module|Connection refused|reset/i.test(r.out) && !r.out.includes(path.basename(spec.staged)), `exit ${r.status}: ${r.out}`);
    return quoteLine(r.out, /denied|Unknown module|refused|reset/i) || r.out;
  });
}

/**
 * Fedora (N16): report_mirror is downloaded at first boot (from the GitHub stand-in). The first
 * sync runs before the admin has placed the MirrorManager password, so its report fails while the
 * sync succeeds; once the password is there, the next sync checks in.
 */
async function reportMirrorChecks(c: Ctx): Promise<void> {
  const { results, node, config, world } = c;
  const rm = config.reports.reportMirror!;
  const t = config.trees[0];
  await results.run('report_mirror downloaded at first boot', () => {
    const st = node.exec(['stat', '-c', '%a %U', '/usr/local/bin/report_mirror']);
    expect(st.status === 0 && st.stdout.trim() === '755 root', `/usr/local/bin/report_mirror: ${st.stdout}${st.stderr}`);
    expect(world.standInLog.some((e) => e.host === 'raw.githubusercontent.com'), 'the GitHub stand-in was never asked');
  });
  await results.run('without the password file, the report fails and the sync still succeeds (N16)', () => {
    const prom = readVolumeFile(c, `${NODE_LAYOUT.metricsDir}/mirrorfleet_hooks_${t.name}.prom`);
    const j = unitJournal(node, `${syncUnitName(t)}.service`, 40);
    const sent = reportCheckins(world).map((ci) => `check-in received by MirrorManager: site=${ci.site} host=${ci.host} password=${JSON.stringify(ci.password)}`);
    const evidence = `${j}\n${sent.join('\n')}\n${prom}`;
    expect(/report_mirror: FAILED/.test(j), `the hook did not fail:\n${evidence}`);
    expect(new RegExp(`mirrorfleet_sync_hook_failures\\{tree="${t.name}"\\} 1`).test(prom), evidence);
    expect(sent.length === 0, `a check-in was sent without the password:\n${evidence}`);
    return quoteLine(j, /report_mirror: FAILED/);
  });
  await results.run('with the password placed, the next sync checks in to MirrorManager (N16)', async () => {
    const password = 'boot-test-secret-1234';
    const place = node.shell(`install -d -m 0750 -o root -g mirror ${path.dirname(rm.passwordFile)} && printf %s '${password}' > ${rm.passwordFile} && chown root:mirror ${rm.passwordFile} && chmod 0640 ${rm.passwordFile}`);
    expect(place.status === 0, place.stderr);
    // The next sync with something to report: the master publishes an update (file list included).
    const upstream = world.opts.modules[t.name];
    const update = 'linux/updates/44/Everything/x86_64/repodata/repomd.xml';
    fs.mkdirSync(path.dirname(path.join(upstream, update)), { recursive: true });
    fs.writeFileSync(path.join(upstream, update), '<?xml version="1.0"?>\n<repomd><revision>f44-updates</revision></repomd>\n');
    republish(c, t.name);
    const before = reportCheckins(world).length;
    const s = await node.execAsync(['systemctl', 'start', `${syncUnitName(t)}.service`]);
    expect(s.status === 0, `${s.stderr}\n${unitJournal(node, `${syncUnitName(t)}.service`, 30)}`);
    const checkins = reportCheckins(world).slice(before);
    expect(checkins.length === 1, `${checkins.length} check-ins\n${unitJournal(node, `${syncUnitName(t)}.service`, 30)}`);
    const ci = checkins[0];
    expect(ci.site === rm.site && ci.host === rm.host && ci.password === password, JSON.stringify(ci));
    const files = Object.values(ci.categories).flat();
    expect(Object.keys(ci.categories).includes('Fedora Linux') && files.some((f) => f.endsWith('.iso')), JSON.stringify(ci.categories));
    const leftovers = node.shell(`grep -rl '${password}' /tmp /var/tmp /etc/mirrorfleet/report_mirror.conf 2>/dev/null || true`).stdout.trim();
    expect(leftovers === '', `the password was left in: ${leftovers}`);
    return `site ${ci.site}, host ${ci.host}, ${files.length} files in ${Object.keys(ci.categories).join(', ')}`;
  });
}

async function httpsChecks(c: Ctx): Promise<void> {
  const { results, world, config, node } = c;
  if (!config.https.enabled) return;
  const preferred = preferredRoot(world);
  // The served chain, its root and the name in it: the checker's certificate and chain checks
  // (trusting the preferred root alone, so the default chain would not verify).
  await results.run('certbot wrote preferred_chain and the deploy hook into the renewal file (N19)', () => {
    const conf = readNodeFile(node, `${NODE_LAYOUT.letsencryptDir}/renewal/${CERT_NAME}.conf`);
    expect(conf.includes(`preferred_chain = ${preferred.cn}`), conf);
    expect(/renew_hook = \/usr\/local\/bin\/mirrorfleet-cert-deploy /.test(conf), conf);
    expect(conf.includes(`server = ${world.acmeDirectory}`), conf);
  });
  await results.run('certificate expiry metric written by the deploy hook (N21)', () => {
    const prom = readNodeFile(node, `${NODE_LAYOUT.metricsDir}/mirrorfleet_cert.prom`);
    expect(/mirrorfleet_cert_not_after_timestamp_seconds\{domain="[^"]+"\} \d+/.test(prom), prom || 'no mirrorfleet_cert.prom');
  });
  await results.run('ACME webroot in place, HTTP still served after HTTPS came up (N1)', () => {
    expect(fs.existsSync(node.path(acmeWebroot(NODE_LAYOUT))), 'no ACME webroot');
    const r = http(`http://${world.nodeIp}/`, c.dir);
    expect(r.status === 200, `HTTP after HTTPS: ${r.status} ${r.head}`);
  });
  await serviceChecks(c, 'https');
}

/** Every unit the product installs is enabled and in its expected state; systemd is "running". */
export async function stateChecks(c: Ctx, when: string): Promise<void> {
  const { results, node, config } = c;
  const a = assess(node);
  results.check(`systemctl is-system-running: running, no failed units (${when})`, a.systemState === 'running' && a.failedUnits.length === 0, a.quote);
  results.check(`cloud-init: done, no errors (${when})`, a.cloudInitDone && a.cloudInitErrors.length === 0, a.quote);
  // systemd breaks an ordering cycle by dropping a job: some unit silently does not start or stop.
  const cycles = (boot: string) => node.exec(['journalctl', '-b', boot, '--no-pager', '-o', 'cat', '-g', 'ordering cycle|to break ordering cycle']).stdout.trim();
  // At boot, before journald runs, systemd reports a cycle on the console only.
  const console0 = node.bootOutput().split('\n').filter((l) => /ordering cycle|deleted to break ordering cycle/.test(l)).join('\n');
  const now = [cycles('0'), console0].filter(Boolean).join('\n');
  results.check(`no ordering cycle in systemd's journal or on the console (${when})`, now === '', now);
  if (when !== 'first boot' && when !== 'rebuild') {
    const before = cycles('-1');
    results.check(`no ordering cycle at the previous shutdown (${when})`, before === '', before);
  }
  const expected: { unit: string; unitFile?: 'enabled' | 'disabled'; active: string[] }[] = [
    { unit: 'apache2.service', unitFile: 'enabled', active: ['active/running'] },
    ...(config.rsync.enabled ? [{ unit: 'rsync.service', unitFile: 'enabled' as const, active: ['active/running'] }] : []),
    ...(config.https.enabled ? [{ unit: 'certbot.timer', unitFile: 'enabled' as const, active: ['active/waiting'] }] : []),
    // The role's units and the host's (the certificate's), as the product declares them.
    ...[...renderUnits(config, NODE_LAYOUT), ...(c.config.https.enabled ? certificateUnits(nodeCertificate(config)!, NODE_LAYOUT) : [])].map((u) => ({ unit: u.name, ...expectedState(u.name, u.enable) })),
  ];
  const bad: string[] = [];
  const summary: string[] = [];
  for (const e of expected) {
    const p = unitProps(node, e.unit, ['LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'Result']);
    const state = `${p.ActiveState}/${p.SubState}`;
    const enabledOk = e.unitFile === undefined || p.UnitFileState === e.unitFile;
    const ok = p.LoadState === 'loaded' && enabledOk && e.active.includes(state) && (p.Result === 'success' || p.Result === '');
    summary.push(`${e.unit} ${p.UnitFileState} ${state}`);
    if (!ok) bad.push(`${e.unit}: loaded=${p.LoadState} enabled=${p.UnitFileState} state=${state} result=${p.Result} (expected ${e.unitFile ? `${e.unitFile}, ` : ''}${e.active.join(' or ')})\n${unitJournal(node, e.unit, 8)}`);
  }
  results.check(`every product unit enabled and in its expected state (${expected.length} units, ${when})`, bad.length === 0, bad.join('\n'));
  if (bad.length === 0) console.log(`      ${summary.join('\n      ')}`);
}

/** Once the certificate is issued: the retry timer is retired, timers wait, services run or wait to be started. */
function expectedState(unit: string, enable: boolean): { unitFile?: 'enabled' | 'disabled'; active: string[] } {
  if (unit === 'mirrorfleet-cert.timer') return { unitFile: 'disabled', active: ['inactive/dead'] };
  if (unit.endsWith('.timer')) return { unitFile: enable ? 'enabled' : undefined, active: ['active/waiting'] };
  if (!enable) return { active: ['inactive/dead'] };
  return { unitFile: 'enabled', active: [unit === 'mirrorfleet-nftables.service' ? 'active/exited' : 'active/running'] };
}

async function reboot(c: Ctx): Promise<void> {
  const { results, node, volume, config, world } = c;
  const before = volume.probe();
  const tag = `sentinel-${Date.now()}`;
  node.exec(['sh', '-c', `echo ${tag} > ${config.storage.mountPoint}/.boot-test-sentinel && sync`]);
  await node.shutdown();
  if (config.storage.filesystem === 'ext4') {
    const state = sh('dumpe2fs', ['-h', volume.device]).stdout;
    results.check('clean shutdown: the ext4 volume was unmounted cleanly', /Filesystem state:\s+clean/.test(state), tail(state.split('\n').filter((l) => /state|mount/i.test(l)).join('\n'), 5));
  }
  // systemd does not mount fstab devices in a container: the harness does it from the node's fstab.
  const fstabMount = node.volume!.mountFromFstab(readNodeFile(node, '/etc/fstab'), config.storage.mountPoint, path.join(c.dir, 'volume-mnt'));
  c.unmountVolume = fstabMount.unmount;
  await node.boot([fstabMount.bind]);
  const wait = await waitForCloudInit(node);
  const ignored = node.exec(['journalctl', '-b', '--no-pager', '-o', 'cat', '-g', 'ignoring fstab device entry']).stdout.trim();
  if (ignored) console.log(`  systemd in the container: "${ignored.split('\n')[0]}" (mounted by the harness from that fstab line)`);
  console.log(`  second boot: cloud-init ${wait.finished ? 'done' : 'NOT done'} after ${wait.seconds.toFixed(1)} s`);
  if (!results.check('reboot: cloud-init finished', wait.finished, () => `${wait.problem}\n${assess(node).quote}`)) return;
  await waitForQuiet(node, startedAtProvision(config));
  persistenceChecks(c, before.uuid, tag, 'reboot');
  const provisions = (readNodeFile(node, '/var/log/cloud-init-output.log').match(/mirrorfleet-provision: done/g) ?? []).length;
  results.check('reboot: per-instance provisioning not run again (same instance-id)', provisions === 1, `"mirrorfleet-provision: done" ${provisions} times in cloud-init-output.log`);
  results.check('reboot: HTTPS up at once (certificate on the root disk)', !config.https.enabled || (await tcpOpen(world.nodeIp, 443)), 'nothing on :443 after the reboot');
  await syncChecks(c, 'reboot', false);
  await stateChecks(c, 'reboot');
}

async function rebuild(c: Ctx, baseFile: string, instanceId: string): Promise<void> {
  const { results, node, volume, config, world } = c;
  const before = volume.probe();
  const tag = fs.readFileSync(node.path(`${config.storage.mountPoint}/.boot-test-sentinel`), 'utf8').trim();
  await node.shutdown();
  if (c.unmountVolume) await c.unmountVolume();
  const upstreamMark = world.upstreamLog().length;
  node.prepare(baseFile, { userData: fs.readFileSync(path.join(c.dir, 'user-data'), 'utf8'), instanceId });
  const wait = await bootAndWait(c);
  console.log(`  rebuilt node: cloud-init ${wait.finished ? 'done' : 'NOT done'} after ${wait.seconds.toFixed(1)} s`);
  if (!results.check('rebuild: cloud-init finished', wait.finished, () => `${wait.problem}\n${assess(node).quote}`)) return;
  await waitForQuiet(node, startedAtProvision(config));
  results.check('rebuild: cloud-init ran again for the new instance-id', /mirrorfleet-provision: done/.test(readNodeFile(node, '/var/log/cloud-init-output.log')) && node.exec(['cloud-init', 'query', 'instance_id']).stdout.trim() === instanceId, readNodeFile(node, '/var/log/cloud-init-output.log').slice(-2000));
  persistenceChecks(c, before.uuid, tag, 'rebuild');
  await syncChecks(c, 'rebuild');
  // The upstream's own transfer log: a rebuilt node that kept its volume fetches no tree file
  // again (its markers, a file list or timestamp, are what a sync reads first).
  const markers = config.trees.flatMap((t) => treeMarkers(c, t.name));
  const sent = world
    .upstreamLog()
    .slice(upstreamMark)
    .split('\n')
    .filter((l) => /\] send /.test(l) && !markers.some((m) => l.includes(`send ${m} `)) && !/\] send project\/trace\//.test(l));
  results.check('rebuild: the first sync found the tree in place (the upstream sent no tree file)', sent.length === 0, sent.slice(0, 10).join('\n'));
  if (config.https.enabled) {
    const p = unitProps(node, 'mirrorfleet-cert.service', ['Result']);
    results.check('rebuild: DNS already right, the first certificate attempt succeeds and HTTPS is on', p.Result === 'success' && (await tcpOpen(world.nodeIp, 443)), `${JSON.stringify(p)}\n${unitJournal(node, 'mirrorfleet-cert.service', 20)}`);
  }
  await stateChecks(c, 'rebuild');
}

/** fstab, the mount unit's state and journal: why the volume is (not) mounted. */
function mountEvidence(c: Ctx): string {
  const unit = c.node.exec(['systemd-escape', '-p', '--suffix=mount', c.config.storage.mountPoint]).stdout.trim();
  return [
    `/etc/fstab:\n${readNodeFile(c.node, '/etc/fstab').trim()}`,
    `$ systemctl status ${unit}\n${c.node.exec(['systemctl', 'status', '--no-pager', '-n', '0', unit]).stdout.trim()}`,
    `$ journalctl -b -u ${unit}\n${unitJournal(c.node, unit, 10)}`,
    `$ ls -l /dev/disk/by-label /dev/disk/by-id\n${c.node.shell('ls -l /dev/disk/by-label /dev/disk/by-id 2>&1').stdout.trim()}`,
  ].join('\n');
}

export function persistenceChecks(c: Ctx, uuid: string, tag: string, when: string): void {
  const { results, volume, node, config } = c;
  const now = volume.probe();
  // What the data-volume bootcmd said on every boot so far (lib/render/data-volume.ts).
  const fsSetup = () =>
    readNodeFile(node, '/var/log/cloud-init-output.log')
      .split('\n')
      .filter((l) => l.startsWith('mirrorfleet-data-volume: '))
      .join('\n');
  results.check(
    `${when}: data volume not reformatted (same UUID ${uuid.slice(0, 8)}...)`,
    now.uuid === uuid && uuid !== '',
    () => `UUID before ${uuid}, now ${now.uuid}\n/var/log/cloud-init-output.log:\n${fsSetup()}`,
    fsSetup().split('\n').pop() || undefined,
  );
  const sentinel = node.path(`${config.storage.mountPoint}/.boot-test-sentinel`);
  const content = fs.existsSync(sentinel) ? fs.readFileSync(sentinel, 'utf8').trim() : '(missing)';
  results.check(`${when}: content written before is still on the volume`, content === tag, `sentinel: ${content}`);
  const m = node.exec(['findmnt', '-n', '-o', 'SOURCE,FSTYPE', config.storage.mountPoint]);
  results.check(`${when}: volume mounted at ${config.storage.mountPoint}`, m.status === 0, () => mountEvidence(c));
}

