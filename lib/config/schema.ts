import { z } from 'zod';
import { PRESET_IDS, SYNC_STRATEGIES } from '../presets';
import { parseCidr } from '../net/cidr';
import { BITFLIP_TIME_HELP, parseBitflipTime } from './bitflip-time';
import { SCHEDULE_HELP, parseSchedule } from './schedule';
import { COUNTRY_HELP, countryProblem } from './site';

/*
 * The mirror.yaml schema. Every object is strict (unknown keys are errors) and every field's
 * error text says what is allowed, because that text is what the user reads. Defaults are not
 * applied here but in resolve.ts, so a value the user wrote and a value we chose stay apart.
 */

const HOSTNAME_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i;
const EMAIL_RE = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const NAME_RE = /^[a-z0-9][a-z0-9-]{0,30}$/;
const RSYNC_URL_RE = /^rsync:\/\/([a-z0-9.-]+|\[[0-9a-f:]+\])(:\d{1,5})?\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._\/-]*)?$/i;
const ABS_PATH_RE = /^\/([A-Za-z0-9._-]+\/?)*$/;
const TREE_PATH_RE = /^\/[A-Za-z0-9._*?\/-]*$/;
/** A refinement from a function that says why a value is wrong (or undefined when it is right). */
const refineWith = (problem: (s: string) => string | undefined) => (s: string, ctx: z.core.$RefinementCtx<string>) => {
  const why = problem(s);
  if (why) ctx.addIssue({ code: 'custom', message: why });
};

/** No "." or ".." component: a path stays where it is written, once normalised. */
export const noDotSegments = (p: string) => !/(^|\/)\.{1,2}(\/|$)/.test(p);
const BITFLIP_PATH_HELP = 'a directory relative to the mirror root, such as fedora/linux/releases/45';
const COORDS_RE = /^-?\d{1,2}(\.\d+)?,\s*-?\d{1,3}(\.\d+)?$/;
const TIMEZONES = new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC']);

/** An address or CIDR, checked by the one parser the firewalls use (lib/net/cidr.ts), with its reason. */
export const cidrSchema = (example: string) =>
  z.string({ error: `an IPv4 or IPv6 address or CIDR such as ${example}` }).superRefine((s, ctx) => {
    const p = parseCidr(s);
    if (!p.ok) ctx.addIssue({ code: 'custom', message: p.reason });
  });

/** Every string is bounded: a config takes a few KiB, and a 10 MB value would only overflow the user data. */
const MAX_STRING = 1024;
const str = (allowed: string, max = MAX_STRING) => z.string({ error: allowed }).max(max, { error: `${allowed}, at most ${max} characters` });
/** Names and places people type: the longest real ones fit in 200 characters. */
const NAME_MAX = 200;
/** RFC 5321's longest address. */
const EMAIL_MAX = 254;
const bool = z.boolean({ error: 'true or false' });
const posInt = (allowed: string, min = 1, max = Number.MAX_SAFE_INTEGER) =>
  z.number({ error: allowed }).int({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed });
const strictObject = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape);
/** An absolute path, or a path inside a tree (with rsync wildcards), that stays where it is written. */
const absPath = (help: string) => str(help).regex(ABS_PATH_RE, { error: help }).refine(noDotSegments, { error: `${help}, without "." or ".." components` });
const treePath = (help: string) => str(help).regex(TREE_PATH_RE, { error: help }).refine(noDotSegments, { error: `${help}, without "." or ".." components` });

/** A path inside the upstream tree: relative, no "..", no "." components. */
const upstreamFile = (allowed: string) =>
  str(allowed).regex(/^(?!\.{1,2}(\/|$))(?!.*\/\.{1,2}(\/|$))[A-Za-z0-9._+-]+(\/[A-Za-z0-9._+-]+)*$/, { error: allowed });
const PATTERN_HELP = 'an rsync pattern such as repodata/, *.xml or /dists/ (letters, digits, . _ - + / * ? [ ])';

/** The strategy mirrorfleet no longer offers: the script was never installed on a node (docs/adr/0021). */
const REMOVED_QFM = `${SYNC_STRATEGIES.join(' or ')}: quick-fedora-mirror is not a strategy any more; use filelist, which reads the same fullfiletimelist (docs/adr/0021)`;

const VERIFY_HELP = `"off", or when to compare the whole tree with upstream: ${SCHEDULE_HELP}`;

export const scheduleSchema = str(SCHEDULE_HELP).refine((s) => parseSchedule(s) !== undefined, { error: SCHEDULE_HELP });

export const treeSchema = strictObject({
  name: str('a short lower-case name: letters, digits and "-", starting with a letter or digit').regex(NAME_RE, {
    error: 'a short lower-case name: letters, digits and "-" (at most 31), starting with a letter or digit',
  }),
  // Which preset tree this one is, when its upstream does not say (lib/config/preset-trees.ts).
  presetTree: str('the name of the preset\'s tree this tree carries, such as fedora').regex(NAME_RE, {
    error: 'the name of the preset\'s tree this tree carries, such as fedora',
  }).optional(),
  upstream: str('an rsync URL such as rsync://host/module/path/')
    .regex(RSYNC_URL_RE, { error: 'an rsync URL such as rsync://host/module/path/' })
    .optional(),
  path: absPath('an absolute path such as /srv/mirror/fedora').optional(),
  schedule: scheduleSchema.optional(),
  excludes: z
    .array(treePath('a path inside the tree starting with "/", such as /releases/historical'), { error: 'a list of paths inside the tree' })
    .optional(),
  bandwidthLimitMbps: posInt('a whole number of Mbit/s (at least 1) to cap this tree\'s sync').optional(),
  // The tree's share of an automatic data volume (N20); a preset's tree has the guide's figures.
  sizeGiB: posInt('the tree\'s size today in whole GiB, from 1 to 65536', 1, 65536).optional(),
  growthGiBPerYear: posInt('the tree\'s growth a year in whole GiB, from 0 to 65536', 0, 65536).optional(),
  // The sync engine (README: The sync engine); cross-field rules are in resolve.ts.
  strategy: z.enum(SYNC_STRATEGIES, { error: (i) => (i.input === 'quick-fedora-mirror' ? REMOVED_QFM : SYNC_STRATEGIES.join(', ')) }).optional(),
  fileList: upstreamFile('a path in the upstream tree (relative, no ".."), such as fullfiletimelist-fedora').optional(),
  precheck: upstreamFile('a path in the upstream tree (relative, no ".."), such as distfiles/timestamp.mirmon').optional(),
  preBitflip: bool.optional(),
  metadataLast: z
    .array(str(PATTERN_HELP).regex(/^[A-Za-z0-9._*?[\]\/+-]+$/, { error: PATTERN_HELP }), { error: `a list of patterns: ${PATTERN_HELP}` })
    .optional(),
  maxDeletePercent: posInt('a whole percentage from 0 to 100 of the tree a sync may delete', 0, 100).optional(),
  minFreeMiB: posInt('a whole number of MiB from 0 to 1048576 that must stay free after a sync', 0, 1_048_576).optional(),
  retries: posInt('a whole number of retries from 0 to 20', 0, 20).optional(),
  maxRuntimeMinutes: posInt('a whole number of minutes from 5 to 690 (the sync service is stopped at 12 h)', 5, 690).optional(),
  verifySchedule: str(VERIFY_HELP).refine((s) => s === 'off' || parseSchedule(s) !== undefined, { error: VERIFY_HELP }).optional(),
});

export const configSchema = strictObject({
  preset: z.enum(PRESET_IDS as [string, ...string[]], { error: `one of ${PRESET_IDS.join(', ')}` }),
  hostname: str('a fully qualified host name such as mirror.example.org')
    .regex(HOSTNAME_RE, { error: 'a fully qualified host name such as mirror.example.org' }),
  admin: strictObject({
    name: str('the name of the person or team running the mirror', NAME_MAX).min(1, { error: 'a non-empty name' }),
    email: str('an e-mail address such as mirror-admin@example.org', EMAIL_MAX).regex(EMAIL_RE, {
      error: 'an e-mail address such as mirror-admin@example.org',
    }),
  }),
  site: strictObject({
    city: str('the city where the node runs', NAME_MAX).min(1, { error: 'a non-empty city name' }),
    country: str(COUNTRY_HELP).superRefine(refineWith(countryProblem)),
    coordinates: str('"auto" or "latitude, longitude" such as "45.7386, 4.8899"')
      .refine((s) => s === 'auto' || COORDS_RE.test(s), { error: '"auto" or "latitude, longitude" such as "45.7386, 4.8899"' })
      .optional(),
  }),
  timezone: str('an IANA time zone such as Europe/Paris or UTC')
    .refine((s) => TIMEZONES.has(s), { error: 'an IANA time zone such as Europe/Paris or UTC' })
    .optional(),
  bandwidthMbps: posInt('the node\'s outbound bandwidth in whole Mbit/s, such as 1000'),
  trees: z.array(treeSchema, { error: 'a list of trees' }).min(1, { error: 'at least one tree' }).optional(),
  http: strictObject({
    enabled: bool.optional(),
    maxRequestWorkers: z
      .union([z.literal('auto'), posInt('"auto" or a whole number from 15 to 4000', 15, 4000)], {
        error: '"auto" or a whole number from 15 to 4000',
      })
      .optional(),
    perIpConnectionLimit: z
      .union([z.literal('off'), posInt('"off" or a whole number of connections from 1 to 1000', 1, 1000)], {
        error: '"off" or a whole number of connections from 1 to 1000',
      })
      .optional(),
    refuseIsoRanges: bool.optional(),
    listings: z
      .union([z.literal('all'), z.literal('none'), z.array(treePath('a URL path inside a tree, such as /gentoo/releases'))], {
        error: '"all", "none" or a list of paths starting with "/"',
      })
      .optional(),
  }).optional(),
  https: strictObject({ enabled: bool.optional() }).optional(),
  rsync: strictObject({
    enabled: bool.optional(),
    maxConnections: posInt('a whole number of connections from 1 to 10000', 1, 10000).optional(),
    private: strictObject({
      port: posInt('a TCP port from 1 to 65535 other than 873', 1, 65535)
        .refine((p) => p !== 873, { error: 'a TCP port other than 873 (the public daemon\'s)' })
        .optional(),
      allow: z
        .array(cidrSchema('198.51.100.7 or 2001:db8::/64'), {
          error: 'a list of IPv4 or IPv6 addresses or CIDRs',
        })
        .min(1, { error: 'at least one downstream address' }),
    }).optional(),
  }).optional(),
  tls: strictObject({
    email: str('an e-mail address for the certificate authority', EMAIL_MAX).regex(EMAIL_RE, { error: 'an e-mail address such as hostmaster@example.org' }).optional(),
    preferredChain: str('the common name of a root, such as "ISRG Root X1"', NAME_MAX)
      .regex(/^[^\x00-\x1f\x7f]+$/, { error: 'the common name of a root, such as "ISRG Root X1", on one line' })
      .optional(),
    acmeServer: str('an https:// ACME directory URL').regex(/^https:\/\/\S+$/, { error: 'an https:// ACME directory URL' }).optional(),
  }).optional(),
  storage: strictObject({
    sizeGiB: z.union([z.literal('auto'), posInt('"auto" or a whole number of GiB from 10 to 65536', 10, 65536)], {
      error: '"auto" or a whole number of GiB from 10 to 65536',
    }).optional(),
    filesystem: z.enum(['ext4', 'xfs'], { error: 'ext4 or xfs' }).optional(),
    mountPoint: absPath('an absolute path such as /srv/mirror').optional(),
    device: str('a block device path such as /dev/vdb').regex(/^\/dev\/[A-Za-z0-9._\/:-]+$/, { error: 'a block device path such as /dev/vdb' }).optional(),
    plannedYears: posInt('a whole number of years from 1 to 10', 1, 10).optional(),
  }).optional(),
  reports: strictObject({
    trace: bool.optional(),
    reportMirror: strictObject({
      site: str('the Site name registered in MirrorManager', NAME_MAX).min(1, { error: 'a non-empty Site name' }),
      host: str('the Host name registered in MirrorManager', NAME_MAX).min(1, { error: 'a non-empty Host name' }).optional(),
      server: str('the MirrorManager XML-RPC URL').regex(/^https:\/\/\S+$/, { error: 'an https:// URL' }).optional(),
      passwordFile: absPath('an absolute path on the node').optional(),
    }).optional(),
    webhook: strictObject({
      url: str('an https:// URL').regex(/^https?:\/\/\S+$/, { error: 'an http:// or https:// URL' }),
    }).optional(),
  }).optional(),
  bitflips: z
    .array(strictObject({
      path: str(BITFLIP_PATH_HELP)
        .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, { error: BITFLIP_PATH_HELP })
        .refine(noDotSegments, { error: `${BITFLIP_PATH_HELP}, without "." or ".." components` }),
      at: str(BITFLIP_TIME_HELP).superRefine((s, ctx) => {
        const t = parseBitflipTime(s);
        if (!t.ok) ctx.addIssue({ code: 'custom', message: t.reason });
      }),
    }), { error: 'a list of {path, at}' })
    .optional(),
  // Provider blocks: read by the AWS and Hetzner constructs.
  aws: strictObject({
    region: str('an AWS region such as eu-west-3').regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { error: 'an AWS region such as eu-west-3' }).optional(),
    account: str('a 12-digit AWS account id').regex(/^\d{12}$/, { error: 'a 12-digit AWS account id' }).optional(),
    instanceType: str('"auto" or an EC2 instance type such as m7g.large')
      .regex(/^(auto|[a-z][a-z0-9-]*\.[a-z0-9]+)$/, { error: '"auto" or an EC2 instance type such as m7g.large' })
      .optional(),
    volumeType: z.enum(['auto', 'gp3', 'st1'], { error: 'auto, gp3 or st1' }).optional(),
    sshCidrs: z
      .array(cidrSchema('198.51.100.0/24 or 2001:db8::/48'), {
        error: 'a list of admin addresses or CIDRs allowed to SSH in (empty: no SSH, SSM Session Manager only)',
      })
      .optional(),
    hostedZone: strictObject({
      id: str('a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ').regex(/^Z[A-Z0-9]{1,31}$/, { error: 'a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ' }),
      name: str('the zone\'s domain name such as example.org').regex(HOSTNAME_RE, { error: 'the zone\'s domain name such as example.org' }),
    }).optional(),
  }).optional(),
  // Hetzner Cloud (cdktf). Formats here; the location list and sizing rules in lib/config/hcloud.ts.
  hcloud: strictObject({
    location: str('a Hetzner location such as fsn1').regex(/^[a-z]{3}\d?$/, { error: 'a Hetzner location such as fsn1, nbg1, hel1, ash, hil or sin' }).optional(),
    serverType: str('"auto" or a Hetzner server type such as cpx22')
      .regex(/^(auto|(cx|cpx|cax|ccx)\d{2,3})$/, { error: '"auto" or a Hetzner server type such as cpx22, cpx32, ccx13 or cx33' })
      .optional(),
    image: str('a Hetzner image name such as debian-12').regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, { error: 'a Hetzner image name such as debian-12' }).optional(),
    sshKeys: z
      .array(str('an OpenSSH public key line or the name of a key in the Hetzner project', 16384).regex(/^[^\n]{1,16384}$/, {
        error: 'an OpenSSH public key line ("ssh-ed25519 AAAA... comment") or the name of a key in the Hetzner project',
      }), { error: 'a list of OpenSSH public keys or names of keys in the Hetzner project' })
      .optional(),
    adminCidrs: z
      .array(cidrSchema('198.51.100.0/24 or 2001:db8::/48'), {
        error: 'a list of admin addresses or CIDRs allowed to SSH in (leave out with sshKeys for a node without SSH)',
      })
      .optional(),
    metricsCidrs: z
      .array(cidrSchema('203.0.113.9 or 2001:db8::9'), {
        error: 'a list of Prometheus server addresses allowed to scrape node_exporter (empty: loopback only)',
      })
      .optional(),
  }).optional(),
});

export type MirrorConfigInput = z.infer<typeof configSchema>;
export type TreeInput = z.infer<typeof treeSchema>;
