import { TEXTFILE_METRICS } from '../../host/metrics';
import type { HostSpec } from '../../host/host';
import type { HostRole } from '../../host/role';
import type { ProjectConfig } from '../../project/project';
import { NODE_LAYOUT, NodeLayout, SYNC_GROUP, SYNC_USER, TIER1_USER } from '../../render/layout';
import { renderDataVolumeInfo } from '../../host/metrics';
import { nodeCertificate } from '../mirror-node/role';
import { MasterAcl, masterAcl } from './acl';
import { ACL_UNITS, AclSource } from './acl-files';
import { masterUnits, renderMasterFiles } from './files';
import { masterIngress } from './ingress';

/*
 * The project's master as a role on the host foundation (M1, M2): the origin mirrors sync from,
 * and the redirector's fallback. It serves like a node (same Apache and rsyncd rules) but syncs
 * from nobody: content arrives from the build hosts and is published in order.
 */

export interface MasterRoleOptions {
  /** Where the host keeps its ACL current from (acl-files.ts); the bundle's file by default. */
  readonly aclSource?: AclSource;
  /** More sources for the public rsync module, such as the redirector (R2). */
  readonly extraRsyncSources?: readonly string[];
}

export function masterRole(p: ProjectConfig, opts: MasterRoleOptions = {}, l: NodeLayout = NODE_LAYOUT): HostRole {
  const m = p.master.node;
  const acl = masterAcl(p, opts.extraRsyncSources);
  const source = opts.aclSource ?? { kind: 'file' };
  const units = masterUnits(p, l);
  return {
    kind: 'master',
    title: `${p.preset.title} master`,
    // rrsync is a python3 script; the AWS SSM channel uses awscli, which the AWS host installs.
    packages: ['apache2', 'rsync', 'nftables', 'openssh-server', 'python3'],
    groups: [SYNC_GROUP],
    users: [
      // The content's owner, and the build hosts' account: SSH forced into rrsync below the incoming area.
      { name: SYNC_USER, group: SYNC_GROUP, gecos: 'mirror content (build host uploads, publishing)', shell: '/bin/sh', home: l.stateDir },
      ...(p.master.tier1 ? [{ name: TIER1_USER, group: SYNC_GROUP, gecos: 'tier-1 rsync (reads pre-bitflip content)' }] : []),
    ],
    files: renderMasterFiles(p, acl, source, l),
    enableUnits: [ACL_UNITS.load, ...(source.kind === 'file' ? [] : [ACL_UNITS.pollTimer]), ...units.filter((u) => u.enable).map((u) => u.name)],
    startUnits: [],
    provisionStep: `${l.binDir}/mirrorfleet-provision-master`,
    metricsOwner: SYNC_USER,
    ingress: masterIngress(p, acl),
    metrics: [...TEXTFILE_METRICS.publish, ...TEXTFILE_METRICS.acl, ...TEXTFILE_METRICS.static],
    staticMetrics: renderDataVolumeInfo(m.storage.mountPoint),
  };
}

export function masterHost(p: ProjectConfig, opts: MasterRoleOptions = {}, l: NodeLayout = NODE_LAYOUT): HostSpec {
  const m = p.master.node;
  return {
    hostname: m.hostname,
    timezone: m.timezone,
    dataVolume: { mountPoint: m.storage.mountPoint, filesystem: m.storage.filesystem, device: m.storage.device },
    certificate: nodeCertificate(m),
    role: masterRole(p, opts, l),
  };
}

export type { MasterAcl };
