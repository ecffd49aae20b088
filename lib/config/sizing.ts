import { Preset } from '../presets/types';
import { DEFAULTS } from './defaults';

/**
 * Data volume size (N20): today's tree plus the planned years of growth, plus headroom for
 * --delay-updates copies, rounded up to 10 GiB and never below the guide's minimum.
 */
export function volumeSizeGiB(preset: Preset, plannedYears: number): number {
  const { treeGiB, growthGiBPerYear } = preset.sizing;
  const raw = (treeGiB + growthGiBPerYear * plannedYears) * (1 + DEFAULTS.headroomPercent / 100);
  const rounded = Math.ceil(raw / 10) * 10;
  return Math.max(rounded, preset.minimumVolumeGiB?.gib ?? 0);
}

/**
 * Apache MaxRequestWorkers (N2): downloads are bound by slow clients, not by the pipe, so the
 * pool grows with bandwidth: one worker per 2 Mbit/s, in steps of 25 (ThreadsPerChild), at
 * least Debian's 150 and at most 4000.
 */
export function autoMaxRequestWorkers(bandwidthMbps: number): number {
  return Math.min(4000, Math.max(150, Math.ceil(bandwidthMbps / 2 / 25) * 25));
}
