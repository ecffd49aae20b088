import { TreeSizing } from '../presets/types';
import { DEFAULTS } from './defaults';

/** A tree's share of the data volume (N20): its size today and its growth a year. */
export type TreeSize = Pick<TreeSizing, 'treeGiB' | 'growthGiBPerYear'>;

/**
 * Data volume size (N20): every tree's size plus the planned years of its growth, plus headroom
 * for --delay-updates copies, rounded up to 10 GiB and never below the guide's minimum.
 */
export function volumeSizeGiB(trees: readonly TreeSize[], plannedYears: number, minimumGiB = 0): number {
  const needed = trees.reduce((sum, t) => sum + t.treeGiB + t.growthGiBPerYear * plannedYears, 0);
  const raw = needed * (1 + DEFAULTS.headroomPercent / 100);
  const rounded = Math.ceil(raw / 10) * 10;
  return Math.max(rounded, minimumGiB);
}

/**
 * A tree of the node's own grows by a share of its size a year unless the config says: the
 * largest share among the guides' own figures, XCP-ng's 10 GiB on 50 (Fedora's 200 on 1126 is
 * 18 %, Gentoo's assumed 50 on 800 is 6 %), so a tree is never sized below what its peers grow.
 */
export const defaultGrowthGiBPerYear = (treeGiB: number) => Math.ceil((treeGiB * DEFAULTS.treeGrowthPercentPerYear) / 100);

/**
 * Apache MaxRequestWorkers (N2): downloads are bound by slow clients, not by the pipe, so the
 * pool grows with bandwidth: one worker per 2 Mbit/s, in steps of 25 (ThreadsPerChild), at
 * least Debian's 150 and at most 4000.
 */
export function autoMaxRequestWorkers(bandwidthMbps: number): number {
  return Math.min(4000, Math.max(150, Math.ceil(bandwidthMbps / 2 / 25) * 25));
}
