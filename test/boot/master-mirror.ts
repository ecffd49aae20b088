import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeConfig } from '../../lib/config/node-config';
import { CERT_SERVICE } from '../../lib/host/certificate';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { syncUnitName } from '../../lib/render/systemd';
import { assess } from './assess';
import { bootUserData } from './config';
import { readNodeFile, unitJournal, unitProps, waitForCloudInit, waitForQuiet } from './inspect';
import type { MasterCtx } from './master';
import { nodeFromMasterConfig } from './master-config';
import { buildOutput } from './master-upload';
import { DataVolume, Node } from './node';
import { expect } from './results';
import { tail } from './sh';
import { TREES, diffManifests, manifest } from './trees';

/**
 * A mirror of the project, booted: the xcp-ng example node in a world of its own, linked to the
 * master's, its tree's upstream the master's module (by the master's host name) with the file
 * list strategy. Its first sync at first boot gets the published tree through the master's
 * ACL; a second sync with nothing changed stops on the master's file list without walking.
 */

/** The master's rsyncd log (transfer logging: one "send" line per file served). */
export const masterRsyncLog = (c: MasterCtx) => readNodeFile(c.master, '/var/log/rsyncd.log');

/** Published paths a public mirror gets: all but the staged (0750) release and what the master and node write themselves. */
export function publicTreeDiff(c: MasterCtx, dir: string, list: string): string[] {
  const staged = Object.keys(TREES['xcp-ng'].dirModes);
  const ignore = (rel: string) => rel === 'project' || rel.startsWith('project/') || rel === list || staged.some((d) => rel === d || rel.startsWith(`${d}/`));
  return diffManifests(manifest(buildOutput(c)), manifest(dir), ignore);
}

export async function mirrorFromMaster(c: MasterCtx, baseFile: string, nodes: Node[]): Promise<void> {
  const { results, nodeWorld: world, boot } = c;
  const config = nodeFromMasterConfig(world, boot.project);
  const t = config.trees[0];
  // The node's world resolves the master's name to its address on the link; the node's own
  // name already points at it (the certificate comes at first boot: not what this run shows).
  await world.setA(boot.project.master.node.hostname, c.link.aIp);
  await world.setA(config.hostname, world.nodeIp);
  const volume = new DataVolume(path.join(c.dir, 'node-data.img'), 4096);
  const node = new Node(path.join(c.dir, 'node'), world, volume);
  nodes.push(node);
  node.prepare(baseFile, { userData: bootUserData(config), instanceId: 'iid-node-from-master-1' });
  const mark = masterRsyncLog(c).length;
  await node.boot();
  const wait = await waitForCloudInit(node);
  console.log(`  node ${config.hostname} (${c.link.bIp} towards the master): cloud-init ${wait.finished ? 'done' : 'NOT done'} ${wait.seconds.toFixed(1)} s after boot`);
  if (!results.check('node: cloud-init finished', wait.finished, () => `${wait.problem}\n${assess(node).quote}`)) return;
  const unit = `${syncUnitName(t)}.service`;
  await waitForQuiet(node, [unit, CERT_SERVICE]);
  const a = assess(node);
  results.check('node: cloud-init done without errors, systemd running, no failed unit', a.ok, a.quote);
  const first = syncEvidence(node, config);
  c.figures.push(`node syncing from the master: cloud-init done ${wait.seconds.toFixed(1)} s after boot; first sync ${first.duration}`);
  await results.run(`node: its first sync (${unit}, strategy filelist) got the published tree from the master`, () => {
    expect(first.props.Result === 'success' && /done in \d+ s: \d+ files/.test(first.journal), `${JSON.stringify(first.props)}\n${first.journal}`);
    const diff = publicTreeDiff(c, node.path(t.path), t.fileList!);
    expect(diff.length === 0, diff.join('\n'));
    // The master's public module never serves the staged (0750) release (N17).
    const staged = TREES['xcp-ng'].staged;
    expect(!fs.existsSync(node.path(`${t.path}/${staged}`)), `the staged ${staged} reached the node`);
    const served = masterRsyncLog(c).slice(mark);
    const sends = served.split('\n').filter((l) => / send /.test(l));
    expect(served.includes(`(${c.link.bIp})`) && sends.length > 0, `the master's rsyncd log since the node booted:\n${tail(served, 15)}`);
    return `${/done in .*/.exec(first.journal)?.[0]}; the master's rsyncd sent ${sends.length} files to ${c.link.bIp}`;
  });
  await results.run('node: a second sync with nothing changed stops on the master\'s file list, no walk (N14, M2)', async () => {
    const mark2 = masterRsyncLog(c).length;
    const s = await node.execAsync(['systemctl', 'start', unit]);
    const again = syncEvidence(node, config);
    const line = `unchanged: upstream ${t.fileList} is as at the last good sync; nothing walked or transferred`;
    expect(s.status === 0 && again.journal.includes(line), `${s.stderr}\n${again.journal}`);
    expect(/mirrorfleet_sync_outcome\{tree="xcp-ng",outcome="unchanged"\} 1/.test(again.prom) && /mirrorfleet_sync_files_transferred\{tree="xcp-ng"\} 0/.test(again.prom), again.prom);
    // The master's side: the node asked for the list's entry and nothing else was sent.
    const served = masterRsyncLog(c).slice(mark2);
    const sends = served.split('\n').filter((l) => / send /.test(l));
    expect(sends.length === 0 && served.includes(`(${c.link.bIp})`), `the master's rsyncd log during the second sync:\n${served}`);
    c.figures.push(`no-change sync: ${again.duration} (${line.split(';')[0]})`);
    return `${again.duration}; the master's rsyncd sent nothing`;
  });
}

function syncEvidence(node: Node, config: NodeConfig) {
  const t = config.trees[0];
  const unit = `${syncUnitName(t)}.service`;
  const props = unitProps(node, unit, ['Result', 'ExecMainStartTimestampMonotonic', 'ExecMainExitTimestampMonotonic']);
  const seconds = (Number(props.ExecMainExitTimestampMonotonic) - Number(props.ExecMainStartTimestampMonotonic)) / 1e6;
  const journal = unitJournal(node, unit, 30);
  const prom = readNodeFile(node, `${NODE_LAYOUT.metricsDir}/mirrorfleet_sync_${t.name}.prom`);
  return { props, journal, prom, duration: `${seconds.toFixed(2)} s (the service's run)` };
}

