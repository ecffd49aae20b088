/**
 * Every default mirrorfleet applies to a mirror.yaml, in one place. The README's defaults table
 * is checked against this object by a test, so the two cannot drift apart.
 */
export const DEFAULTS = {
  timezone: 'UTC',
  coordinates: 'auto',
  httpEnabled: true,
  httpsEnabled: true,
  /** "auto": one worker per 2 Mbit/s of bandwidth, at least Debian's 150 (N2). */
  maxRequestWorkers: 'auto',
  refuseIsoRanges: false,
  listings: 'all',
  rsyncEnabled: true,
  /** Fedora's sample rsyncd.conf: "max connections = 100". */
  rsyncMaxConnections: 100,
  /** The Fedora guide's example port for the tier-1 daemon (N11). */
  privateRsyncPort: 874,
  /** The XCP-ng guide's Let's Encrypt workaround (N19). */
  preferredChain: 'ISRG Root X1',
  acmeServer: 'https://acme-v02.api.letsencrypt.org/directory',
  storageSizeGiB: 'auto',
  filesystem: 'ext4',
  mountPoint: '/srv/mirror',
  device: '/dev/vdb',
  plannedYears: 2,
  /** Extra room on top of tree + growth: --delay-updates needs a copy of what changes (N20). */
  headroomPercent: 25,
  /** Growth a year of a tree of the node's own without trees[].growthGiBPerYear (lib/config/sizing.ts). */
  treeGrowthPercentPerYear: 20,
  trace: true,
  /** Sync engine (README: The sync engine): a tree whose preset names no strategy is synced with rsync. */
  syncStrategy: 'rsync',
  /** Delete guard (N15): a sync that would delete more than this share of the tree stops. */
  maxDeletePercent: 25,
  /** Free-space check (N15): what must stay free on the data volume after the expected transfer. */
  minFreeMiB: 1024,
  /** Retries of transient rsync failures, with backoff (quick-fedora-mirror retries 10 times). */
  syncRetries: 3,
  /** The engine stops itself (and reports it) before the unit's TimeoutStartSec of 12 h (N13). */
  maxRuntimeMinutes: 660,
  /** The full verification run (mirror-sync --full): catches what a marker or list missed. */
  verifySchedule: 'every 24 hours from 03:00',
  mirrorManagerServer: 'https://mirrormanager.fedoraproject.org/xmlrpc',
  mirrorManagerPasswordFile: '/etc/mirrorfleet/secrets/mirrormanager-password',
} as const;
