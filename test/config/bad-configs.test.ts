import * as path from 'node:path';
import { CLOUDS, cloudsNamedIn } from '../../lib/config/clouds';
import { loadConfigFile } from '../../lib/config/load';
import { MirrorConfigError } from '../../lib/config/problems';

/*
 * Broken configs and the exact report each gets: every problem at once, each as
 * FILE:LINE:COL field: bad value — what is allowed (quoting the guide for preset prerequisites).
 * Each file is checked as `mirrorfleet validate` does: with the rules of the cloud whose block it
 * has, or of both clouds.
 */
const BAD: [string, string[]][] = [
  [
    'alias-bomb.yaml',
    [
      "FILE:3:8 (YAML): aliases that expand to more than 100 copies \u2014 values written out, or fewer aliases (*name): a config never needs that many",
    ],
  ],
  [
    'bad-values.yaml',
    [
      "FILE:1:9 preset: \"xcpng\" \u2014 one of xcp-ng, fedora, gentoo, custom (did you mean \"xcp-ng\"?)",
      "FILE:2:11 hostname: \"mirror_1\" \u2014 a fully qualified host name such as mirror.example.org",
      "FILE:5:10 admin.email: \"not-an-email\" \u2014 an e-mail address such as mirror-admin@example.org",
      "FILE:8:12 site.country: \"fr\" \u2014 a two-letter upper-case ISO 3166 country code such as FR (did you mean \"FR\"?)",
      "FILE:9:16 site.coordinates: \"north\" \u2014 \"auto\" or \"latitude, longitude\" such as \"45.7386, 4.8899\"",
      "FILE:10:11 timezone: \"Mars/Olympus\" \u2014 an IANA time zone such as Europe/Paris or UTC",
      "FILE:11:16 bandwidthMbps: 0 \u2014 the node's outbound bandwidth in whole Mbit/s, such as 1000",
      "FILE:13:11 trees[0].name: \"Fedora Linux\" \u2014 a short lower-case name: letters, digits and \"-\" (at most 31), starting with a letter or digit",
      "FILE:14:15 trees[0].upstream: \"http://example.org/fedora\" \u2014 an rsync URL such as rsync://host/module/path/",
      "FILE:15:15 trees[0].schedule: \"every 7 minutes\" \u2014 \"every N minutes\" with N dividing 60 (1-60), or \"every N hours from HH:MM\" with N dividing 24",
      "FILE:17:13 http.listings: \"some\" \u2014 \"all\", \"none\" or a list of paths starting with \"/\"",
      "FILE:18:25 http.perIpConnectionLimit: 0 \u2014 \"off\" or a whole number of connections from 1 to 1000",
      "FILE:19:22 http.maxRequestWorkers: 10 \u2014 \"auto\" or a whole number from 15 to 4000",
      "FILE:22:13 rsync.private.allow[0]: \"198.51.100.300\" \u2014 an IPv4 or IPv6 address or CIDR such as 198.51.100.7, 198.51.100.0/24 or 2001:db8::/48",
      "FILE:22:29 rsync.private.allow[1]: \"example.org\" \u2014 an IPv4 or IPv6 address or CIDR such as 198.51.100.7, 198.51.100.0/24 or 2001:db8::/48",
      "FILE:24:12 storage.sizeGiB: \"huge\" \u2014 \"auto\" or a whole number of GiB from 10 to 65536",
      "FILE:25:15 storage.filesystem: \"btrfs\" \u2014 ext4 or xfs",
    ],
  ],
  [
    'custom-without-trees.yaml',
    [
      "FILE:1:1 trees: missing \u2014 required for preset \"custom\": at least one tree with name and upstream",
    ],
  ],
  [
    'empty.yaml',
    [
      "FILE:1:1 (top level): empty document \u2014 a mapping with preset, hostname, admin, site, bandwidthMbps, ...",
    ],
  ],
  [
    'fedora-no-report.yaml',
    [
      "FILE:11:3 reports: no reports.reportMirror \u2014 reports.reportMirror with the MirrorManager Site name: Fedora mirror guide (fedoraproject.org/wiki/Infrastructure/Mirroring) requires: \"Please run report_mirror after each rsync run.\"",
    ],
  ],
  [
    'gentoo-prerequisites.yaml',
    [
      "FILE:12:15 trees[0].schedule: \"every 6 hours\" \u2014 \"every 4 hours from 00:00\" only: Gentoo source mirror guide (wiki.gentoo.org/wiki/Project:Mirrors/Source_mirrors) requires: \"All mirrors must be synchronized every four hours, starting at midnight in your local time zone.\"",
      "FILE:15:9 trees[0].excludes[1]: \"/distfiles\" \u2014 only /releases/historical: Gentoo source mirror guide (wiki.gentoo.org/wiki/Project:Mirrors/Source_mirrors) requires: \"You may exclude /releases/historical to save some space. Do not exclude any other directories.\"",
      "FILE:17:13 http.listings: [\"/gentoo/releases\"] \u2014 \"all\" or a list that includes /gentoo/experimental, /gentoo/snapshots: Gentoo source mirror guide (wiki.gentoo.org/wiki/Project:Mirrors/Source_mirrors) requires: \"/experimental, /releases, /snapshots (HTTP mirrors: Directory listing required)\"",
      "FILE:19:12 storage.sizeGiB: 500 \u2014 at least 800: Gentoo source mirror guide (wiki.gentoo.org/wiki/Project:Mirrors/Source_mirrors) requires: \"Hosting a mirror requires a minimum of 800 GiB available disk space.\"",
    ],
  ],
  [
    'hcloud-user-data-too-large.yaml',
    [
      "FILE:11:7 trees[0].excludes: 300 entries, 19201 characters, user data of about 44 KiB \u2014 at most 32 KiB of user data on Hetzner Cloud (every node file travels in it, compressed): shorten the largest values, trees[0].excludes (300 entries, 19201 characters)",
    ],
  ],
  [
    'hostile-firewall.yaml',
    [
      "FILE:13:14 aws.sshCidrs[0]: \"0.0.0.0/00\" \u2014 an IPv4 or IPv6 address or CIDR such as 198.51.100.7, 198.51.100.0/24 or 2001:db8::/48; the prefix length is a whole number 0\u201332 without leading zeros",
      "FILE:13:28 aws.sshCidrs[1]: \"198.51.100.7/24\" \u2014 a network without host bits: did you mean 198.51.100.0/24 (or the single address 198.51.100.7)?",
      "FILE:16:16 hcloud.adminCidrs[0]: \"2001:db8::/129\" \u2014 an IPv4 or IPv6 address or CIDR such as 198.51.100.7, 198.51.100.0/24 or 2001:db8::/48; an IPv6 prefix length is at most 128",
    ],
  ],
  [
    'hostile-tier1-acl.yaml',
    [
      "FILE:9:13 rsync.private.allow[0]: \"0.0.0.0/0\" \u2014 the listed hosts' addresses, never the whole Internet: the firewall opens port 874 to these only (N22)",
      "FILE:9:24 rsync.private.allow[1]: \"::/0\" \u2014 the listed hosts' addresses, never the whole Internet: the firewall opens port 874 to these only (N22)",
    ],
  ],
  [
    'long-values.yaml',
    [
      "FILE:5:9 admin.name: \"Example Mirror Team of the pivqvlema lpiuzowth ravteolfk gbs\"... (326 characters) \u2014 the name of the person or team running the mirror, at most 200 characters",
      "FILE:11:10 reports.webhook.url: \"https://hooks.example.org/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"... (1126 characters) \u2014 an https:// URL, at most 1024 characters",
    ],
  ],
  [
    'merge-keys.yaml',
    [
      "FILE:7:3 admin.<<: a merge key \u2014 the keys written out: mirrorfleet reads YAML 1.2, which has no \"<<\" merge keys (anchors and aliases of whole values work)",
    ],
  ],
  [
    'mount-point-etc.yaml',
    [
      "FILE:8:15 storage.mountPoint: \"/srv/../etc\" \u2014 an absolute path such as /srv/mirror, without \".\" or \"..\" components",
    ],
  ],
  [
    'mount-point-root.yaml',
    [
      "FILE:8:15 storage.mountPoint: \"/\" \u2014 a directory of the data volume's own, such as /srv/mirror or /srv/mirror-data: / is the root file system: the volume would hide the whole system, and Apache would serve it",
    ],
  ],
  [
    'mount-point-var.yaml',
    [
      "FILE:8:15 storage.mountPoint: \"/var\" \u2014 a directory of the data volume's own, such as /srv/mirror or /srv/mirror-data: /var is a directory the system uses itself: the volume would hide what /var holds",
    ],
  ],
  [
    'multiple-documents.yaml',
    [
      "FILE:6:1 (YAML): a second document (\"---\") \u2014 one document per file: a mirror.yaml describes one node; remove this part or move it to a file of its own",
    ],
  ],
  [
    'not-a-mapping.yaml',
    [
      "FILE:1:1 (top level): not a mapping \u2014 a mapping with preset, hostname, admin, site, bandwidthMbps, ...",
    ],
  ],
  [
    'paths-outside-trees.yaml',
    [
      "FILE:11:11 trees[0].path: \"/srv/mirror/../../etc\" \u2014 an absolute path such as /srv/mirror/fedora, without \".\" or \"..\" components",
      "FILE:12:16 trees[0].excludes[0]: \"/\" \u2014 a path inside the tree, not the tree itself: this exclude matches everything, so every sync would copy nothing and report success",
      "FILE:12:19 trees[0].excludes[1]: \"/../../etc\" \u2014 a path inside the tree starting with \"/\", such as /releases/historical, without \".\" or \"..\" components",
      "FILE:15:16 trees[1].excludes[0]: \"/*\" \u2014 a path inside the tree, not the tree itself: this exclude matches everything, so every sync would copy nothing and report success",
      "FILE:17:14 http.listings[0]: \"/alma/../../etc\" \u2014 a URL path inside a tree, such as /gentoo/releases, without \".\" or \"..\" components",
      "FILE:17:31 http.listings[1]: \"/elsewhere\" \u2014 a URL path inside a tree (/alma/, /rocky/), or \"all\" or \"none\"",
      "FILE:20:13 bitflips[0].path: \"alma/../../../etc\" \u2014 a directory relative to the mirror root, such as fedora/linux/releases/45, without \".\" or \"..\" components",
      "FILE:20:36 bitflips[0].at: \"2027-02-30 25:61 UTC\" \u2014 a time \"YYYY-MM-DD HH:MM ZONE\" in the future, with ZONE UTC or an IANA zone such as Europe/Berlin: 2027-02-30 is not a date",
      "FILE:21:28 bitflips[1].at: \"2020-01-01 00:00 UTC\" \u2014 a time \"YYYY-MM-DD HH:MM ZONE\" in the future, with ZONE UTC or an IANA zone such as Europe/Berlin: it is past, so its timer would never fire",
      "FILE:22:28 bitflips[2].at: \"2099-01-01 00:00\" \u2014 a time \"YYYY-MM-DD HH:MM ZONE\" in the future, with ZONE UTC or an IANA zone such as Europe/Berlin: the zone is missing",
    ],
  ],
  [
    'preset-tree-ambiguous.yaml',
    [
      "FILE:12:15 trees[1].upstream: \"rsync://other.example.net/fedora-enchilada/\" \u2014 one tree per preset tree: trees[0] and trees[1] both sync preset fedora's \"fedora\" tree; mark the one that is with presetTree: fedora",
      "FILE:16:17 trees[2].presetTree: \"epel\" \u2014 one of preset fedora's trees: fedora",
    ],
  ],
  [
    'preset-tree-missing.yaml',
    [
      "FILE:9:3 trees: no tree is preset fedora's \"fedora\" tree \u2014 a tree marked presetTree: fedora, or one whose upstream is a module that carries it (fedora-enchilada0, fedora-enchilada, fedora-buffet0/fedora, fedora) or left out (rsync://dl.fedoraproject.org/fedora-enchilada/)",
    ],
  ],
  [
    'schema-and-rules.yaml',
    [
      "FILE:6:3 admin.emial: unknown key \u2014 did you mean \"email\"? allowed keys here: name, email",
      "FILE:8:16 bandwidthMbps: 50 \u2014 at least 100: XCP-ng mirror guide (docs.xcp-ng.org/project/mirrors) requires: \"Minimum bandwidth: 100 Mbit/s. Preferably 1 Gbit/s or more.\"",
      "FILE:11:15 trees[0].schedule: \"every 2 hours\" \u2014 at most every 60 minutes: XCP-ng mirror guide (docs.xcp-ng.org/project/mirrors) requires: \"Sync from a quickly updated mirror ... at least once an hour, preferably four times an hour.\"",
      "FILE:12:16 trees[0].excludes[0]: \"/8.2/source\" \u2014 no excludes: XCP-ng mirror guide (docs.xcp-ng.org/project/mirrors) requires: \"Sync the whole mirror tree.\"",
      "FILE:13:14 trees[0].retries: \"many\" \u2014 a whole number of retries from 0 to 20",
      "FILE:15:25 http.perIpConnectionLimit: 0 \u2014 \"off\" or a whole number of connections from 1 to 1000",
      "FILE:17:12 rsync.enabled: false \u2014 true: XCP-ng mirror guide (docs.xcp-ng.org/project/mirrors) requires: \"Offer read-only rsync. Mirrorbits needs this to regularly check the state of the mirror.\"",
      "FILE:19:13 rsync.private.allow[0]: \"198.51.100.300\" \u2014 an IPv4 or IPv6 address or CIDR such as 198.51.100.7, 198.51.100.0/24 or 2001:db8::/48",
    ],
  ],
  [
    'site-and-names.yaml',
    [
      "FILE:3:1 timezone: missing \u2014 required for preset gentoo, whose syncs start at 00:00 local time: site.country US (United States) has more than one time zone, so give the node's own (an IANA zone, Area/City)",
      "FILE:4:11 hostname: \"mirror.home.arpa\" \u2014 a public host name: .home.arpa is a special-use domain, for home networks (RFC 8375); Let's Encrypt does not issue for it",
      "FILE:9:19 tls.preferredChain: \"ISRG Root X3\" \u2014 did you mean \"ISRG Root X1\"? a root Let's Encrypt serves: \"ISRG Root X1\" or \"ISRG Root X2\"",
    ],
  ],
  [
    'site-country-name.yaml',
    [
      "FILE:5:32 site.country: \"Germany\" \u2014 a two-letter upper-case ISO 3166 country code such as FR (did you mean \"DE\", Germany?)",
    ],
  ],
  [
    'site-typos.yaml',
    [
      "FILE:3:11 hostname: \"mirror.local\" \u2014 a public host name: .local is a special-use domain, for multicast DNS on the local link (RFC 6762); Let's Encrypt does not issue for it",
      "FILE:5:32 site.country: \"UK\" \u2014 a two-letter upper-case ISO 3166 country code such as FR (did you mean \"GB\"? ISO 3166 reserves UK; Britain (UK) is GB)",
      "FILE:8:19 tls.preferredChain: \"Pebble Root\" \u2014 a root Let's Encrypt serves: \"ISRG Root X1\" or \"ISRG Root X2\"",
    ],
  ],
  [
    'site-unknown.yaml',
    [
      "FILE:4:11 hostname: \"mirror.test\" \u2014 a public host name: .test is a special-use domain, for testing (RFC 6761); Let's Encrypt staging does not issue for it",
      "FILE:6:31 site.country: \"XX\" \u2014 a two-letter upper-case ISO 3166 country code such as FR: XX is not assigned to a country",
      "FILE:9:15 tls.acmeServer: \"https://acme-staging-v02.api.letsencrypt.org/directory\" \u2014 a root Let's Encrypt staging serves: \"(STAGING) Pretend Pear X1\" or \"(STAGING) Bogus Broccoli X2\"",
    ],
  ],
  [
    'sync-strategy-removed.yaml',
    [
      "FILE:12:15 trees[0].strategy: \"quick-fedora-mirror\" \u2014 rsync or filelist: quick-fedora-mirror is not a strategy any more; use filelist, which reads the same fullfiletimelist (docs/adr/0021)",
    ],
  ],
  [
    'syntax-error.yaml',
    [
      "FILE:3:1 (YAML): Map keys must be unique \u2014 valid YAML",
      "FILE:5:9 (YAML): Nested mappings are not allowed in compact mappings \u2014 valid YAML",
      "FILE:5:9 (YAML): Implicit keys need to be on a single line \u2014 valid YAML",
    ],
  ],
  [
    'tree-without-size.yaml',
    [
      "FILE:11:5 trees[1].sizeGiB: missing \u2014 required with storage.sizeGiB auto: the tree's size today in whole GiB (it grows 20 % a year unless growthGiBPerYear says), so the data volume holds every tree",
    ],
  ],
  [
    'trees-and-layout.yaml',
    [
      "FILE:13:11 trees[1].name: \"alma\" \u2014 a name not used by another tree",
      "FILE:15:5 trees[2].upstream: missing \u2014 required: the rsync URL tree \"rocky\" syncs from",
      "FILE:18:11 trees[3].path: \"/var/www/elsewhere\" \u2014 a directory under storage.mountPoint (/srv/mirror), so the tree lives on the data volume",
      "FILE:22:12 https.enabled: false (with http.enabled false) \u2014 HTTP or HTTPS (or both) must be on: a mirror serves downloads over the web (N1)",
      "FILE:26:5 rsync.private: set while rsync.enabled is false \u2014 rsync.enabled true: the tier-1 daemon serves the same trees (N11)",
      "FILE:28:11 bitflips[0].path: \"debian/dists\" \u2014 a directory inside one of the trees (alma/, rocky/)",
    ],
  ],
  [
    'typo-keys.yaml',
    [
      "FILE:2:1 hostnme: unknown key \u2014 did you mean \"hostname\"? allowed keys here: preset, hostname, admin, site, timezone, bandwidthMbps, trees, http, https, rsync, tls, storage, reports, bitflips, aws, hcloud",
      "FILE:5:3 admin.emial: unknown key \u2014 did you mean \"email\"? allowed keys here: name, email",
      "FILE:12:5 trees[0].shedule: unknown key \u2014 did you mean \"schedule\"? allowed keys here: name, presetTree, upstream, path, schedule, excludes, bandwidthLimitMbps, sizeGiB, growthGiBPerYear, strategy, fileList, precheck, preBitflip, metadataLast, maxDeletePercent, minFreeMiB, retries, maxRuntimeMinutes, verifySchedule",
    ],
  ],
  [
    'wrong-types.yaml',
    [
      "FILE:3:8 admin: \"Example Mirror Team\" \u2014 a mapping with the keys name, email",
      "FILE:4:7 site: [\"Paris\",\"FR\"] \u2014 a mapping with the keys city, country, coordinates",
      "FILE:5:16 bandwidthMbps: \"1000\" \u2014 the node's outbound bandwidth in whole Mbit/s, such as 1000",
      "FILE:6:8 trees: \"gentoo\" \u2014 a list of trees",
      "FILE:8:12 https.enabled: \"yes please\" \u2014 true or false",
    ],
  ],
  [
    'xcp-ng-prerequisites.yaml',
    [
      "FILE:9:16 bandwidthMbps: 50 \u2014 at least 100: XCP-ng mirror guide (docs.xcp-ng.org/project/mirrors) requires: \"Minimum bandwidth: 100 Mbit/s. Preferably 1 Gbit/s or more.\"",
      "FILE:12:15 trees[0].schedule: \"every 2 hours\" \u2014 at most every 60 minutes: XCP-ng mirror guide (docs.xcp-ng.org/project/mirrors) requires: \"Sync from a quickly updated mirror ... at least once an hour, preferably four times an hour.\"",
      "FILE:14:9 trees[0].excludes[0]: \"/8.2/source\" \u2014 no excludes: XCP-ng mirror guide (docs.xcp-ng.org/project/mirrors) requires: \"Sync the whole mirror tree.\"",
      "FILE:16:12 https.enabled: false \u2014 true: XCP-ng mirror guide (docs.xcp-ng.org/project/mirrors) requires: \"Offer HTTPS. You need a valid certificate and must renew it in time to avoid downtime.\"",
      "FILE:18:12 rsync.enabled: false \u2014 true: XCP-ng mirror guide (docs.xcp-ng.org/project/mirrors) requires: \"Offer read-only rsync. Mirrorbits needs this to regularly check the state of the mirror.\"",
    ],
  ],
];

describe('bad configs', () => {
  it.each(BAD)('%s: reports every problem, in file order', (name, expected) => {
    const file = path.join('test', 'config', 'bad', name);
    let error: unknown;
    try {
      loadConfigFile(file, (text) => cloudsNamedIn(text).flatMap((id) => CLOUDS[id].checks));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MirrorConfigError);
    const err = error as MirrorConfigError;
    expect(err.lines).toEqual(expected.map((l) => l.replace(/^FILE/, file)));
    expect(err.message.split('\n')[0]).toBe(`${file}: ${expected.length} problem${expected.length === 1 ? '' : 's'}`);
  });

  it('a missing file is one clear error naming it', () => {
    expect(() => loadConfigFile('test/config/bad/does-not-exist.yaml')).toThrow(/does-not-exist\.yaml: cannot read: no such file or directory$/m);
  });
});
