import { Preset } from './types';

const GUIDE = 'Gentoo source mirror guide (wiki.gentoo.org/wiki/Project:Mirrors/Source_mirrors)';
const quote = (text: string) => ({ guide: GUIDE, text });

/** Gentoo source ("distfiles") mirrors. */
export const GENTOO: Preset = {
  id: 'gentoo',
  title: 'Gentoo',
  guide: GUIDE,
  trees: [
    // "First, you need to fetch the mirror data. You can do so via rsync from
    // rsync://masterdistfiles.gentoo.org/gentoo" (host from the live wiki page).
    // The freshness marker mirror checkers read (node-practice §3.8: "distfiles/timestamp.mirmon
    // (a Unix timestamp)"): when it is as at the last good sync, the run stops there.
    // Source mirrors serve the same tree as the master's module, gentoo.
    {
      name: 'gentoo',
      upstream: 'rsync://masterdistfiles.gentoo.org/gentoo/',
      upstreamModules: ['gentoo'],
      strategy: 'rsync',
      precheck: 'distfiles/timestamp.mirmon',
      // The guide gives no tree size, only the 800 GiB minimum; growth is our assumption.
      sizing: { treeGiB: 800, growthGiBPerYear: 50, source: `${GUIDE}: "a minimum of 800 GiB available disk space" (growth assumed)` },
    },
  ],
  // "All mirrors must be synchronized every four hours, starting at midnight in your local time zone."
  schedule: { everyHours: 4, from: '00:00' },
  fixedSchedule: quote('All mirrors must be synchronized every four hours, starting at midnight in your local time zone.'),
  // The guide pins the start times, so no random spread.
  randomizedDelayMinutes: 0,
  minimumVolumeGiB: { gib: 800, quote: quote('Hosting a mirror requires a minimum of 800 GiB available disk space.') },
  minimumBandwidthMbps: {
    mbps: 5,
    quote: quote('You need to have a minimum of 5 MBit/s upstream capacity on a permanent connection, but we strongly recommend at least 100 Mbit/s upstream.'),
  },
  minimumConcurrentConnections: {
    connections: 15,
    quote: quote('We ask that you support a minimum of 15 and preferably 30 or more concurrent user connections.'),
  },
  // "/experimental (HTTP mirrors: Directory listing required)", the same for /releases and /snapshots
  requiredListings: ['/experimental', '/releases', '/snapshots'],
  requiredListingsQuote: quote('/experimental, /releases, /snapshots (HTTP mirrors: Directory listing required)'),
  requires: {
    // "Users must be able to reach your mirror via HTTP and/or HTTPS (with valid certificates)."
  },
  // "You may exclude /releases/historical to save some space. Do not exclude any other directories."
  allowedExcludes: {
    paths: ['/releases/historical'],
    quote: quote('You may exclude /releases/historical to save some space. Do not exclude any other directories.'),
  },
  // Published last (N15): the freshness markers (a checker must not see a fresh timestamp over
  // stale files), autobuilds' latest-*.txt (they name the newest files) and the digests of
  // release files.
  metadataLast: ['timestamp.*', 'latest-*.txt', '*.DIGESTS', '*.sha256'],
  // Freshness markers that checkers read (distfiles/timestamp.mirmon, latest-*.txt of autobuilds).
  metadataPatterns: ['(^|/)timestamp\\.[a-z]+$', '/latest-[^/]*\\.txt$'],
};
