import { Preset } from './types';

const GUIDE = 'mirrorfleet defaults (no project guide)';

/** Any other project: the config lists its own trees; the defaults follow the brief. */
export const CUSTOM: Preset = {
  id: 'custom',
  title: 'Custom project',
  guide: GUIDE,
  trees: [],
  // Hourly is the laxest cadence any of the three guides accepts.
  schedule: { everyMinutes: 60 },
  randomizedDelayMinutes: 5,
  // The brief's floor for every mirror (N23).
  minimumBandwidthMbps: { mbps: 100, quote: { guide: 'mirrorfleet brief N23', text: 'Instance and network sizing fit the 100 Mbit/s minimum.' } },
  requiredListings: [],
  requires: {},
  allowedExcludes: 'any',
  // Published last (N15), for the common layouts: yum (repodata/, .treeinfo), APT (everything
  // under dists/ names files in pool/, ftpsync's stage 2, node-practice §2.1) and checksum lists.
  metadataLast: ['repodata/', '.treeinfo', 'dists/', '*CHECKSUM', 'SHA256SUMS*'],
  metadataPatterns: ['\\.(xml|xml\\.gz|xml\\.asc|xml\\.zst|xml\\.zck|xml\\.xz|sqlite|sqlite\\.bz2|sqlite\\.xz)$', '(^|/)(Release|InRelease|Release\\.gpg)$'],
};
