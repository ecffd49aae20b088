/**
 * A preset is plain data: what one project's mirror guide asks of a mirror node.
 * Every value in a preset file carries a comment naming the guide it comes from, and each
 * prerequisite carries the guide's own words so a violation can quote them.
 */
export type PresetId = 'xcp-ng' | 'fedora' | 'gentoo' | 'custom';

/** How mirror-sync plans a sync (README: The sync engine). */
export const SYNC_STRATEGIES = ['rsync', 'filelist'] as const;
export type SyncStrategy = (typeof SYNC_STRATEGIES)[number];

/** A requirement quoted from a guide: the text is shown verbatim when a config breaks it. */
export interface GuideQuote {
  readonly guide: string;
  readonly text: string;
}

/** A sync cadence: every N minutes, or every N hours starting at a fixed local time. */
export type Schedule =
  | { readonly everyMinutes: number }
  | { readonly everyHours: number; readonly from: string /* HH:MM, local time */ };

export interface PresetTree {
  /** Tree name: rsync module name, unit and file names on the node. */
  readonly name: string;
  /** Where the node pulls from. */
  readonly upstream: string;
  /**
   * The rsync module paths (`module` or `module/dir`) that carry this tree on any mirror: a
   * config's tree syncing one of them is this tree, whatever its name (trees[].presetTree says
   * so explicitly for other upstreams).
   */
  readonly upstreamModules: readonly string[];
  /** MirrorManager category names mapped to a path relative to the tree, for report_mirror. */
  readonly mirrorManagerCategories?: Readonly<Record<string, string>>;
  /** Sync strategy (default rsync) and its upstream inputs, relative to the upstream tree. */
  readonly strategy?: SyncStrategy;
  /** The file list the upstream publishes (quick-fedora-mirror format), for `filelist`. */
  readonly fileList?: string;
  /** A marker file whose change means "upstream changed" (trace, timestamp), for any strategy. */
  readonly precheck?: string;
  /** The tree's size today and its growth, for the data volume (N20). */
  readonly sizing: TreeSizing;
}

/** A tree's share of the data volume: its size today and its growth a year, with their source. */
export interface TreeSizing {
  readonly treeGiB: number;
  readonly growthGiBPerYear: number;
  readonly source: string;
}

export interface Preset {
  readonly id: PresetId;
  readonly title: string;
  /** The guide the preset encodes. */
  readonly guide: string;
  /** Default trees; empty for `custom`, where the config must list its own. */
  readonly trees: readonly PresetTree[];
  /** Default cadence (N12). */
  readonly schedule: Schedule;
  /** The longest interval between syncs the guide accepts, in minutes (N12). */
  readonly maxSyncIntervalMinutes?: { readonly minutes: number; readonly quote: GuideQuote };
  /** A fixed time grid the guide demands (Gentoo), so the cadence cannot be changed. */
  readonly fixedSchedule?: GuideQuote;
  /** Spread starts with a fixed random delay unless the guide pins the time. */
  readonly randomizedDelayMinutes: number;
  readonly minimumVolumeGiB?: { readonly gib: number; readonly quote: GuideQuote };
  readonly minimumBandwidthMbps: { readonly mbps: number; readonly quote: GuideQuote };
  readonly minimumConcurrentConnections?: { readonly connections: number; readonly quote: GuideQuote };
  /** Paths (relative to a tree) that must be browsable over HTTP (N7). */
  readonly requiredListings: readonly string[];
  readonly requiredListingsQuote?: GuideQuote;
  /** Protocols the guide requires (N1, N10, N9). */
  readonly requires: {
    readonly http?: GuideQuote;
    readonly https?: GuideQuote;
    readonly rsync?: GuideQuote;
    readonly ipv6?: GuideQuote;
  };
  /** Excludes the guide allows (N18): `any`, or a fixed list (may be empty: whole tree). */
  readonly allowedExcludes: 'any' | { readonly paths: readonly string[]; readonly quote: GuideQuote };
  /**
   * Metadata a sync publishes last, after the files it names (N15), as rsync patterns
   * (a trailing "/" means a directory and everything in it).
   */
  readonly metadataLast: readonly string[];
  /** Repository metadata served with must-revalidate (N3), as Apache regexes on the path. */
  readonly metadataPatterns: readonly string[];
  /** Per-IP connection cap for downloads (N5); undefined means off. */
  readonly perIpConnectionLimit?: number;
  /** MirrorManager report_mirror after each successful sync (N16). */
  readonly reportMirror?: GuideQuote;
}
