import * as path from 'node:path';
import { NodeConfig, TreeConfig } from '../config/node-config';
import { quickFedoraMirrorModule } from '../config/resolve';
import { NodeLayout, syncStateDir } from './layout';
import { renderShellVars } from './shell';

/** Where report_mirror's config goes; the site password is added at run time, never stored here. */
export const reportMirrorConfPath = (l: NodeLayout) => `${l.etcDir}/report_mirror.conf`;

/** The trace file each tree publishes after a good sync, relative to the tree (Debian layout). */
export const traceRelativePath = (c: NodeConfig) => `project/trace/${c.hostname}`;

/** Seconds between retries of a transient rsync failure: doubled each time (30, 60, 120 s). */
export const SYNC_RETRY_DELAY_SECONDS = 30;

/**
 * quick-fedora-mirror for trees with strategy quick-fedora-mirror (docs/adr/0021): zsh, from the
 * upstream commit node-practice §1 read, fetched at first boot like report_mirror (docs/adr/0007).
 */
export const QUICK_FEDORA_MIRROR_COMMIT = '483d729';
export const QUICK_FEDORA_MIRROR_URL = `https://pagure.io/quick-fedora-mirror/raw/${QUICK_FEDORA_MIRROR_COMMIT}/f/quick-fedora-mirror`;
export const needsQuickFedoraMirror = (c: NodeConfig) => c.trees.some((t) => t.strategy === 'quick-fedora-mirror');

/**
 * The one file a tree's sync reads (`mirror-sync TREE.conf`): everything the sync and its
 * post-sync hooks need, as bash variables. This is the interface between the renderers and
 * whatever sync engine the node runs; with strategy quick-fedora-mirror it is that script's
 * config file too (zsh reads the same lines).
 */
export function renderTreeConf(c: NodeConfig, l: NodeLayout, t: TreeConfig): string {
  const categories = Object.keys(t.mirrorManagerCategories);
  const qfm = t.strategy === 'quick-fedora-mirror';
  const bwlimit = t.bandwidthLimitMbps === undefined ? 0 : Math.floor((t.bandwidthLimitMbps * 1_000_000) / 8 / 1024);
  const readers = `${l.binDir}/mirror-sync and mirror-post-sync${qfm ? ' (and quick-fedora-mirror -c)' : ''}`;
  const main = renderShellVars(`mirrorfleet: sync settings for tree ${t.name} of ${c.hostname}\nRead by ${readers}. Written by mirrorfleet.`, {
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
  });
  return qfm ? main + renderQuickFedoraMirrorVars(l, t, bwlimit) : main;
}

/** quick-fedora-mirror's own settings (node-practice §1.10), derived from the tree. */
function renderQuickFedoraMirrorVars(l: NodeLayout, t: TreeConfig, bwlimit: number): string {
  const m = quickFedoraMirrorModule(t.upstream);
  if (!m) throw new Error(`tree ${t.name}: ${t.upstream} is no quick-fedora-mirror module`); // resolve.ts reports it first
  // Its FILTEREXP is one sed -r regex over "<dir>/<path>": the excludes (all "/..."), as globs.
  const glob = (e: string) =>
    `^${m.dir}/${e.replace(/^\/|\/+$/g, '').replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}(/|$)`;
  return renderShellVars('quick-fedora-mirror: its own names for the same settings', {
    DESTD: path.posix.dirname(t.path),
    TIMEFILE: `${syncStateDir(l, t.name)}/qfm-timefile`,
    REMOTE: m.remote,
    MASTERMODULE: `fedora-buffet${m.tier1 ? '0' : ''}`,
    MODULES: [m.module],
    PREBITFLIP: m.tier1 || t.preBitflip ? 1 : undefined,
    FILTEREXP: t.excludes.length > 0 ? `(${t.excludes.map(glob).join('|')})` : undefined,
    RSYNCTIMEOUT: 600,
    RSYNCOPTS: bwlimit > 0 ? ['-aSH', '-f', 'R .~tmp~', '--stats', '--delay-updates', '--out-format=@ %i  %n%L', `--bwlimit=${bwlimit}`] : undefined,
    MAXRETRIES: Math.max(1, t.retries),
    // 2: "No changed files." on a no-op run, which mirror-sync reports as unchanged.
    VERBOSE: 2,
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
