import * as fs from 'node:fs';
import * as path from 'node:path';
import { CERT_SERVICE, certificateUnits } from '../../lib/host/certificate';
import type { UnitFile } from '../../lib/host/units';
import { ACL_UNITS, NFT_ACL_TABLE, aclPaths } from '../../lib/roles/master/acl-files';
import { masterAcl } from '../../lib/roles/master/acl';
import { masterUnits } from '../../lib/roles/master/files';
import { nodeCertificate } from '../../lib/roles/mirror-node/role';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { assess } from './assess';
import { cleanup } from './cleanup';
import { preferredRoot } from './config';
import { cloudInitErrors, readNodeFile, unitJournal, unitProps, waitForCloudInit, waitForQuiet } from './inspect';
import { BootProject, NODE_MIRROR, masterUserData, sshKey, writeBootProject } from './master-config';
import { aclChange, refusedFromOutside } from './master-acl';
import { mirrorFromMaster } from './master-mirror';
import { restrictedKeyChecks, uploadAndPublish } from './master-upload';
import { DataVolume, Node } from './node';
import { http, tcpOpen } from './probe';
import { runRedirector } from './redirector';
import { Results } from './results';
import { scratch } from './scenario';
import { sleep, tail } from './sh';
import { World } from './world';
import { WorldLink, linkWorlds } from './world-link';

/**
 * The project's master booted from its generic user data (examples/project.yaml pointed at the
 * test world), then: the build host (the host) uploads with the restricted key and the master
 * publishes; the xcp-ng example node, booted in a world of its own linked to the master's,
 * syncs from the master through mirror-sync and its no-change sync stops on the master's file
 * list; an unlisted address is refused until a new list is applied in place (M1, M2).
 */
export interface MasterCtx {
  readonly results: Results;
  readonly dir: string;
  /** The master's world: the host plays the build host and, later, a new mirror. */
  readonly world: World;
  /** The node's world, linked to the master's (`link`: the master is aIp, the node bIp). */
  readonly nodeWorld: World;
  readonly link: WorldLink;
  readonly boot: BootProject;
  readonly master: Node;
  readonly volume: DataVolume;
  readonly buildKey: { file: string; pub: string };
  /** The boot's figures, printed together at the end. */
  readonly figures: string[];
}

export interface MasterRunOptions {
  /** Then the project's redirector, which syncs its copy from this master (redirector.ts). */
  readonly redirector?: boolean;
  /** Only what the redirector needs of the master: its boot, HTTP(S), the upload and publish. */
  readonly forRedirectorOnly?: boolean;
}

export async function runMaster(index: number, baseFile: string, results: Results, opts: MasterRunOptions = {}): Promise<void> {
  results.setScope('master: ');
  const dir = scratch('master');
  let c: MasterCtx | undefined;
  const nodes: Node[] = [];
  try {
    c = await results.phase('worlds up (the master\'s and a node\'s, linked; the test project files)', async () => {
      const world = new World({ index, dir: path.join(dir, 'world'), modules: {} });
      const nodeWorld = new World({ index: index + 1, dir: path.join(dir, 'node-world'), modules: {} });
      await world.start();
      await nodeWorld.start();
      const link = linkWorlds(world, nodeWorld);
      const keys = path.join(dir, 'keys');
      fs.mkdirSync(keys, { recursive: true });
      const buildKey = sshKey(keys, 'build');
      const boot = writeBootProject({ dir: path.join(dir, 'project'), world, buildKey: buildKey.pub, syncFrom: { [NODE_MIRROR]: [link.bIp] } });
      const userData = masterUserData(boot.project);
      fs.writeFileSync(path.join(dir, 'user-data'), userData);
      // First boot as in real life: the master's name still points somewhere else.
      await world.setA(boot.project.master.node.hostname, world.hostIp);
      const volume = new DataVolume(path.join(dir, 'data.img'), 4096);
      const master = new Node(path.join(dir, 'master'), world, volume);
      nodes.push(master);
      console.log(`  user data: ${Buffer.byteLength(userData)} bytes; master ${world.nodeIp} / ${world.nodeIp6}, ${link.aIp} towards the node (${link.bIp}); data volume ${volume.device}`);
      return { results, dir, world, nodeWorld, link, boot, master, volume, buildKey, figures: [] };
    });
    const ctx = c;
    if (!(await results.phase('first boot (root disk, boot, cloud-init, provisioning)', () => firstBoot(ctx, baseFile)))) return;
    await results.phase('checks: ACL loaded, HTTP, certificate after DNS is fixed, HTTPS', () => serving(ctx));
    if (!(await results.phase('build host upload (rsync over SSH as mirror, then .publish) and publish', () => uploadAndPublish(ctx)))) return;
    if (!opts.forRedirectorOnly) {
      await results.phase('checks: the build host\'s key cannot escape the incoming area or run a shell', () => restrictedKeyChecks(ctx));
      await results.phase('checks: an address not on the list is refused (IPv4 and IPv6)', () => refusedFromOutside(ctx));
      await results.phase('a booted node syncs from the master (mirror-sync), then a no-change sync', () => mirrorFromMaster(ctx, baseFile, nodes));
      await results.phase('list change: a new mirror admitted in place, its first sync', () => aclChange(ctx));
      await results.phase('checks: final state of the master', async () => masterState(ctx));
    }
    console.log(`\n  master figures:\n${ctx.figures.map((f) => `    ${f}`).join('\n')}`);
    // Index + 2: the node's world is index + 1.
    if (opts.redirector) await runRedirector(ctx, index + 2, baseFile, nodes);
  } catch (e) {
    results.fail('scenario', `${(e as Error).stack ?? e}`);
    if (c?.master.running) results.fail('master state at the error', assess(c.master).quote);
  } finally {
    await results.phase('teardown', async () => {
      for (const n of nodes) if (n.running) await n.shutdown();
      await cleanup.runAll();
    });
    results.setScope('');
  }
}

async function firstBoot(c: MasterCtx, baseFile: string): Promise<boolean> {
  const { results, master } = c;
  master.prepare(baseFile, { userData: fs.readFileSync(path.join(c.dir, 'user-data'), 'utf8'), instanceId: 'iid-master-1' });
  await master.boot();
  const wait = await waitForCloudInit(master);
  console.log(`  cloud-init final stage ${wait.finished ? 'done' : 'NOT done'} ${wait.seconds.toFixed(1)} s after boot`);
  c.figures.push(`first boot: cloud-init done ${wait.seconds.toFixed(1)} s after boot; its slowest stages: ${blame(master)}`);
  if (!results.check('cloud-init finished its final stage', wait.finished, () => `${wait.problem}\n${assess(master).quote}`)) return false;
  const busy = await waitForQuiet(master, [CERT_SERVICE]);
  results.check('the first certificate attempt ended', busy.length === 0, `still running after 120 s: ${busy.join(', ')}`);
  const a = assess(master);
  results.check('cloud-init: status done, no errors in result.json', a.cloudInitDone && a.cloudInitErrors.length === 0, a.quote);
  const out = readNodeFile(master, '/var/log/cloud-init-output.log');
  results.check('mirrorfleet-provision finished (runcmd)', /mirrorfleet-provision: done: .* \(master\)/.test(out), () => tail(out, 20));
  const unexpected = a.failedUnits.filter((u) => u !== CERT_SERVICE);
  results.check('no failed unit other than the first certificate attempt', unexpected.length === 0, a.quote);
  const journal = unitJournal(master, CERT_SERVICE, 30);
  results.check('first certificate attempt held back by its self-check while DNS points elsewhere', /not asking the CA yet: .* does not serve/.test(journal), journal);
  const v = c.volume.probe();
  const m = master.exec(['findmnt', '-n', '-o', 'FSTYPE', c.boot.project.master.node.storage.mountPoint]);
  results.check('data volume formatted (ext4, label mirrordata) and mounted', v.type === 'ext4' && v.label === 'mirrordata' && m.stdout.trim() === 'ext4', `${JSON.stringify(v)}; findmnt: ${m.stdout}${m.stderr}`);
  return a.cloudInitDone && cloudInitErrors(master).length === 0 && unexpected.length === 0;
}

/** cloud-init's slowest stages, from its own timing (`cloud-init analyze blame`). */
function blame(node: Node): string {
  const lines = node.exec(['cloud-init', 'analyze', 'blame']).stdout.split('\n');
  const top = lines.map((l) => /^\s*([\d.]+)s \((.+)\)$/.exec(l)).filter((m): m is RegExpExecArray => !!m).slice(0, 3);
  const names: Record<string, string> = { 'package-update-upgrade-install': 'packages', 'scripts-user': 'provisioning (runcmd: the bundle, mirrorfleet-provision)' };
  return top.map((m) => {
    const stage = m[2].replace(/^(init-network|modules-config|modules-final)\/config-/, '');
    return `${names[stage] ?? stage} ${Number(m[1]).toFixed(1)} s`;
  }).join(', ');
}

async function serving(c: MasterCtx): Promise<void> {
  const { results, master, world, boot } = c;
  const p = boot.project;
  const acl = masterAcl(p);
  await results.run('ACL table loaded: nftables sets and rsyncd hosts allow hold the list (M1)', () => {
    const sets = master.exec(['nft', 'list', 'table', 'inet', NFT_ACL_TABLE]).stdout;
    const want = acl.public.filter((a) => !a.includes(':')).map((a) => a.replace(/\/32$/, ''));
    const missing = want.filter((a) => !sets.includes(a));
    if (missing.length || !/tcp dport 873 .*reject with tcp reset/.test(sets)) throw new Error(`missing ${missing.join(', ')}:\n${sets}`);
    const inc = readNodeFile(master, aclPaths(NODE_LAYOUT).publicInclude);
    if (!inc.includes(c.link.bIp)) throw new Error(`${aclPaths(NODE_LAYOUT).publicInclude}:\n${inc}`);
    const prom = readNodeFile(master, `${NODE_LAYOUT.metricsDir}/mirrorfleet_acl.prom`);
    if (!prom.includes(`mirrorfleet_acl_entries{list="public"} ${acl.public.length}`)) throw new Error(prom);
    return `${acl.public.length} public sources (the example's enabled mirrors, the node's ${c.link.bIp}); ${inc.trim().slice(0, 60)}…`;
  });
  const url = `http://${world.nodeIp}${p.master.node.trees[0].urlPath}`;
  await results.run('HTTP serves (the tree, empty before the first upload) (N1)', () => {
    const r = http(url, c.dir);
    if (r.status !== 200) throw new Error(`${url}: ${r.status} ${r.error}\n${r.head}`);
    return `${url}: ${r.status}`;
  });
  // The world's part: DNS now points at the master; the harness fires the retry as the timer would.
  await world.setA(p.master.node.hostname, world.nodeIp);
  const t0 = Date.now();
  const cert = await master.execAsync(['systemctl', 'start', CERT_SERVICE]);
  await waitForQuiet(master, ['apache2.service']);
  const props = unitProps(master, CERT_SERVICE, ['Result']);
  results.check('certificate issued once DNS points at the master', cert.status === 0 && props.Result === 'success', () => `${cert.stderr}\n${unitJournal(master, CERT_SERVICE, 20)}\npebble:\n${tail(world.pebbleLog(), 10)}`, `${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await results.run('HTTPS serves with a chain to the preferred root (N1, N19)', async () => {
    for (let i = 0; i < 20 && !(await tcpOpen(world.nodeIp, 443)); i++) await sleep(250);
    const caFile = path.join(c.dir, 'preferred-root.pem');
    fs.writeFileSync(caFile, preferredRoot(world).pem);
    const r = http(`https://${p.master.node.hostname}${p.master.node.trees[0].urlPath}`, c.dir, { resolve: { host: p.master.node.hostname, ip: world.nodeIp }, caFile });
    if (r.status !== 200) throw new Error(`${r.status} ${r.error}\n${r.head}`);
    return `verified against "${preferredRoot(world).cn}" only`;
  });
}

/** Once the certificate is issued: the retry timer retired, timers wait, services run or wait to be started. */
function expectedState(u: UnitFile): { enabled?: string; active: string[] } {
  if (u.name === 'mirrorfleet-cert.timer') return { enabled: 'disabled', active: ['inactive/dead'] };
  if (/\.(timer|path)$/.test(u.name)) return { enabled: u.enable ? 'enabled' : undefined, active: ['active/waiting'] };
  if (!u.enable) return { active: ['inactive/dead'] };
  return { enabled: 'enabled', active: [/^RemainAfterExit=yes$/m.test(u.content) ? 'active/exited' : 'active/running'] };
}

/** Every unit the master role and its host install is in its expected state; systemd is "running". */
export function masterState(c: MasterCtx): void {
  const { results, master, boot } = c;
  const p = boot.project;
  const a = assess(master);
  results.check('systemctl is-system-running: running, no failed units; cloud-init done without errors', a.ok, a.quote);
  const units: UnitFile[] = [
    ...['apache2.service', 'rsync.service', 'ssh.service'].map((name) => ({ name, enable: true, content: '' })),
    { name: 'certbot.timer', enable: true, content: '' },
    { name: ACL_UNITS.load, enable: true, content: 'RemainAfterExit=yes' },
    ...masterUnits(p, NODE_LAYOUT),
    ...certificateUnits(nodeCertificate(p.master.node)!, NODE_LAYOUT),
  ];
  const bad: string[] = [];
  const summary: string[] = [];
  for (const u of units) {
    const e = expectedState(u);
    const s = unitProps(master, u.name, ['LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'Result']);
    const state = `${s.ActiveState}/${s.SubState}`;
    summary.push(`${u.name} ${s.UnitFileState} ${state}`);
    if (s.LoadState !== 'loaded' || (e.enabled && s.UnitFileState !== e.enabled) || !e.active.includes(state) || !(s.Result === 'success' || s.Result === '')) {
      bad.push(`${u.name}: loaded=${s.LoadState} enabled=${s.UnitFileState} state=${state} result=${s.Result} (expected ${e.enabled ?? ''} ${e.active.join(' or ')})\n${unitJournal(master, u.name, 8)}`);
    }
  }
  results.check(`every unit of the master enabled and in its expected state (${units.length} units)`, bad.length === 0, bad.join('\n'));
  if (bad.length === 0) console.log(`      ${summary.join('\n      ')}`);
}
