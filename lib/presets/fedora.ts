import { Preset } from './types';

const GUIDE = 'Fedora mirror guide (fedoraproject.org/wiki/Infrastructure/Mirroring)';
const quote = (text: string) => ({ guide: GUIDE, text });

/** Fedora: the fedora-enchilada module, reported to MirrorManager after each sync. */
export const FEDORA: Preset = {
  id: 'fedora',
  title: 'Fedora',
  guide: GUIDE,
  trees: [
    {
      // "fedora-enchilada0 ... /pub/fedora ... Mirrors participating in our tiering should use
      // this"; the master is open to Tier 1 only ("Please pull from one of the Tier 1 mirrors"),
      // so most providers replace this upstream with the Tier 1 mirror that allowed them.
      name: 'fedora',
      upstream: 'rsync://dl.fedoraproject.org/fedora-enchilada/',
      // The guide's modules for /pub/fedora: fedora-enchilada0 (with pre-bitflip content, for
      // tiering), fedora-enchilada (public), and fedora-buffet0 (/pub, so its fedora/ directory);
      // Tier 1 mirrors also serve the tree as a module named fedora.
      upstreamModules: ['fedora-enchilada0', 'fedora-enchilada', 'fedora-buffet0/fedora', 'fedora'],
      // report_mirror categories carried by this tree (MirrorManager's names).
      mirrorManagerCategories: { 'Fedora Linux': 'linux' },
      // "Please use the quick-fedora-mirror zsh script if at all possible. This script uses rsync
      // and some informational files on the mirrors to allow you to only sync those files you
      // need": mirror-sync reads the same file list (node-practice §1.2: one list per module
      // directory, at its root) and diffs it, so the script itself is not needed (docs/adr/0021).
      strategy: 'filelist',
      fileList: 'fullfiletimelist-fedora',
      // "As of the Fedora 8 release, the total space consumed ... is 1.1TB and growing";
      // "Each Fedora release can consume upwards of 200GB"; "A 1-2TB volume would be most appropriate".
      sizing: { treeGiB: 1126, growthGiBPerYear: 200, source: `${GUIDE}: 1.1 TB and growing, about 200 GB per release` },
    },
  ],
  // "you can sync as often as every 10minutes in a loop ... Make sure to use locking"
  schedule: { everyMinutes: 10 },
  randomizedDelayMinutes: 3,
  // "Mirror sites have at least a 100Mbit/sec* connection to the Internet"
  minimumBandwidthMbps: { mbps: 100, quote: quote('Mirror sites have at least a 100Mbit/sec connection to the Internet.') },
  requiredListings: [],
  requires: {
    // The crawler checks content over HTTP (HEAD + Content-Length) or rsync; FTP is not accepted.
    http: quote("Fedora's MirrorManager instance does not support FTP URLs; the crawler scans mirrors over HTTP or RSYNC."),
    // "We strongly recommend providing a RSYNC URL (at least for our crawler)"
    rsync: quote('We strongly recommend providing a RSYNC URL (at least for our crawler).'),
  },
  // "You may exclude any content you desire, such as architectures, using an EXCLUDES file."
  allowedExcludes: 'any',
  // Published last (N15): yum metadata names the packages (repodata/ with repomd.xml), installer
  // trees name their images (.treeinfo), and the *-CHECKSUM files name the ISOs next to them.
  metadataLast: ['repodata/', '.treeinfo', '*CHECKSUM'],
  // "<LocationMatch "\.(xml|xml\.gz|xml\.asc|sqlite)$"> Header set Cache-Control "must-revalidate"",
  // extended to the compressions current repodata uses.
  metadataPatterns: ['\\.(xml|xml\\.gz|xml\\.asc|xml\\.zst|xml\\.zck|xml\\.xz|xml\\.bz2|sqlite|sqlite\\.bz2|sqlite\\.xz|sqlite\\.gz)$'],
  // "To limit connections to ISO dirs by some amount per IP: MaxConnPerIP 6"
  perIpConnectionLimit: 6,
  // "Please run report_mirror after each rsync run."
  reportMirror: quote('Please run report_mirror after each rsync run.'),
};
