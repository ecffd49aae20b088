import { NodeConfig, TreeConfig } from '../config/node-config';
import { NodeLayout, syncStateDir } from './layout';
import { renderShellVars } from './shell';

/** Where report_mirror's config goes; the site password is added at run time, never stored here. */
export const reportMirrorConfPath = (l: NodeLayout) => `${l.etcDir}/report_mirror.conf`;

/** The trace file each tree publishes after a good sync, relative to the tree (Debian layout). */
export const traceRelativePath = (c: NodeConfig) => `project/trace/${c.hostname}`;

/** Seconds between retries of a transient rsync failure: doubled each time (30, 60, 120 s). */
export const SYNC_RETRY_DELAY_SECONDS = 30;

/** Seconds each post-sync hook may run before it is stopped and reported as timed out. */
export const HOOK_TIMEOUT_SECONDS = 300;

/**
 * The one file a tree's sync reads (`mirror-sync TREE.conf`): everything the sync and its
 * post-sync hooks need, as bash variables. This is the interface between the renderers and
 * whatever sync engine the node runs.
 */
export function renderTreeConf(c: NodeConfig, l: NodeLayout, t: TreeConfig): string {
  const categories = Object.keys(t.mirrorManagerCategories);
  const bwlimit = t.bandwidthLimitMbps === undefined ? 0 : Math.floor((t.bandwidthLimitMbps * 1_000_000) / 8 / 1024);
  return renderShellVars(`mirrorfleet: sync settings for tree ${t.name} of ${c.hostname}\nRead by ${l.binDir}/mirror-sync and mirror-post-sync. Written by mirrorfleet.`, {
    TREE_NAME: t.name,
    UPSTREAM: t.upstream,
    TREE_PATH: t.path,
    STATE_DIR: syncStateDir(l, t.name),
    METRICS_DIR: l.metricsDir,
    // rsync --timeout: I/O silence before rsync gives up (the guides' daemons use 600-900 s).
    RSYNC_TIMEOUT: 600,
    // N23: optional cap for the upstream sync, in KiB/s for rsync --bwlimit (0 = none).
    BWLIMIT_KIBPS: bwlimit,
    EXCLUDES: t.excludes,
    // The engine (README: The sync engine): how to plan, what says "unchanged", what goes last.
    STRATEGY: t.strategy,
    FILE_LIST: t.strategy === 'filelist' ? t.fileList : undefined,
    PRECHECK: t.precheck,
    PRE_BITFLIP: t.preBitflip,
    METADATA_LAST: t.metadataLast,
    // Safety (N13, N15): delete guard, free space kept, retries, the engine's own time bound.
    MAX_DELETE_PERCENT: t.maxDeletePercent,
    MIN_FREE_MIB: t.minFreeMiB,
    RETRIES: t.retries,
    RETRY_DELAY: SYNC_RETRY_DELAY_SECONDS,
    MAX_RUNTIME: t.maxRuntimeMinutes * 60,
    TRACE: c.reports.trace,
    TRACE_FILE: traceRelativePath(c),
    NODE_NAME: c.hostname,
    MAINTAINER: `${c.admin.name} <${c.admin.email}>`,
    COUNTRY: c.site.country,
    LOCATION: c.site.city,
    THROUGHPUT: `${c.bandwidthMbps}Mb`,
    REPORT_MIRROR_CONF: c.reports.reportMirror && categories.length > 0 ? reportMirrorConfPath(l) : undefined,
    REPORT_MIRROR_PASSWORD_FILE: c.reports.reportMirror && categories.length > 0 ? c.reports.reportMirror.passwordFile : undefined,
    WEBHOOK_URL: c.reports.webhook?.url,
    POST_SYNC: `${l.binDir}/mirror-post-sync`,
    HOOK_TIMEOUT: HOOK_TIMEOUT_SECONDS,
  });
}

/**
 * MirrorManager's report_mirror.conf (N16), with every category the node's trees carry. The
 * password line holds a placeholder that mirror-post-sync replaces from the password file in a
 * private copy, so no secret is ever rendered into user data (N22).
 */
export function renderReportMirrorConf(c: NodeConfig): string | undefined {
  const rm = c.reports.reportMirror;
  if (!rm) return undefined;
  const categories = c.trees.flatMap((t) => Object.entries(t.mirrorManagerCategories).map(([name, rel]) => ({ name, path: `${t.path}/${rel}` })));
  if (categories.length === 0) return undefined;
  return `# mirrorfleet: MirrorManager report_mirror settings for ${c.hostname}
# Read by report_mirror -c after each good sync. Written by mirrorfleet.
[global]
enabled=1
server=${rm.server}

[site]
enabled=1
name=${rm.site}
# Replaced at run time with the content of ${rm.passwordFile}
password=@MIRRORMANAGER_PASSWORD@

[host]
enabled=1
name=${rm.host}

[stats]
enabled=0
${categories.map((k) => `\n[${k.name}]\nenabled=1\npath=${k.path}\n`).join('')}`;
}
