import { NodeConfig } from '../config/node-config';
import { HostFile, assetScript, optionalFile, presentFiles } from '../host/files';
import { renderApacheSite } from './apache-site';
import { renderApachePorts, renderApacheTuning } from './apache-tuning';
import { NodeLayout, syncStateDir, treeConfPath } from './layout';
import { renderNftables } from './nftables';
import { renderPrivateRsyncdConf, renderRsyncdConf } from './rsyncd';
import { renderShellVars } from './shell';
import { renderUnits } from './systemd';
import { renderReportMirrorConf, renderTreeConf } from './tree-conf';

/**
 * The sync engine, shipped together wherever a tree is synced (node, redirector, scaled tasks):
 * mirror-sync sources mirror-sync-apply and its parts from its own directory when a run has
 * work to do (docs/adr/0031).
 */
export const SYNC_ENGINE_SCRIPTS = ['mirror-sync', 'mirror-sync-apply', 'mirror-sync-plan', 'mirror-sync-stages', 'mirror-sync-watchdog'] as const;

/** The mirror node's scripts, shipped verbatim from assets/ (the host adds its own). */
export const NODE_SCRIPTS = [...SYNC_ENGINE_SCRIPTS, 'mirror-post-sync', 'mirrorfleet-apache-setup', 'mirrorfleet-provision-node'] as const;

/**
 * MirrorManager's client is not packaged in Debian; the node fetches it from a pinned commit of
 * fedora-infra/mirrormanager2 at first boot (only when a preset reports to MirrorManager).
 */
export const REPORT_MIRROR_URL =
  'https://raw.githubusercontent.com/fedora-infra/mirrormanager2/eafbed016edc2910a76b7201ffc0b62987d67159/client/report_mirror';

/**
 * Every file the mirror node role adds to its host, rendered for one config and layout (the
 * host's own, the certificate's and the cloud's are added by lib/host).
 */
export function renderNodeFiles(c: NodeConfig, l: NodeLayout): HostFile[] {
  const units = renderUnits(c, l);
  return presentFiles([
    { path: `${l.apacheConfDir}/conf-available/mirrorfleet.conf`, content: renderApacheTuning(c), mode: '0644' },
    { path: `${l.apacheConfDir}/ports.conf`, content: renderApachePorts(c, l), mode: '0644' },
    { path: `${l.apacheConfDir}/sites-available/mirrorfleet.conf`, content: renderApacheSite(c, l), mode: '0644' },
    c.rsync.enabled ? { path: '/etc/rsyncd.conf', content: renderRsyncdConf(c, l), mode: '0644' } : undefined,
    optionalFile('/etc/rsyncd-tier1.conf', renderPrivateRsyncdConf(c, l)),
    ...c.trees.map((t) => ({ path: treeConfPath(l, t.name), content: renderTreeConf(c, l, t), mode: '0644' })),
    optionalFile(`${l.etcDir}/report_mirror.conf`, renderReportMirrorConf(c)),
    optionalFile(`${l.etcDir}/nftables.nft`, renderNftables(c, l)),
    { path: `${l.etcDir}/node.env`, content: renderNodeEnv(c, l), mode: '0644' },
    ...units.map((u) => ({ path: `${l.systemdDir}/${u.name}`, content: u.content, mode: '0644' })),
    ...NODE_SCRIPTS.map((name) => assetScript(name, l.binDir)),
  ]);
}

/** node.env: what mirrorfleet-provision-node needs to set the trees and the daemons up at first boot. */
function renderNodeEnv(c: NodeConfig, l: NodeLayout): string {
  const reports = c.reports.reportMirror && c.trees.some((t) => Object.keys(t.mirrorManagerCategories).length > 0);
  return renderShellVars(`mirrorfleet: the mirror node's first-boot settings, read by mirrorfleet-provision-node.`, {
    TREE_PATHS: c.trees.map((t) => t.path),
    SYNC_STATE_DIRS: c.trees.map((t) => syncStateDir(l, t.name)),
    RSYNC_PUBLIC: c.rsync.enabled,
    REPORT_MIRROR_URL: reports ? REPORT_MIRROR_URL : undefined,
  });
}
