import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeConfig } from '../config/node-config';
import { renderApacheSite } from './apache-site';
import { renderApachePorts, renderApacheTuning } from './apache-tuning';
import { renderCertEnv } from '../host/certificate';
import { NodeLayout, acmeWebroot, syncStateDir, treeConfPath } from './layout';
import { renderNftables } from './nftables';
import { renderPrivateRsyncdConf, renderRsyncdConf } from './rsyncd';
import { renderShellVars } from './shell';
import { renderUnits, syncUnitName } from './systemd';
import { renderReportMirrorConf, renderTreeConf } from './tree-conf';

/** A file the node needs, at its install path. */
export interface NodeFile {
  readonly path: string;
  readonly content: string;
  /** Octal string, as cloud-init wants it. */
  readonly mode: string;
  /** From assets/ verbatim (scripts), rather than rendered from the config. */
  readonly asset?: boolean;
}

/** The scripts shipped verbatim from assets/ and where they go. */
export const ASSET_SCRIPTS = [
  'mirror-sync',
  'mirror-post-sync',
  'mirror-publish',
  'mirrorfleet-apache-setup',
  'mirrorfleet-cert',
  'mirrorfleet-cert-deploy',
  'mirrorfleet-provision',
] as const;

export const ASSETS_DIR = path.join(__dirname, '..', '..', 'assets');

/**
 * MirrorManager's client is not packaged in Debian; the node fetches it from a pinned commit of
 * fedora-infra/mirrormanager2 at first boot (only when a preset reports to MirrorManager).
 */
export const REPORT_MIRROR_URL =
  'https://raw.githubusercontent.com/fedora-infra/mirrormanager2/eafbed016edc2910a76b7201ffc0b62987d67159/client/report_mirror';

/** Every file a mirror node runs, rendered for one config and layout. */
export function renderNodeFiles(c: NodeConfig, l: NodeLayout): NodeFile[] {
  const units = renderUnits(c, l);
  const files: (NodeFile | undefined)[] = [
    { path: `${l.apacheConfDir}/conf-available/mirrorfleet.conf`, content: renderApacheTuning(c), mode: '0644' },
    { path: `${l.apacheConfDir}/ports.conf`, content: renderApachePorts(c, l), mode: '0644' },
    { path: `${l.apacheConfDir}/sites-available/mirrorfleet.conf`, content: renderApacheSite(c, l), mode: '0644' },
    c.rsync.enabled ? { path: '/etc/rsyncd.conf', content: renderRsyncdConf(c, l), mode: '0644' } : undefined,
    optional('/etc/rsyncd-tier1.conf', renderPrivateRsyncdConf(c, l), '0644'),
    ...c.trees.map((t) => ({ path: treeConfPath(l, t.name), content: renderTreeConf(c, l, t), mode: '0644' })),
    optional(`${l.etcDir}/report_mirror.conf`, renderReportMirrorConf(c), '0644'),
    optional(`${l.etcDir}/cert.env`, renderCertEnv(c, l), '0644'),
    optional(`${l.etcDir}/nftables.nft`, renderNftables(c, l), '0644'),
    { path: `${l.etcDir}/node.env`, content: renderNodeEnv(c, l, units.filter((u) => u.enable).map((u) => u.name)), mode: '0644' },
    { path: '/etc/apt/apt.conf.d/20auto-upgrades', content: AUTO_UPGRADES, mode: '0644' },
    ...units.map((u) => ({ path: `${l.systemdDir}/${u.name}`, content: u.content, mode: '0644' })),
    ...ASSET_SCRIPTS.map((name) => ({
      path: `${l.binDir}/${name}`,
      content: fs.readFileSync(path.join(ASSETS_DIR, name), 'utf8'),
      mode: '0755',
      asset: true,
    })),
  ];
  return files.filter((f): f is NodeFile => f !== undefined);
}

const optional = (p: string, content: string | undefined, mode: string): NodeFile | undefined =>
  content === undefined ? undefined : { path: p, content, mode };

/** Security updates install themselves (N22). */
const AUTO_UPGRADES = `// mirrorfleet: unattended security upgrades (N22)
APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
`;

/** node.env: what mirrorfleet-provision needs to finish the node at first boot. */
function renderNodeEnv(c: NodeConfig, l: NodeLayout, enableUnits: string[]): string {
  const reports = c.reports.reportMirror && c.trees.some((t) => Object.keys(t.mirrorManagerCategories).length > 0);
  return renderShellVars(`mirrorfleet: first-boot settings for ${c.hostname}, read by mirrorfleet-provision.`, {
    NODE_NAME: c.hostname,
    MOUNT_POINT: c.storage.mountPoint,
    TREE_PATHS: c.trees.map((t) => t.path),
    SYNC_STATE_DIRS: c.trees.map((t) => syncStateDir(l, t.name)),
    SYNC_UNITS: c.trees.map((t) => `${syncUnitName(t)}.service`),
    ENABLE_UNITS: enableUnits,
    METRICS_DIR: l.metricsDir,
    ACME_WEBROOT: acmeWebroot(l),
    HTTPS: c.https.enabled,
    RSYNC_PUBLIC: c.rsync.enabled,
    REPORT_MIRROR_URL: reports ? REPORT_MIRROR_URL : undefined,
  });
}
