import type { NodeConfig } from '../../config/node-config';
import { scheduleIntervalMinutes } from '../../config/schedule';
import type { CertificateSettings } from '../../host/certificate';
import type { HostFile } from '../../host/files';
import { HostSpec, hostFiles } from '../../host/host';
import { TEXTFILE_METRICS, renderDataVolumeInfo } from '../../host/metrics';
import type { HostRole } from '../../host/role';
import { UserDataBindings, renderUserData } from '../../host/user-data';
import { NODE_LAYOUT, NodeLayout, SYNC_GROUP, SYNC_USER, TIER1_USER } from '../../render/layout';
import { renderNodeFiles } from '../../render/node-files';
import { renderUnits, syncUnitName } from '../../render/systemd';
import { mirrorNodeIngress } from './ingress';

/*
 * The mirror node as a role on the host foundation (lib/host): what it installs, runs, admits
 * and measures. The host adds the rest (packages every machine needs, the data volume, upgrades,
 * the certificate, the cloud's agent) and renders the user data from this declaration.
 */

/** The node's certificate, when it serves HTTPS (N19). */
export function nodeCertificate(c: NodeConfig): CertificateSettings | undefined {
  return c.https.enabled ? { hostname: c.hostname, email: c.tls.email, acmeServer: c.tls.acmeServer, preferredChain: c.tls.preferredChain } : undefined;
}

export function mirrorNodeRole(c: NodeConfig, l: NodeLayout = NODE_LAYOUT): HostRole {
  const units = renderUnits(c, l);
  return {
    kind: 'mirror-node',
    title: `${c.preset.title} mirror node`,
    packages: [
      'apache2',
      'rsync',
      ...(c.http.perIpConnectionLimit !== undefined ? ['nftables'] : []),
      // report_mirror starts with #!/usr/bin/env python
      ...(c.reports.reportMirror ? ['python3', 'python-is-python3'] : []),
    ],
    groups: [SYNC_GROUP],
    users: [
      { name: SYNC_USER, group: SYNC_GROUP, gecos: 'mirror sync (owns the trees)' },
      ...(c.rsync.private ? [{ name: TIER1_USER, group: SYNC_GROUP, gecos: 'tier-1 rsync (reads pre-bitflip content)' }] : []),
    ],
    files: renderNodeFiles(c, l),
    enableUnits: units.filter((u) => u.enable).map((u) => u.name),
    // The first sync now, without waiting for the timers.
    startUnits: c.trees.map((t) => `${syncUnitName(t)}.service`),
    provisionStep: `${l.binDir}/mirrorfleet-provision-node`,
    metricsOwner: SYNC_USER,
    ingress: mirrorNodeIngress(c),
    metrics: [...TEXTFILE_METRICS.sync, ...TEXTFILE_METRICS.hooks, ...TEXTFILE_METRICS.static],
    staticMetrics: renderNodeStaticMetrics(c),
  };
}

/** The mirror node on its host: what every cloud deploys for a mirror.yaml. */
export function mirrorNodeHost(c: NodeConfig, l: NodeLayout = NODE_LAYOUT): HostSpec {
  return {
    hostname: c.hostname,
    timezone: c.timezone,
    dataVolume: { mountPoint: c.storage.mountPoint, filesystem: c.storage.filesystem, device: c.storage.device },
    certificate: nodeCertificate(c),
    role: mirrorNodeRole(c, l),
  };
}

/** The figures the alert rules compare against (each tree's interval, the data volume), as textfile metrics. */
export function renderNodeStaticMetrics(c: NodeConfig): string {
  const lines = [
    '# HELP mirrorfleet_sync_interval_seconds The tree\'s sync schedule interval, from mirror.yaml.',
    '# TYPE mirrorfleet_sync_interval_seconds gauge',
    ...c.trees.map((t) => `mirrorfleet_sync_interval_seconds{tree="${t.name}"} ${scheduleIntervalMinutes(t.schedule) * 60}`),
  ];
  return `${lines.join('\n')}\n${renderDataVolumeInfo(c.storage.mountPoint)}`;
}

/** Every file a mirror node installs: the role's and the host's (the cloud's are added by lib/host/aws, lib/host/hcloud). */
export const mirrorNodeFiles = (c: NodeConfig, l: NodeLayout = NODE_LAYOUT): HostFile[] => hostFiles(mirrorNodeHost(c, l), l);

/** The generic (cloud-neutral) user data of a mirror node: what the boot proof boots. */
export const renderNodeUserData = (c: NodeConfig, bindings: UserDataBindings = { dataDevice: c.storage.device }): string =>
  renderUserData(mirrorNodeHost(c), bindings);
