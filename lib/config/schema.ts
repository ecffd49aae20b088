import { isIP } from 'node:net';
import { z } from 'zod';
import { PRESET_IDS } from '../presets';
import { SCHEDULE_HELP, parseSchedule } from './schedule';

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
const COORDS_RE = /^-?\d{1,2}(\.\d+)?,\s*-?\d{1,3}(\.\d+)?$/;
const AT_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}( UTC)?$/;
const TIMEZONES = new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC']);

const isCidr = (s: string): boolean => {
  const [addr, bits, ...rest] = s.split('/');
  const family = isIP(addr);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n >= 0 && n <= (family === 4 ? 32 : 128);
};

const str = (allowed: string) => z.string({ error: allowed });
const bool = z.boolean({ error: 'true or false' });
const posInt = (allowed: string, min = 1, max = Number.MAX_SAFE_INTEGER) =>
  z.number({ error: allowed }).int({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed });
const strictObject = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape);

export const scheduleSchema = str(SCHEDULE_HELP).refine((s) => parseSchedule(s) !== undefined, { error: SCHEDULE_HELP });

const treeSchema = strictObject({
  name: str('a short lower-case name: letters, digits and "-", starting with a letter or digit').regex(NAME_RE, {
    error: 'a short lower-case name: letters, digits and "-" (at most 31), starting with a letter or digit',
  }),
  upstream: str('an rsync URL such as rsync://host/module/path/')
    .regex(RSYNC_URL_RE, { error: 'an rsync URL such as rsync://host/module/path/' })
    .optional(),
  path: str('an absolute path such as /srv/mirror/fedora').regex(ABS_PATH_RE, { error: 'an absolute path such as /srv/mirror/fedora' }).optional(),
  schedule: scheduleSchema.optional(),
  excludes: z
    .array(str('a path inside the tree starting with "/", such as /releases/historical').regex(TREE_PATH_RE, {
      error: 'a path inside the tree starting with "/", such as /releases/historical',
    }), { error: 'a list of paths inside the tree' })
    .optional(),
  bandwidthLimitMbps: posInt('a whole number of Mbit/s (at least 1) to cap this tree\'s sync').optional(),
});

export const configSchema = strictObject({
  preset: z.enum(PRESET_IDS as [string, ...string[]], { error: `one of ${PRESET_IDS.join(', ')}` }),
  hostname: str('a fully qualified host name such as mirror.example.org').regex(HOSTNAME_RE, {
    error: 'a fully qualified host name such as mirror.example.org',
  }),
  admin: strictObject({
    name: str('the name of the person or team running the mirror').min(1, { error: 'a non-empty name' }),
    email: str('an e-mail address such as mirror-admin@example.org').regex(EMAIL_RE, {
      error: 'an e-mail address such as mirror-admin@example.org',
    }),
  }),
  site: strictObject({
    city: str('the city where the node runs').min(1, { error: 'a non-empty city name' }),
    country: str('a two-letter ISO 3166 country code such as FR').regex(/^[A-Z]{2}$/, {
      error: 'a two-letter upper-case ISO 3166 country code such as FR',
    }),
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
      .union([z.literal('auto'), posInt('"auto" or a whole number from 15 to 4000', 1, 4000)], {
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
      .union([z.literal('all'), z.literal('none'), z.array(str('a path starting with "/"').regex(TREE_PATH_RE, { error: 'a path starting with "/"' }))], {
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
        .array(str('an IPv4 or IPv6 address or CIDR').refine(isCidr, { error: 'an IPv4 or IPv6 address or CIDR such as 198.51.100.7 or 2001:db8::/64' }), {
          error: 'a list of IPv4 or IPv6 addresses or CIDRs',
        })
        .min(1, { error: 'at least one downstream address' }),
    }).optional(),
  }).optional(),
  tls: strictObject({
    email: str('an e-mail address for the certificate authority').regex(EMAIL_RE, { error: 'an e-mail address such as hostmaster@example.org' }).optional(),
    preferredChain: str('the common name of a root, such as "ISRG Root X1"').min(1, { error: 'a non-empty root name' }).optional(),
    acmeServer: str('an https:// ACME directory URL').regex(/^https:\/\/\S+$/, { error: 'an https:// ACME directory URL' }).optional(),
  }).optional(),
  storage: strictObject({
    sizeGiB: z.union([z.literal('auto'), posInt('"auto" or a whole number of GiB from 10 to 65536', 10, 65536)], {
      error: '"auto" or a whole number of GiB from 10 to 65536',
    }).optional(),
    filesystem: z.enum(['ext4', 'xfs'], { error: 'ext4 or xfs' }).optional(),
    mountPoint: str('an absolute path such as /srv/mirror').regex(ABS_PATH_RE, { error: 'an absolute path such as /srv/mirror' }).optional(),
    device: str('a block device path such as /dev/vdb').regex(/^\/dev\/[A-Za-z0-9._\/:-]+$/, { error: 'a block device path such as /dev/vdb' }).optional(),
    plannedYears: posInt('a whole number of years from 1 to 10', 1, 10).optional(),
  }).optional(),
  reports: strictObject({
    trace: bool.optional(),
    reportMirror: strictObject({
      site: str('the Site name registered in MirrorManager').min(1, { error: 'a non-empty Site name' }),
      host: str('the Host name registered in MirrorManager').min(1, { error: 'a non-empty Host name' }).optional(),
      server: str('the MirrorManager XML-RPC URL').regex(/^https:\/\/\S+$/, { error: 'an https:// URL' }).optional(),
      passwordFile: str('an absolute path on the node').regex(ABS_PATH_RE, { error: 'an absolute path on the node' }).optional(),
    }).optional(),
    webhook: strictObject({
      url: str('an https:// URL').regex(/^https?:\/\/\S+$/, { error: 'an http:// or https:// URL' }),
    }).optional(),
  }).optional(),
  bitflips: z
    .array(strictObject({
      path: str('a directory relative to the mirror root, such as fedora/linux/releases/45').regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, {
        error: 'a directory relative to the mirror root, such as fedora/linux/releases/45',
      }),
      at: str('a time "YYYY-MM-DD HH:MM UTC"').regex(AT_RE, { error: 'a time "YYYY-MM-DD HH:MM UTC" (or without UTC for the node\'s time zone)' }),
    }), { error: 'a list of {path, at}' })
    .optional(),
  // Provider blocks: read by the AWS and Hetzner constructs.
  aws: strictObject({
    region: str('an AWS region such as eu-west-3').regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { error: 'an AWS region such as eu-west-3' }).optional(),
    account: str('a 12-digit AWS account id').regex(/^\d{12}$/, { error: 'a 12-digit AWS account id' }).optional(),
  }).optional(),
  hcloud: strictObject({
    location: str('a Hetzner location such as fsn1').regex(/^[a-z]{3}\d?$/, { error: 'a Hetzner location such as fsn1, nbg1, hel1, ash, hil or sin' }).optional(),
  }).optional(),
});

export type MirrorConfigInput = z.infer<typeof configSchema>;
export type TreeInput = z.infer<typeof treeSchema>;
