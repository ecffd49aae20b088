import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderNodeFiles } from '../../lib/render/node-files';
import { treeConfPath } from '../../lib/render/layout';
import { ASSETS_DIR } from '../../lib/host/files';
import { NFT_ACL_TABLE } from '../../lib/roles/master/acl-files';
import { exampleConfigAt, testLayout } from '../support/fixtures';
import { unitProps } from './inspect';
import type { MasterCtx } from './master';
import { aclText, writeBootProject, NODE_MIRROR } from './master-config';
import { masterRsyncLog, publicTreeDiff } from './master-mirror';
import { rsync } from './probe';
import { expect } from './results';
import { sh, tail } from './sh';

/**
 * The mirror list in place on the booted master (M1, ADR 0026): the host's addresses are not on
 * the list, so its rsync is refused from outside over both families; then a new mirror joins
 * (mirrors.yaml with one more entry, rendered by the product into the list mirrorfleet-acl
 * reads, applied the way the generic variant's operator does it) and the host, now that mirror,
 * syncs with mirrorfleet's own mirror-sync, with no daemon restarted; disabled again, it is refused.
 */

const NEW_MIRROR = 'new-mirror.example.net';
const DAEMONS = ['rsync.service', 'apache2.service', 'ssh.service'];

/** An rsync module listing from the host's address: refused by the master's nftables (a reset, at once). */
function probeFromHost(c: MasterCtx, ip: string) {
  const module = c.boot.project.master.node.trees[0].name;
  return rsync([`rsync://${ip.includes(':') ? `[${ip}]` : ip}/${module}/`]);
}

/** Packets the ACL table's reject rules have answered so far. */
function rejected(c: MasterCtx): number {
  const chain = c.master.exec(['nft', 'list', 'chain', 'inet', NFT_ACL_TABLE, 'input']).stdout;
  return [...chain.matchAll(/counter packets (\d+) bytes \d+ reject/g)].reduce((n, m) => n + Number(m[1]), 0);
}

export async function refusedFromOutside(c: MasterCtx): Promise<void> {
  const { results, world } = c;
  const mark = masterRsyncLog(c).length;
  for (const [family, ip] of [['IPv4', world.nodeIp], ['IPv6', world.nodeIp6]] as const) {
    await results.run(`${family}: the host (${family === 'IPv4' ? world.hostIp : world.hostIp6}) is not on the list: its rsync is refused (M1)`, () => {
      const before = rejected(c);
      const r = probeFromHost(c, ip);
      expect(r.status !== 0 && /refused|reset/i.test(r.out), `exit ${r.status}: ${r.out}`);
      const after = rejected(c);
      expect(after > before, `the ACL table's reject counter did not move (${before} -> ${after})`);
      return r.out.split('\n')[0];
    });
  }
  const seen = masterRsyncLog(c).slice(mark);
  results.check('the rsync daemon never saw the refused connections (the firewall layer answered)', !seen.includes(world.hostIp) && !seen.includes(world.hostIp6), seen);
}

export async function aclChange(c: MasterCtx): Promise<void> {
  const { results, master, world, boot } = c;
  const tree = boot.project.master.node.trees[0];
  const before = Object.fromEntries(DAEMONS.map((d) => [d, unitProps(master, d, ['MainPID', 'ExecMainStartTimestampMonotonic', 'NRestarts'])]));
  // The new mirror: the host, as a node of its own with mirrorfleet's sync engine and config.
  const root = path.join(c.dir, 'new-mirror');
  const config = exampleConfigAt('xcp-ng', path.join(root, 'srv', 'mirror'), {
    hostname: NEW_MIRROR,
    trees: [{ name: tree.name, upstream: `rsync://${world.nodeIp}/${tree.name}/`, strategy: 'filelist', fileList: `fullfiletimelist-${tree.name}`, retries: 0 }],
  });
  const layout = testLayout(root);
  for (const f of renderNodeFiles(config, layout)) {
    if (f.asset || !f.path.startsWith(`${root}/`)) continue;
    fs.mkdirSync(path.dirname(f.path), { recursive: true });
    fs.writeFileSync(f.path, f.content, { mode: parseInt(f.mode, 8) });
  }
  const conf = treeConfPath(layout, tree.name);
  // mirrors.yaml with one more entry, syncing from the host's IPv4 address; rendered as the product does.
  const v2 = writeBootProject({ dir: path.join(c.dir, 'project-v2'), world, buildKey: c.buildKey.pub, syncFrom: { [NODE_MIRROR]: [c.link.bIp] }, newMirrors: [{ name: NEW_MIRROR, syncFrom: [world.hostIp] }] });
  const list = aclText(v2.project);
  fs.writeFileSync(master.path('/var/tmp/mirrors-v2.acl'), list);
  const t0 = Date.now();
  const apply = master.exec(['mirrorfleet-acl', 'apply', '/var/tmp/mirrors-v2.acl']);
  const tApply = (Date.now() - t0) / 1000;
  const sync = sh('bash', [path.join(ASSETS_DIR, 'mirror-sync'), conf], { timeoutMs: 120_000 });
  const tSync = (Date.now() - t0) / 1000;
  const ok = results.check(
    `the new list applied in place (mirrorfleet-acl apply) and the new mirror's first sync succeeded`,
    apply.status === 0 && sync.status === 0,
    `apply: exit ${apply.status}\n${apply.stdout}${apply.stderr}\nmirror-sync: exit ${sync.status}\n${tail(sync.stdout + sync.stderr, 15)}`,
    `${tSync.toFixed(1)} s from the list change (apply ${tApply.toFixed(1)} s); ${apply.stdout.trim().split('\n').pop()}`,
  );
  c.figures.push(`list change to the new mirror's first successful sync: ${tSync.toFixed(1)} s (mirrorfleet-acl apply ${tApply.toFixed(1)} s, then mirror-sync; the cloud channels add their poll, at most 60 s)`);
  if (ok) {
    await results.run('the new mirror has the published tree', () => {
      const diff = publicTreeDiff(c, config.trees[0].path, `fullfiletimelist-${tree.name}`);
      expect(diff.length === 0, diff.join('\n'));
    });
  }
  await results.run('the host\'s IPv6 address, still not listed, is still refused', () => {
    const r = probeFromHost(c, world.nodeIp6);
    expect(r.status !== 0 && /refused|reset/i.test(r.out), `exit ${r.status}: ${r.out}`);
  });
  await results.run('the new mirror disabled in mirrors.yaml (enabled: false): refused again once applied', () => {
    const v3 = writeBootProject({ dir: path.join(c.dir, 'project-v3'), world, buildKey: c.buildKey.pub, syncFrom: { [NODE_MIRROR]: [c.link.bIp] }, newMirrors: [{ name: NEW_MIRROR, syncFrom: [world.hostIp], enabled: false }] });
    fs.writeFileSync(master.path('/var/tmp/mirrors-v3.acl'), aclText(v3.project));
    const apply = master.exec(['mirrorfleet-acl', 'apply', '/var/tmp/mirrors-v3.acl']);
    expect(apply.status === 0, `${apply.stdout}${apply.stderr}`);
    const r = probeFromHost(c, world.nodeIp);
    expect(r.status !== 0 && /refused|reset/i.test(r.out), `exit ${r.status}: ${r.out}`);
    return r.out.split('\n')[0];
  });
  await results.run('no daemon restarted by the list changes (same main PIDs, no restarts)', () => {
    const changed = DAEMONS.filter((d) => JSON.stringify(unitProps(master, d, ['MainPID', 'ExecMainStartTimestampMonotonic', 'NRestarts'])) !== JSON.stringify(before[d]));
    expect(changed.length === 0, changed.map((d) => `${d}: ${JSON.stringify(before[d])} -> ${JSON.stringify(unitProps(master, d, ['MainPID', 'ExecMainStartTimestampMonotonic', 'NRestarts']))}`).join('\n'));
    return DAEMONS.map((d) => `${d} ${before[d].MainPID}`).join(', ');
  });
}
