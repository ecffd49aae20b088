import * as fs from 'node:fs';
import * as path from 'node:path';
import { CERT_SERVICE } from '../../lib/host/certificate';
import type { ProjectConfig } from '../../lib/project/project';
import { GEOIP_KEY_FILE, REDIRECTOR_UNITS } from '../../lib/roles/redirector/files';
import { REDIRECTOR_LAYOUT, mirrorbitsBin } from '../../lib/roles/redirector/layout';
import { syncUnitName } from '../../lib/render/systemd';
import { buildStandinTarball } from '../redirector/standin/artifact';
import { assess } from './assess';
import { readNodeFile, unitJournal, unitProps, waitForCloudInit, waitForQuiet } from './inspect';
import type { MasterCtx } from './master';
import { masterRsyncLog, publicTreeDiff } from './master-mirror';
import { buildOutput } from './master-upload';
import { DataVolume, Node } from './node';
import { LICENCE_KEY, aclWithRedirector, redirectorUserData, writeRedirectorProject } from './redirector-config';
import { certificateAndHttps, fromOutside, reconcileAgain, redirectorState } from './redirector-checks';
import { GeoipArchive, geoipArchives, mirrorHosts, mirrorSites, redirectorStandIns, startMirrors } from './redirector-world';
import { Results, expect } from './results';
import { must, sleep, tail } from './sh';
import { TREES } from './trees';
import { World } from './world';
import { WorldLink, linkWorlds } from './world-link';

/**
 * The project's redirector booted from its generic user data, after the master (which it syncs
 * its copy from) in the same run: a world of its own linked to the master's, where the host plays
 * the artifact server (the mirrorbits stand-in), MaxMind and the example's mirrors. First boot as
 * on Hetzner (no licence key yet), the operator places the key, then everything is checked from
 * outside: redirects, the forged X-Forwarded-For, closed ports, /healthz, the reconciled list and
 * a second reconcile that writes nothing, the certificate and HTTPS, the units.
 */
export interface RedirectorCtx {
  readonly results: Results;
  readonly dir: string;
  readonly m: MasterCtx;
  readonly world: World;
  /** The redirector is aIp, the master bIp. */
  readonly link: WorldLink;
  readonly project: ProjectConfig;
  readonly node: Node;
  readonly volume: DataVolume;
  /** The mirrors' copy of the master's public tree (what the host serves as each mirror). */
  readonly mirrorTree: string;
  readonly archives: readonly GeoipArchive[];
  readonly figures: string[];
}

export const mbCli = (c: RedirectorCtx, ...args: string[]) => {
  const [host, port] = REDIRECTOR_LAYOUT.mirrorbitsRpc.split(':');
  return c.node.exec([mirrorbitsBin(REDIRECTOR_LAYOUT), '-h', host, '-p', port, ...args]);
};

export async function runRedirector(m: MasterCtx, index: number, baseFile: string, nodes: Node[]): Promise<void> {
  const { results } = m;
  results.setScope('redirector: ');
  const dir = path.join(m.dir, 'redirector');
  let c: RedirectorCtx | undefined;
  try {
    c = await results.phase('world up (artifact, MaxMind and the mirrors played by the host; linked to the master), the master admits it', () => setUp(m, index, dir, nodes));
    const ctx = c;
    if (!(await results.phase('first boot (root disk, boot, cloud-init, provisioning; no licence key yet)', () => firstBoot(ctx, baseFile)))) return;
    if (!(await results.phase('the operator places the licence key: GeoIP fetched, mirrorbits reloaded, the list reconciled', () => licenceKey(ctx)))) return;
    await results.phase('checks from outside: redirects, the forged X-Forwarded-For, closed ports, /healthz', () => fromOutside(ctx));
    await results.phase('a second reconcile with nothing changed writes nothing', () => reconcileAgain(ctx));
    await results.phase('certificate after DNS is fixed, HTTPS', () => certificateAndHttps(ctx));
    await results.phase('checks: final state of the redirector', () => redirectorState(ctx));
    console.log(`\n  redirector figures:\n${ctx.figures.map((f) => `    ${f}`).join('\n')}`);
  } catch (e) {
    results.fail('scenario', `${(e as Error).stack ?? e}`);
    if (c?.node.running) results.fail('redirector state at the error', assess(c.node).quote);
  } finally {
    results.setScope('master: ');
  }
}

async function setUp(m: MasterCtx, index: number, dir: string, nodes: Node[]): Promise<RedirectorCtx> {
  fs.mkdirSync(dir, { recursive: true });
  const artifact = buildStandinTarball(path.join(dir, 'mirrorbits-standin.tar.gz'));
  const archives = geoipArchives(path.join(dir, 'geoip'));
  // The mirrors hold the master's public tree, sizes and mtimes as published (-t all along).
  const mirrorTree = path.join(dir, 'mirror-tree');
  const staged = Object.keys(TREES['xcp-ng'].dirModes).map((d) => `--exclude=/${d}/`);
  must('rsync', ['-a', ...staged, `${buildOutput(m)}/`, `${mirrorTree}/`]);
  const sites = (p: ProjectConfig) => mirrorSites(p, mirrorTree);
  const accountId = m.boot.project.redirector!.geoip.accountId;
  const world = new World({
    index,
    dir: path.join(dir, 'world'),
    modules: {},
    standIns: redirectorStandIns({ artifact: fs.readFileSync(artifact.file), archives, accountId, mirrors: sites(m.boot.project) }),
  });
  await world.start();
  const link = linkWorlds(world, m.world, 'mfredir');
  const boot = writeRedirectorProject({ dir: path.join(dir, 'project'), master: m.boot, world, sha256: artifact.sha256 });
  const p = boot.project;
  await startMirrors(world, p, mirrorTree, path.join(dir, 'mirrors'));
  for (const h of mirrorHosts(p)) await world.setA(h, world.hostIp);
  // The redirector reaches the master by name over the link; its own name points elsewhere first.
  await world.setA(p.master.node.hostname, link.bIp);
  await world.setA(p.redirector!.node.hostname, world.hostIp);
  // The master admits the redirector's addresses, as the project stacks pass them to its ACL.
  fs.writeFileSync(m.master.path('/var/tmp/mirrors-redirector.acl'), aclWithRedirector(m.boot.project, link));
  const apply = m.master.exec(['mirrorfleet-acl', 'apply', '/var/tmp/mirrors-redirector.acl']);
  expect(apply.status === 0, `mirrorfleet-acl apply on the master: exit ${apply.status}\n${apply.stdout}${apply.stderr}`);
  const userData = redirectorUserData(p);
  fs.writeFileSync(path.join(dir, 'user-data'), userData);
  const volume = new DataVolume(path.join(dir, 'data.img'), 4096);
  const node = new Node(path.join(dir, 'node'), world, volume);
  nodes.push(node);
  console.log(`  user data: ${Buffer.byteLength(userData)} bytes; redirector ${world.nodeIp} / ${world.nodeIp6}, ${link.aIp} towards the master (${link.bIp}); artifact sha256 ${artifact.sha256.slice(0, 16)}…; ${apply.stdout.trim().split('\n').pop()}`);
  return { results: m.results, dir, m, world, link, project: p, node, volume, mirrorTree, archives, figures: [] };
}

const syncUnit = (c: RedirectorCtx) => `${syncUnitName(c.project.redirector!.node.trees[0])}.service`;

/** Failed at first boot, and why: nothing else may fail. */
const EXPECTED_FIRST_BOOT_FAILURES: Record<string, RegExp> = {
  // Its self-check held it back: DNS still points elsewhere.
  [CERT_SERVICE]: /not asking the CA yet: .* does not serve/,
  // The operator has not placed the key yet (Hetzner: a file on the host).
  [REDIRECTOR_UNITS.geoip]: /no licence key at .*: place it there/,
  // mirrorbits adds no mirror without the GeoIP databases.
  [REDIRECTOR_UNITS.reconcile]: /GeoIP database could not be loaded/,
};

async function firstBoot(c: RedirectorCtx, baseFile: string): Promise<boolean> {
  const { results, node } = c;
  node.prepare(baseFile, { userData: fs.readFileSync(path.join(c.dir, 'user-data'), 'utf8'), instanceId: 'iid-redirector-1' });
  const mark = masterRsyncLog(c.m).length;
  await node.boot();
  const wait = await waitForCloudInit(node);
  console.log(`  cloud-init final stage ${wait.finished ? 'done' : 'NOT done'} ${wait.seconds.toFixed(1)} s after boot`);
  if (!results.check('cloud-init finished its final stage', wait.finished, () => `${wait.problem}\n${assess(node).quote}`)) return false;
  const busy = await waitForQuiet(node, [syncUnit(c), CERT_SERVICE, REDIRECTOR_UNITS.geoip, REDIRECTOR_UNITS.reconcile]);
  results.check('the units started at provisioning ended (first copy, GeoIP, reconcile, certificate)', busy.length === 0, `still running after 120 s: ${busy.join(', ')}`);
  const a = assess(node);
  results.check('cloud-init: status done, no errors in result.json', a.cloudInitDone && a.cloudInitErrors.length === 0, a.quote);
  const out = readNodeFile(node, '/var/log/cloud-init-output.log');
  results.check('mirrorfleet-provision finished (runcmd)', /mirrorfleet-provision: done: .* \(redirector\)/.test(out), () => tail(out, 20));
  await results.run('the mirrorbits artifact fetched from the infra team\'s server, checked against its sha256, installed', () => {
    const line = /mirrorfleet-provision-redirector: mirrorbits .* installed in .*/.exec(out)?.[0];
    expect(!!line, tail(out, 20));
    expect(c.world.standInLog.some((e) => e.host === 'artifacts.example.org' && e.method === 'GET'), 'the artifact server was never asked');
    return line;
  });
  const unexpected = a.failedUnits.filter((u) => !(u in EXPECTED_FIRST_BOOT_FAILURES));
  results.check('no failed unit other than the certificate, GeoIP and reconcile (each for its expected reason, below)', unexpected.length === 0, a.quote);
  for (const [unit, why] of Object.entries(EXPECTED_FIRST_BOOT_FAILURES)) {
    const journal = unitJournal(node, unit, 30);
    results.check(`${unit}: ${why.source.replace(/\\/g, '').replace(/\.\*/g, '…')}`, why.test(journal), journal);
  }
  const v = c.volume.probe();
  const mp = c.project.redirector!.node.storage.mountPoint;
  const mnt = node.exec(['findmnt', '-n', '-o', 'FSTYPE', mp]);
  results.check('data volume formatted (ext4, label mirrordata) and mounted', v.type === 'ext4' && v.label === 'mirrordata' && mnt.stdout.trim() === 'ext4', `${JSON.stringify(v)}; findmnt: ${mnt.stdout}${mnt.stderr}`);
  const tree = c.project.redirector!.node.trees[0];
  const props = unitProps(node, syncUnit(c), ['Result', 'ExecMainStartTimestampMonotonic', 'ExecMainExitTimestampMonotonic']);
  const syncSeconds = (Number(props.ExecMainExitTimestampMonotonic) - Number(props.ExecMainStartTimestampMonotonic)) / 1e6;
  c.figures.push(`first boot: cloud-init done ${wait.seconds.toFixed(1)} s after boot; the local copy's first sync ${syncSeconds.toFixed(2)} s (the service's run, mirrorbits' refresh included)`);
  await results.run(`the local copy synced from the master (${syncUnit(c)}), then indexed by mirrorbits (R2)`, () => {
    const journal = unitJournal(node, syncUnit(c), 40);
    expect(props.Result === 'success', `${JSON.stringify(props)}\n${journal}`);
    const diff = publicTreeDiff(c.m, node.path(tree.path), `fullfiletimelist-${tree.name}`);
    expect(diff.length === 0, diff.join('\n'));
    const served = masterRsyncLog(c.m).slice(mark);
    const sends = served.split('\n').filter((l) => / send /.test(l) && l.includes(`[${c.link.aIp}]`));
    expect(sends.length > 0, `the master's rsyncd log since the redirector booted:\n${tail(served, 15)}`);
    expect(/mirrorfleet-repo-refresh: mirrorbits indexes the new copy/.test(journal), journal);
    return `the master's rsyncd sent ${sends.length} files to ${c.link.aIp}; ${/done in .*/.exec(journal)?.[0] ?? ''}`;
  });
  return a.cloudInitDone && a.cloudInitErrors.length === 0 && unexpected.length === 0;
}

/**
 * Hetzner's way (docs/redirector.md): the operator installs the key file and starts the GeoIP
 * refresh. From there the product alone must bring the mirror list in: nothing else is run.
 */
async function licenceKey(c: RedirectorCtx): Promise<boolean> {
  const { results, node, world } = c;
  const geoipDir = REDIRECTOR_LAYOUT.geoipDir;
  const t0 = Date.now();
  // As the docs' install -m 0600 /dev/stdin does (the harness's stdin is a socket /dev/stdin cannot open).
  const install = node.exec(['bash', '-c', `install -d -m 0700 ${path.dirname(GEOIP_KEY_FILE)} && (umask 077 && cat > ${GEOIP_KEY_FILE})`], { input: `${LICENCE_KEY}\n` });
  const start = await node.execAsync(['systemctl', 'start', REDIRECTOR_UNITS.geoip]);
  const tGeoip = (Date.now() - t0) / 1000;
  const ok = await results.run('GeoLite2 City and ASN fetched with the account and key, checked, swapped in (R4)', () => {
    expect(install.status === 0 && start.status === 0, `install: ${install.stderr}\nsystemctl start: ${start.stderr}\n${unitJournal(node, REDIRECTOR_UNITS.geoip, 15)}`);
    for (const a of c.archives) {
      const got = fs.readFileSync(node.path(`${geoipDir}/${a.edition}.mmdb`));
      expect(got.equals(a.mmdb), `${geoipDir}/${a.edition}.mmdb is not the database of ${a.name}.tar.gz`);
      const asked = world.standInLog.filter((e) => e.host === 'download.maxmind.com' && e.path.startsWith(`/geoip/databases/${a.edition}/`));
      expect(asked.length >= 2 && asked.every((e) => e.authorization?.startsWith('Basic ')), `MaxMind's stand-in saw: ${JSON.stringify(asked)}`);
    }
    const leftovers = fs.readdirSync(node.path(geoipDir)).filter((f) => !f.endsWith('.mmdb'));
    expect(leftovers.length === 0, `left in ${geoipDir}: ${leftovers.join(', ')}`);
    const prom = readNodeFile(node, `${REDIRECTOR_LAYOUT.host.metricsDir}/mirrorfleet_geoip.prom`);
    expect(/mirrorfleet_geoip_updated_timestamp_seconds \d+/.test(prom), prom || 'no mirrorfleet_geoip.prom');
    return `${tGeoip.toFixed(1)} s; ${c.archives.map((a) => `${a.edition} ${a.sha256.slice(0, 12)}…`).join(', ')}`;
  });
  if (!ok) return false;
  // The product's part from here: the reconcile runs once the databases are there.
  const mirrors = c.project.mirrorList.mirrors;
  const reconciled = await waitFor(60_000, () => {
    const s = unitProps(node, REDIRECTOR_UNITS.reconcile, ['Result', 'ActiveState', 'ExecMainExitTimestampMonotonic']);
    return s.ActiveState !== 'activating' && s.Result === 'success' && s.ExecMainExitTimestampMonotonic !== '0';
  });
  const tList = (Date.now() - t0) / 1000;
  const listed = await results.run('the reconciler applied examples/mirrors.yaml once GeoIP was there, with no other step (R3)', () => {
    const journal = lastRun(node, REDIRECTOR_UNITS.reconcile);
    expect(reconciled, `mirrorfleet-reconcile did not succeed within 60 s of the GeoIP refresh:\n${JSON.stringify(unitProps(node, REDIRECTOR_UNITS.reconcile, ['Result', 'ActiveState', 'NRestarts']))}\n${unitJournal(node, REDIRECTOR_UNITS.reconcile, 20)}`);
    expect(/^done: \d+ applied, 0 failed$/m.test(journal) && mirrors.every((x) => journal.includes(`applied: add ${x.name}`)), journal);
    const list = mbCli(c, 'list');
    const states = listStates(list.stdout);
    const wrong = mirrors.filter((x) => !(x.name in states) || (x.enabled ? states[x.name] === 'disabled' : states[x.name] !== 'disabled'));
    expect(list.status === 0 && wrong.length === 0, `mirrorbits list:\n${list.stdout}${list.stderr}\nwrong: ${wrong.map((x) => x.name).join(', ')}`);
    return `${tList.toFixed(1)} s after the key was placed; ${/^done: .*$/m.exec(journal)?.[0]}; mirrorbits list: ${Object.entries(states).map(([n, s]) => `${n} ${s}`).join(', ')}`;
  });
  if (!listed) return false;
  // Mirrors with an rsync URL are scanned, then health-checked over their HTTP(S) URL.
  const scanned = mirrors.filter((x) => x.enabled && x.rsync).map((x) => x.name);
  const up = await waitFor(120_000, () => scanned.every((n) => listStates(mbCli(c, 'list').stdout)[n] === 'up'));
  const tUp = (Date.now() - t0) / 1000;
  c.figures.push(`licence key placed -> GeoIP in ${tGeoip.toFixed(1)} s, mirror list applied ${tList.toFixed(1)} s, mirrors scanned and up ${tUp.toFixed(1)} s after`);
  return results.check(`the scanned mirrors up (${scanned.join(', ')})`, up, () => `${mbCli(c, 'list').stdout}\n${scanned.map((n) => mbCli(c, 'logs', n).stdout).join('\n')}\n${tail(unitJournal(node, REDIRECTOR_UNITS.mirrorbits, 30), 30)}`, `${tUp.toFixed(1)} s after the key was placed`);
}

/** `mirrorbits list`: name -> state (up, down, up/down, disabled). */
export function listStates(out: string): Record<string, string> {
  return Object.fromEntries(out.split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f[0]).map((f) => [f[0], f[1]]));
}

/** The journal of a unit's last run only (its invocation ID). */
export function lastRun(node: Node, unit: string): string {
  const id = unitProps(node, unit, ['InvocationID']).InvocationID;
  return id ? node.exec(['journalctl', '--no-pager', '-o', 'cat', `_SYSTEMD_INVOCATION_ID=${id}`]).stdout : '';
}

async function waitFor(timeoutMs: number, done: () => boolean): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (done()) return true;
    await sleep(500);
  }
  return done();
}
