import { z } from 'zod';
import type { NodeConfig } from '../config/node-config';
import type { Problem } from '../config/problems';
import { resolveConfig } from '../config/resolve';
import { configSchema, scheduleSchema } from '../config/schema';
import { parseSchedule, scheduleIntervalMinutes } from '../config/schedule';
import type { Preset } from '../presets';
import { REDIRECTOR_PROFILES, RedirectorProfile, ScaledConfig, resolveScaled, scaledSchema } from './redirector-scaled';

/*
 * The redirector block of project.yaml (R1–R4, R6, R7): one machine running mirrorbits behind
 * nginx, with Redis, a local copy of the master's tree and GeoIP databases. Written with the keys
 * of a mirror.yaml where the redirector has the same thing (host name, admin, site, TLS, storage,
 * the cloud blocks), plus mirrorbits' own.
 */

const SHA256_HELP = 'the artifact\'s sha256, 64 hex digits (sha256sum mirrorbits-v0.6.1.tar.gz)';
const minutes = (allowed: string, max: number) => z.number({ error: allowed }).int({ error: allowed }).min(1, { error: allowed }).max(max, { error: allowed });

export const redirectorSchema = configSchema
  .omit({ preset: true, trees: true, reports: true, rsync: true, bitflips: true, http: true })
  .extend({
    mirrorbits: z.strictObject({
      /**
       * The release tarball the infra team supplies (no Debian or npm package ships mirrorbits):
       * `mirrorbits` and `templates/` in one top-level directory, as upstream's `make release` makes it.
       */
      artifact: z.strictObject({
        url: z.string({ error: 'an https:// or s3:// URL of the mirrorbits release tarball' })
          .regex(/^(https|s3):\/\/\S+$/, { error: 'an https:// or s3:// URL of the mirrorbits release tarball' }),
        sha256: z.string({ error: SHA256_HELP }).regex(/^[0-9a-f]{64}$/, { error: SHA256_HELP }).optional(),
        /** Run it without a checksum: only when written out as this sentence. */
        unverified: z.literal('I run a mirrorbits binary nobody checked', { error: 'leave out, or exactly "I run a mirrorbits binary nobody checked"' }).optional(),
      }),
      checkIntervalMinutes: minutes('how often each mirror gets a health check, 1–60 minutes', 60).optional(),
      scanIntervalMinutes: minutes('how often each mirror\'s files are scanned, 1–1440 minutes', 1440).optional(),
    }),
    geoip: z.strictObject({
      accountId: z.number({ error: 'your MaxMind account ID, a number' }).int({ error: 'a whole number' }).min(1, { error: 'a MaxMind account ID' }),
      /** AWS: the SSM SecureString holding the licence key (you create it; the role may read it). */
      licenseKeyParameter: z.string({ error: 'an SSM parameter name such as /mirrorfleet/maxmind-license-key' })
        .regex(/^\/[A-Za-z0-9_.\/-]{1,1000}$/, { error: 'an SSM parameter name such as /mirrorfleet/maxmind-license-key' }).optional(),
    }),
    /** How often the local copy follows the master: more often than the mirrors (R2). */
    repoSync: scheduleSchema.optional(),
    /** One machine (default) or AWS's managed engines (R5, lib/project/redirector-scaled.ts). */
    profile: z.enum(REDIRECTOR_PROFILES, { error: REDIRECTOR_PROFILES.join(' or ') }).optional(),
    scaled: scaledSchema.optional(),
  });

export type RedirectorInput = z.infer<typeof redirectorSchema>;

export interface RedirectorConfig {
  /** The redirector as the host and shared renderers see it: host, its one tree, TLS, storage, clouds. */
  readonly node: NodeConfig;
  readonly artifact: { readonly url: string; readonly sha256?: string };
  readonly checkIntervalMinutes: number;
  readonly scanIntervalMinutes: number;
  readonly geoip: { readonly accountId: number; readonly licenseKeyParameter: string };
  readonly profile: RedirectorProfile;
  /** With profile scaled: the ECS service, Redis and tasks (docs/redirector-scaled.md). */
  readonly scaled?: ScaledConfig;
}

export const REDIRECTOR_DEFAULTS = {
  checkIntervalMinutes: 1,
  scanIntervalMinutes: 30,
  licenseKeyParameter: '/mirrorfleet/maxmind-license-key',
  /** The local copy must never lag the mirrors (R2): every 5 minutes unless said otherwise. */
  repoSync: 'every 5 minutes',
} as const;

/**
 * The redirector resolved. Its tree is the master's first tree, synced from the master's rsync
 * (the master's ACL admits the redirector), checking the master's trace first so a no-change
 * sync is one small request.
 */
export function resolveRedirector(r: RedirectorInput, preset: Preset, master: NodeConfig): { config: RedirectorConfig; problems: Problem[] } {
  const problems: Problem[] = [];
  const tree = master.trees[0];
  const repoSync = r.repoSync ?? REDIRECTOR_DEFAULTS.repoSync;
  const { config: node, problems: nodeProblems } = resolveConfig({
    ...r,
    preset: preset.id,
    http: { enabled: true, perIpConnectionLimit: 'off' },
    trees: [{ name: tree.name, upstream: `rsync://${master.hostname}/${tree.name}/`, schedule: repoSync, precheck: `project/trace/${master.hostname}` }],
    rsync: { enabled: false },
  });
  problems.push(...nodeProblems.map((p) => ({ ...p, path: ['redirector', ...p.path] })));
  if (master.trees.length > 1) {
    problems.push({ path: ['master', 'trees'], allowed: 'one tree with a redirector: mirrorbits serves one repository, and mirrors list the tree\'s own URL' });
  }
  const sync = parseSchedule(repoSync);
  const mirrorsEvery = scheduleIntervalMinutes(preset.schedule);
  if (sync && scheduleIntervalMinutes(sync) > mirrorsEvery) {
    problems.push({ path: ['redirector', 'repoSync'], allowed: `at most every ${mirrorsEvery} minutes: the local copy must not lag the mirrors, which ${preset.title}'s guide has sync every ${mirrorsEvery} minutes (R2)` });
  }
  if (!r.mirrorbits.artifact.sha256 && !r.mirrorbits.artifact.unverified) {
    problems.push({ path: ['redirector', 'mirrorbits', 'artifact', 'sha256'], shown: 'missing', allowed: `required: ${SHA256_HELP}; nothing runs unverified unless unverified says so in words` });
  }
  const profile = r.profile ?? 'single';
  const scaled = resolveScaled(profile, r.scaled);
  problems.push(...scaled.problems);
  return {
    config: {
      node,
      artifact: { url: r.mirrorbits.artifact.url, sha256: r.mirrorbits.artifact.sha256 },
      checkIntervalMinutes: r.mirrorbits.checkIntervalMinutes ?? REDIRECTOR_DEFAULTS.checkIntervalMinutes,
      scanIntervalMinutes: r.mirrorbits.scanIntervalMinutes ?? REDIRECTOR_DEFAULTS.scanIntervalMinutes,
      geoip: { accountId: r.geoip.accountId, licenseKeyParameter: r.geoip.licenseKeyParameter ?? REDIRECTOR_DEFAULTS.licenseKeyParameter },
      profile,
      scaled: scaled.config,
    },
    problems,
  };
}
