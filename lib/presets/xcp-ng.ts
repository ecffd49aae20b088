import { Preset } from './types';

const GUIDE = 'XCP-ng mirror guide (docs.xcp-ng.org/project/mirrors)';
const quote = (text: string) => ({ guide: GUIDE, text });

/** XCP-ng: RPM repositories and installation ISOs, redirected by mirrorbits. */
export const XCP_NG: Preset = {
  id: 'xcp-ng',
  title: 'XCP-ng',
  guide: GUIDE,
  trees: [
    // "rsync -rlptv --delete-delay updates.xcp-ng.org::repo/ /local/path/to/mirror"; the sample
    // application names the public module rsync://mymirror.example.com/xcp-ng/.
    // No marker file is known upstream (node-practice §8), so the guide's plain rsync; a tree
    // can still name one with trees[].precheck.
    // The main mirror's module is repo; mirrors serve it as xcp-ng (the application's sample).
    {
      name: 'xcp-ng',
      upstream: 'rsync://updates.xcp-ng.org/repo/',
      upstreamModules: ['repo', 'xcp-ng'],
      strategy: 'rsync',
      // "On August 2021, the total size (XCP-ng 7.4 to 8.2) was 50 GiB"; the older wiki said
      // 30 GiB for 7.4 to 8.0 (2019): about 10 GiB a year.
      sizing: { treeGiB: 50, growthGiBPerYear: 10, source: `${GUIDE}: 50 GiB in August 2021, 30 GiB in 2019` },
    },
  ],
  // "at least once an hour, preferably four times an hour"
  schedule: { everyMinutes: 15 },
  maxSyncIntervalMinutes: { minutes: 60, quote: quote('Sync from a quickly updated mirror ... at least once an hour, preferably four times an hour.') },
  // The guide fixes no start time, so starts are spread to spare the main mirror (our choice).
  randomizedDelayMinutes: 5,
  // "Minimum bandwidth: 100 Mbit/s. Preferably 1 Gbit/s or more."
  minimumBandwidthMbps: { mbps: 100, quote: quote('Minimum bandwidth: 100 Mbit/s. Preferably 1 Gbit/s or more.') },
  requiredListings: [],
  requires: {
    // The current guide: "Offer HTTPS ... You need a valid certificate and must renew it in time".
    https: quote('Offer HTTPS. You need a valid certificate and must renew it in time to avoid downtime.'),
    // "Offer read-only rsync ... Mirrorbits needs this to regularly check the state of the mirror"
    rsync: quote('Offer read-only rsync. Mirrorbits needs this to regularly check the state of the mirror.'),
    // "Provide both IPv4 and IPv6 addresses"
    ipv6: quote('Provide both IPv4 and IPv6 addresses.'),
  },
  // "Sync the whole mirror tree"
  allowedExcludes: { paths: [], quote: quote('Sync the whole mirror tree.') },
  // Published last (N15): yum repositories' repodata/ (repomd.xml names every file it indexes),
  // installer trees' .treeinfo, and the ISO checksum lists.
  metadataLast: ['repodata/', '.treeinfo', 'SHA256SUMS*'],
  // yum repositories: repomd.xml and the files it names (N3, from the Fedora guide's httpd advice,
  // which applies to any yum tree).
  metadataPatterns: ['\\.(xml|xml\\.gz|xml\\.asc|xml\\.zst|xml\\.zck|xml\\.xz|xml\\.bz2|sqlite|sqlite\\.bz2|sqlite\\.xz|sqlite\\.gz)$'],
};
