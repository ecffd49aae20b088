import type { PresetId } from '../presets/types';

/*
 * What the live checker (O2) reports: one result per prerequisite, each pass, fail (with what it
 * saw) or skipped (with why), and whether the preset's guide requires it. The exit code is 0 only
 * when every required check passes (docs/adr/0050).
 */

export const CHECK_IDS = [
  'http', 'https', 'web', 'certificate', 'chain', 'ipv4', 'ipv6',
  'rsync-list', 'rsync-read-only', 'rsync-checksum',
  'keep-alive', 'metadata-cache', 'octet-stream', 'no-compression', 'head', 'per-ip', 'listings',
  'freshness',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export type CheckStatus = 'pass' | 'fail' | 'skipped';

export interface CheckResult {
  readonly id: CheckId;
  /** What was checked, in a few words. */
  readonly title: string;
  readonly status: CheckStatus;
  /** Whether the preset's guide asks for it; a failed check that is not required is shown but does not fail the run. */
  readonly required: boolean;
  /** What the checker saw (pass, fail) or why it did not look (skipped). */
  readonly detail: string;
  /** The guide's words when the check is required because of them. */
  readonly because?: string;
}

export interface CheckReport {
  readonly target: string;
  readonly preset: PresetId;
  readonly addresses: readonly string[];
  readonly results: readonly CheckResult[];
  /** Connections opened and seconds spent, against their bounds. */
  readonly traffic: { readonly connections: number; readonly maxConnections: number; readonly seconds: number; readonly maxSeconds: number; readonly peers: readonly string[] };
  readonly ok: boolean;
}
