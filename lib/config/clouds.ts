import { parseDocument } from 'yaml';
import { hcloudVolumeDevice, renderHcloudUserData } from '../host/hcloud/hcloud-host';
import { USER_DATA_LIMITS } from '../host/user-data';
import { mirrorNodeHost } from '../roles/mirror-node/role';
import { checkAws } from './aws';
import { checkHcloud } from './hcloud';
import { ConfigCheck } from './load';
import { FieldPath, Problem, formatPath } from './problems';
import { MirrorConfigInput } from './schema';

/*
 * Each cloud's rules on a mirror.yaml, in one table: the apps (bin/cdk-app.ts, bin/cdktf-app.ts)
 * and `mirrorfleet validate` run the same ones, so a config that validates for a cloud deploys
 * there. Only imported by bin/ and the tests: it reaches into lib/host and lib/roles to render
 * what a deploy would send.
 */

export const CLOUD_IDS = ['aws', 'hcloud'] as const;
export type CloudId = (typeof CLOUD_IDS)[number];

/** Hetzner's volume ids are integers: the rendered user data is measured with the longest one. */
const LONGEST_VOLUME_ID = '9'.repeat(20);

/** Hetzner Cloud takes at most 32 KiB of user data: a config that renders more is refused here, with its largest values. */
export function checkHcloudUserData(c: Parameters<ConfigCheck>[0], input: MirrorConfigInput): Problem[] {
  const bytes = Buffer.byteLength(renderHcloudUserData(mirrorNodeHost(c), { metricsCidrs: c.hcloud.metricsCidrs }, hcloudVolumeDevice(LONGEST_VOLUME_ID)));
  if (bytes <= USER_DATA_LIMITS.hcloud) return [];
  const largest = largestValues(input);
  const [first] = largest;
  return [
    {
      path: first?.path ?? [],
      shown: `${first ? `${first.what}, ` : ''}user data of about ${Math.round(bytes / 1024)} KiB`,
      allowed: `at most ${USER_DATA_LIMITS.hcloud / 1024} KiB of user data on Hetzner Cloud (every node file travels in it, compressed)${largest.length > 0 ? `: shorten the largest values, ${largest.map((v) => `${formatPath(v.path)} (${v.what})`).join(', ')}` : ': fewer trees'}`,
    },
  ];
}

/** The values that weigh most in a config (at most three, of 64 characters or more): long strings and long lists of them. */
function largestValues(input: unknown): { path: FieldPath; what: string }[] {
  const found: { path: FieldPath; what: string; size: number }[] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    if (typeof v === 'string') found.push({ path, what: `${v.length} characters`, size: v.length });
    else if (Array.isArray(v) && v.every((x) => typeof x !== 'object' || x === null)) {
      const size = JSON.stringify(v).length;
      found.push({ path, what: `${v.length} entries, ${size} characters`, size });
    } else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, Array.isArray(v) ? Number(k) : k]);
  };
  walk(input, []);
  return found.filter((f) => f.size >= 64).sort((a, b) => b.size - a.size).slice(0, 3);
}

export interface Cloud {
  readonly title: string;
  readonly checks: readonly ConfigCheck[];
}

export const CLOUDS: Readonly<Record<CloudId, Cloud>> = {
  aws: { title: 'AWS', checks: [checkAws] },
  hcloud: { title: 'Hetzner Cloud', checks: [checkHcloud, checkHcloudUserData] },
};

/**
 * The clouds a config is for: the one whose block (`aws:`, `hcloud:`) it has, or both when it
 * has both or neither (a config without either deploys on both).
 */
export function cloudsNamedIn(text: string): CloudId[] {
  let top: unknown;
  try {
    top = parseDocument(text).toJS({ maxAliasCount: 100 });
  } catch {
    top = undefined;
  }
  const keys = top !== null && typeof top === 'object' ? Object.keys(top) : [];
  const named = CLOUD_IDS.filter((id) => keys.includes(id));
  return named.length === 1 ? named : [...CLOUD_IDS];
}
