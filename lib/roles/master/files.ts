import type { NodeConfig, TreeConfig } from '../../config/node-config';
import { HostFile, assetScript, optionalFile, presentFiles } from '../../host/files';
import type { UnitFile } from '../../host/units';
import type { ProjectConfig } from '../../project/project';
import { renderApacheSite } from '../../render/apache-site';
import { renderApachePorts, renderApacheTuning } from '../../render/apache-tuning';
import { NodeLayout, SYNC_GROUP, SYNC_USER } from '../../render/layout';
import { renderNftables } from '../../render/nftables';
import { renderPrivateRsyncdConf, renderRsyncdConf } from '../../render/rsyncd';
import { renderShellVars } from '../../render/shell';
import { bitflipUnits, firewallUnits, tier1Units } from '../../render/systemd';
import { MasterAcl, renderAclFile } from './acl';
import { AclSource, aclFiles, aclPaths } from './acl-files';

/*
 * Every file the master role adds to its host (M1, M2): the mirror site as on a node (the master
 * is the redirector's fallback, N1-N9), the two rsync daemons with their lists kept by
 * mirrorfleet-acl, the incoming area the build hosts upload to, and per tree a publish unit
 * that moves a finished upload into the tree in order, then writes the trace and file list.
 */

export const MASTER_SCRIPTS = ['mirror-publish', 'mirrorfleet-publish', 'mirrorfleet-acl', 'mirrorfleet-apache-setup', 'mirrorfleet-provision-master'] as const;

/** Where a tree's uploads land: beside the trees on the data volume, so publishing links instead of copying. */
export const incomingPath = (m: NodeConfig, tree: string) => `${m.storage.mountPoint}/.incoming/${tree}`;
/** The file a build host uploads last: "this upload is complete, publish it". */
export const PUBLISH_MARKER = '.publish';
export const publishUnitName = (t: TreeConfig) => `mirrorfleet-publish-${t.name}`;
export const publishConfPath = (l: NodeLayout, tree: string) => `${l.etcDir}/publish/${tree}.conf`;
export const INCOMING_SSHD_DROP_IN = '/etc/ssh/sshd_config.d/mirrorfleet-incoming.conf';
export const incomingKeysPath = (l: NodeLayout) => `${l.etcDir}/incoming/authorized_keys`;

/** The master as the tier-1 renderer sees it: the daemon on its port, its list from a file. */
const withTier1 = (p: ProjectConfig): NodeConfig => ({ ...p.master.node, rsync: { ...p.master.node.rsync, private: { port: p.master.tier1Port, allow: [] } } });

export function renderMasterFiles(p: ProjectConfig, acl: MasterAcl, source: AclSource, l: NodeLayout): HostFile[] {
  const m = p.master.node;
  const paths = aclPaths(l);
  const units = masterUnits(p, l);
  return presentFiles([
    { path: `${l.apacheConfDir}/conf-available/mirrorfleet.conf`, content: renderApacheTuning(m), mode: '0644' },
    { path: `${l.apacheConfDir}/ports.conf`, content: renderApachePorts(m, l), mode: '0644' },
    { path: `${l.apacheConfDir}/sites-available/mirrorfleet.conf`, content: renderApacheSite(m, l), mode: '0644' },
    { path: '/etc/rsyncd.conf', content: renderRsyncdConf(m, l, { aclInclude: paths.publicInclude }), mode: '0644' },
    p.master.tier1 ? { path: '/etc/rsyncd-tier1.conf', content: renderPrivateRsyncdConf(withTier1(p), l, { aclInclude: paths.tier1Include })!, mode: '0644' } : undefined,
    optionalFile(`${l.etcDir}/nftables.nft`, renderNftables(m, l)),
    { path: paths.initial, content: renderAclFile(acl), mode: '0644' },
    ...aclFiles(p, source, l),
    ...m.trees.map((t) => ({ path: publishConfPath(l, t.name), content: renderPublishConf(p, l, t), mode: '0644' })),
    { path: INCOMING_SSHD_DROP_IN, content: renderIncomingSshd(p, l), mode: '0644' },
    { path: incomingKeysPath(l), content: renderIncomingKeys(p), mode: '0644' },
    { path: `${l.etcDir}/master.env`, content: renderMasterEnv(p, l), mode: '0644' },
    ...units.map((u) => ({ path: `${l.systemdDir}/${u.name}`, content: u.content, mode: '0644' })),
    ...MASTER_SCRIPTS.map((name) => assetScript(name, l.binDir)),
  ]);
}

/** The master's own units: publishing, the tier-1 daemon, the per-source cap, bitflips (the ACL's are in acl-files.ts). */
export function masterUnits(p: ProjectConfig, l: NodeLayout): UnitFile[] {
  const m = p.master.node;
  return [
    ...m.trees.flatMap((t) => publishUnits(p, l, t)),
    ...(p.master.tier1 ? tier1Units(withTier1(p)) : []),
    ...firewallUnits(m, l),
    ...bitflipUnits(m),
  ];
}

/**
 * A finished upload starts the publish (a path unit on the marker), as the content's owner:
 * hard links from the incoming area, files first, metadata after, deletions last, then the
 * file list and the trace (mirrorfleet-publish, mirror-publish).
 */
function publishUnits(p: ProjectConfig, l: NodeLayout, t: TreeConfig): UnitFile[] {
  const name = publishUnitName(t);
  const marker = `${incomingPath(p.master.node, t.name)}/${PUBLISH_MARKER}`;
  return [
    {
      name: `${name}.path`,
      enable: true,
      content: `[Unit]
Description=Publish tree ${t.name} when a build host finishes an upload

[Path]
PathExists=${marker}
Unit=${name}.service

[Install]
WantedBy=paths.target
`,
    },
    {
      name: `${name}.service`,
      enable: false,
      content: `[Unit]
Description=Publish tree ${t.name}: upload into the tree, then the file list and the trace (M2)
RequiresMountsFor=${t.path}

[Service]
Type=oneshot
User=${SYNC_USER}
Group=${SYNC_GROUP}
UMask=0022
ExecStart=${l.binDir}/mirrorfleet-publish ${publishConfPath(l, t.name)}
TimeoutStartSec=6h
Nice=10
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full
`,
    },
  ];
}

/** What mirrorfleet-publish reads for one tree. */
export function renderPublishConf(p: ProjectConfig, l: NodeLayout, t: TreeConfig): string {
  return renderShellVars(`mirrorfleet: publishing of tree ${t.name} on ${p.master.node.hostname}, read by mirrorfleet-publish.`, {
    TREE_NAME: t.name,
    TREE_PATH: t.path,
    INCOMING: incomingPath(p.master.node, t.name),
    MARKER: PUBLISH_MARKER,
    METADATA_LAST: t.metadataLast,
    FILE_LIST: t.fileList ?? `fullfiletimelist-${t.name}`,
    TRACE: `project/trace/${p.master.node.hostname}`,
    METRICS_DIR: l.metricsDir,
    STATE_DIR: `${l.stateDir}/publish/${t.name}`,
  });
}

/**
 * The build hosts' way in: SSH as the content's owner, forced into rrsync, write-only, below the
 * incoming area; no shell, no forwarding, no tty, whatever the key line says.
 */
function renderIncomingSshd(p: ProjectConfig, l: NodeLayout): string {
  return `# mirrorfleet: build hosts upload to ${p.master.node.hostname} over SSH (M1)
Match User ${SYNC_USER}
    AuthorizedKeysFile ${incomingKeysPath(l)}
    AuthenticationMethods publickey
    ForceCommand /usr/bin/rrsync -wo ${p.master.node.storage.mountPoint}/.incoming
    AllowTcpForwarding no
    AllowAgentForwarding no
    AllowStreamLocalForwarding no
    PermitTunnel no
    PermitTTY no
    X11Forwarding no
`;
}

function renderIncomingKeys(p: ProjectConfig): string {
  const command = `/usr/bin/rrsync -wo ${p.master.node.storage.mountPoint}/.incoming`;
  return `# mirrorfleet: the build hosts' keys (project.yaml master.incoming.keys), read by sshd (${INCOMING_SSHD_DROP_IN})
${p.master.incoming.keys.map((k) => `restrict,command="${command}" ${k}`).join('\n')}
`;
}

/** master.env: what mirrorfleet-provision-master needs at first boot. */
function renderMasterEnv(p: ProjectConfig, l: NodeLayout): string {
  const m = p.master.node;
  return renderShellVars('mirrorfleet: the master\'s first-boot settings, read by mirrorfleet-provision-master.', {
    TREE_PATHS: m.trees.map((t) => t.path),
    INCOMING_PATHS: m.trees.map((t) => incomingPath(m, t.name)),
    PUBLISH_STATE_DIRS: m.trees.map((t) => `${l.stateDir}/publish/${t.name}`),
  });
}
