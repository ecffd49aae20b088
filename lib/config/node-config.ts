import { Preset, Schedule, SyncStrategy } from '../presets/types';

/**
 * A mirror node's config after validation, with the preset and every default applied.
 * Renderers read only this; nothing here is optional unless the feature itself is.
 */
export interface NodeConfig {
  readonly preset: Preset;
  readonly hostname: string;
  readonly admin: { readonly name: string; readonly email: string };
  readonly site: { readonly city: string; readonly country: string; readonly coordinates: string };
  readonly timezone: string;
  readonly bandwidthMbps: number;
  readonly trees: readonly TreeConfig[];
  readonly http: {
    readonly enabled: boolean;
    readonly maxRequestWorkers: number;
    readonly perIpConnectionLimit?: number;
    readonly refuseIsoRanges: boolean;
    /** URL paths with directory listings, or every path. */
    readonly listings: 'all' | 'none' | readonly string[];
  };
  readonly https: { readonly enabled: boolean };
  readonly rsync: {
    readonly enabled: boolean;
    readonly maxConnections: number;
    readonly private?: { readonly port: number; readonly allow: readonly string[] };
  };
  readonly tls: { readonly email: string; readonly preferredChain: string; readonly acmeServer: string };
  readonly storage: {
    readonly sizeGiB: number;
    readonly filesystem: 'ext4' | 'xfs';
    readonly mountPoint: string;
    readonly device: string;
    readonly plannedYears: number;
  };
  readonly reports: {
    readonly trace: boolean;
    readonly reportMirror?: {
      readonly site: string;
      readonly host: string;
      readonly server: string;
      readonly passwordFile: string;
    };
    readonly webhook?: { readonly url: string };
  };
  readonly bitflips: readonly { readonly path: string; readonly at: string }[];
  readonly aws: {
    readonly region?: string;
    readonly account?: string;
    /** "auto" or an override, checked against the bandwidth and workers (lib/config/aws.ts). */
    readonly instanceType: string;
    readonly volumeType: 'auto' | 'gp3' | 'st1';
    /** Empty: no SSH at all, SSM Session Manager only (N22). */
    readonly sshCidrs: readonly string[];
    readonly hostedZone?: { readonly id: string; readonly name: string };
  };
  readonly hcloud: {
    /** A Hetzner Cloud location, checked against the list in lib/config/hcloud.ts. */
    readonly location: string;
    /** "auto" or an override, checked against the bandwidth and workers (lib/config/hcloud.ts). */
    readonly serverType: string;
    readonly image: string;
    /** OpenSSH public keys to upload, or names of keys already in the project. Empty: no SSH (N22). */
    readonly sshKeys: readonly string[];
    /** SSH sources; required with sshKeys. */
    readonly adminCidrs: readonly string[];
    /** Prometheus servers allowed to scrape node_exporter; empty: it listens on loopback only. */
    readonly metricsCidrs: readonly string[];
  };
}

export interface TreeConfig {
  readonly name: string;
  readonly upstream: string;
  /** Absolute path on the node, always under storage.mountPoint. */
  readonly path: string;
  /** The URL path and rsync module it is served under: /<name>/ and <name>. */
  readonly urlPath: string;
  readonly schedule: Schedule;
  readonly excludes: readonly string[];
  readonly bandwidthLimitMbps?: number;
  /** The preset tree this tree carries (its rules and settings apply), or undefined for a tree of its own. */
  readonly presetTree?: string;
  readonly mirrorManagerCategories: Readonly<Record<string, string>>;
  /** The sync engine's settings (README: The sync engine), from the tree, its preset or DEFAULTS. */
  readonly strategy: SyncStrategy;
  /** Path of the upstream's file list in the tree (strategy filelist). */
  readonly fileList?: string;
  /** Path of an upstream marker file: unchanged since the last good sync means nothing to do. */
  readonly precheck?: string;
  /** Fetch entries the file list marks restricted (a tier-1 upstream's pre-bitflip content, N17). */
  readonly preBitflip: boolean;
  /** rsync patterns of the metadata published last (N15). */
  readonly metadataLast: readonly string[];
  readonly maxDeletePercent: number;
  readonly minFreeMiB: number;
  readonly retries: number;
  readonly maxRuntimeMinutes: number;
  /** When the whole tree is compared with upstream (mirror-sync --full); undefined: never. */
  readonly verifySchedule?: Schedule;
}
