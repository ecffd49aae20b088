import { z } from 'zod';
import { Problem } from '../config/problems';
import { cidrSchema } from '../config/schema';
import { canonicalCidr } from '../net/cidr';
import { YamlFile, parseYamlWith, readYamlText, throwIfProblems } from './yaml-file';

/*
 * mirrors.yaml: the project's list of approved mirrors (R3), kept in git by its infra team. The
 * master's rsync ACL is built from it (M1) and the redirector is reconciled with it (R3).
 */

const NAME_HELP = 'a short name: lower-case letters, digits, "." and "-", such as mirror-fr.example.org';
const url = (scheme: string) => z.string({ error: `a ${scheme}:// URL` }).regex(new RegExp(`^${scheme}://[A-Za-z0-9.-]+(:\\d{1,5})?(/[^\\s]*)?$`), { error: `a ${scheme}:// URL such as ${scheme}://mirror.example.org/xcp-ng/` });
const COUNTRY_HELP = 'an upper-case ISO 3166 alpha-2 country code such as FR';
export const CONTINENTS = ['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA'] as const;

const mirrorSchema = z.strictObject({
  name: z.string({ error: NAME_HELP }).regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, { error: NAME_HELP }),
  sponsor: z.strictObject({
    name: z.string({ error: 'the sponsor\'s name' }).min(1, { error: 'a non-empty name' }),
    url: url('https').optional(),
  }).optional(),
  admin: z.strictObject({
    name: z.string({ error: 'the admin\'s name' }).min(1, { error: 'a non-empty name' }),
    email: z.string({ error: 'an e-mail address' }).regex(/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/, { error: 'an e-mail address such as mirror-admin@example.org' }),
  }),
  http: url('http').optional(),
  https: url('https').optional(),
  rsync: url('rsync').optional(),
  countries: z.array(z.string({ error: COUNTRY_HELP }).regex(/^[A-Z]{2}$/, { error: COUNTRY_HELP }), { error: 'a list of country codes, the primary one first' }).min(1, { error: 'at least the mirror\'s own country' }),
  continent: z.enum(CONTINENTS, { error: CONTINENTS.join(', ') }),
  asn: z.number({ error: 'an autonomous system number such as 64496' }).int({ error: 'a whole AS number' }).min(1, { error: 'an AS number from 1 to 4294967295' }).max(4294967295, { error: 'an AS number from 1 to 4294967295' }).optional(),
  countryOnly: z.boolean({ error: 'true or false' }).optional(),
  asOnly: z.boolean({ error: 'true or false' }).optional(),
  score: z.number({ error: 'a whole number from -100 to 100 (higher is preferred)' }).int({ error: 'a whole number' }).min(-100, { error: 'at least -100' }).max(100, { error: 'at most 100' }).optional(),
  enabled: z.boolean({ error: 'true or false' }).optional(),
  tier1: z.boolean({ error: 'true or false: may sync pre-bitflip content from the master\'s tier-1 module' }).optional(),
  syncFrom: z.array(cidrSchema('198.51.100.7 or 2001:db8::/64'), { error: 'the addresses this mirror syncs from (the master admits these)' }).optional(),
  comment: z.string({ error: 'a comment' }).max(500, { error: 'at most 500 characters' }).optional(),
});

export const mirrorsFileSchema = z.strictObject({
  mirrors: z.array(mirrorSchema, { error: 'a list of mirrors' }),
});

export type MirrorInput = z.infer<typeof mirrorSchema>;

/** One approved mirror, with its defaults applied. */
export interface Mirror {
  readonly name: string;
  readonly sponsor?: { readonly name: string; readonly url?: string };
  readonly admin: { readonly name: string; readonly email: string };
  readonly http?: string;
  readonly https?: string;
  readonly rsync?: string;
  /** Primary first. */
  readonly countries: readonly string[];
  readonly continent: (typeof CONTINENTS)[number];
  readonly asn?: number;
  readonly countryOnly: boolean;
  readonly asOnly: boolean;
  readonly score: number;
  readonly enabled: boolean;
  readonly tier1: boolean;
  /** Canonical CIDRs the master admits for this mirror. */
  readonly syncFrom: readonly string[];
  readonly comment?: string;
}

export interface MirrorList {
  readonly file: string;
  readonly mirrors: readonly Mirror[];
}

/** Reads, checks and resolves a mirrors.yaml; throws one error listing every problem. */
export function loadMirrorList(file: string): MirrorList {
  return parseMirrorList(readYamlText(file), file);
}

export function parseMirrorList(text: string, file = 'mirrors.yaml'): MirrorList {
  const f = parseYamlWith(text, file, mirrorsFileSchema, 'a mapping with the key mirrors: a list of mirrors');
  throwIfProblems(f, checkMirrors(f));
  return { file, mirrors: f.data.mirrors.map(resolveMirror) };
}

function resolveMirror(m: MirrorInput): Mirror {
  return {
    ...m,
    countryOnly: m.countryOnly ?? false,
    asOnly: m.asOnly ?? false,
    score: m.score ?? 0,
    enabled: m.enabled ?? true,
    tier1: m.tier1 ?? false,
    syncFrom: [...new Set((m.syncFrom ?? []).map(canonicalCidr))],
  };
}

/**
 * Rules across entries. Names are unique and none is contained in another: mirrorbits' CLI finds
 * a mirror by case-insensitive substring, so "mirror-se" next to "mirror-se2" would make every
 * command on the first one fail with "Multiple match" (reference/mirrorbits-behaviour.md).
 */
function checkMirrors(f: YamlFile<z.infer<typeof mirrorsFileSchema>>): Problem[] {
  const problems: Problem[] = [];
  const list = f.data.mirrors;
  list.forEach((m, i) => {
    const other = list.findIndex((o, j) => j < i && o.name === m.name);
    if (other >= 0) {
      problems.push({ path: ['mirrors', i, 'name'], allowed: `a name no other mirror has: mirrors[${other}] is also "${m.name}"` });
      return;
    }
    const container = list.findIndex((o, j) => j !== i && o.name !== m.name && o.name.toLowerCase().includes(m.name.toLowerCase()));
    if (container >= 0) {
      problems.push({ path: ['mirrors', i, 'name'], allowed: `a name not contained in another mirror's: "${list[container].name}" (mirrors[${container}]) contains it, and mirrorbits finds mirrors by substring` });
    }
    if (!m.http && !m.https) problems.push({ path: ['mirrors', i], shown: 'no http or https', allowed: 'an http or https URL (or both): the redirector sends clients there' });
    if (m.tier1 && (m.syncFrom ?? []).length === 0) {
      problems.push({ path: ['mirrors', i, 'tier1'], allowed: 'false, or list syncFrom: a tier-1 mirror syncs from the master, which admits only listed addresses' });
    }
  });
  return problems;
}
