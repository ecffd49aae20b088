import { Preset, Schedule } from '../presets/types';

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
  readonly aws: { readonly region?: string; readonly account?: string };
  readonly hcloud: { readonly location?: string };
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
  readonly mirrorManagerCategories: Readonly<Record<string, string>>;
}
