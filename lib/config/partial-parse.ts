import { z } from 'zod';
import { PRESETS, PresetId } from '../presets';
import { FieldPath } from './problems';
import { MirrorConfigInput, configSchema } from './schema';

/*
 * "Every problem at once" across the schema and the rules after it: when the schema refuses
 * some values, the rest of the config still goes through the preset, cross-field and cloud
 * rules. Each refused value is left out (an optional one), or replaced by a neutral stand-in (a
 * required one), and every later problem that touches a refused path is dropped, because it
 * would be about the stand-in and not about what the user wrote. A bad `preset` stops here:
 * the rules after the schema all depend on it.
 */

export interface PartialParse {
  /** The schema's issues on the config as written. */
  readonly issues: readonly z.core.$ZodIssue[];
  /** The config with the refused values left out or stood in for; undefined when nothing can run. */
  readonly input?: MirrorConfigInput;
  /** Paths whose value was refused, left out or stood in for: later problems on them are dropped. */
  readonly refused: readonly FieldPath[];
}

const MAX_ROUNDS = 8;

export function parsePartially(raw: Record<string, unknown>): PartialParse {
  const first = configSchema.safeParse(raw);
  if (first.success) return { issues: [], input: first.data, refused: [] };
  const preset = PRESETS[raw.preset as PresetId];
  if (!preset || first.error.issues.some((i) => i.path[0] === 'preset')) return { issues: first.error.issues, refused: [] };

  const value = structuredClone(raw);
  const refused: FieldPath[] = [];
  let issues = first.error.issues;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    for (const issue of issues) {
      const path = issue.path as (string | number)[];
      if (issue.code === 'unrecognized_keys') {
        const holder = at(value, path) as Record<string, unknown>;
        for (const k of issue.keys) delete holder[k];
      } else if (!leaveOut(value, path, refused, preset.minimumBandwidthMbps.mbps)) {
        return { issues: first.error.issues, refused };
      }
    }
    const again = configSchema.safeParse(value);
    if (again.success) return { issues: first.error.issues, input: again.data, refused };
    issues = again.error.issues;
  }
  return { issues: first.error.issues, refused };
}

/** Whether a later problem at `path` is about a refused value (the same path, inside it, or holding it). */
export function touchesRefused(path: FieldPath, refused: readonly FieldPath[]): boolean {
  const prefix = (a: FieldPath, b: FieldPath) => a.length <= b.length && a.every((k, i) => b[i] === k);
  return refused.some((r) => prefix(r, path) || prefix(path, r));
}

/** Stand-ins for required values: they pass every rule, and problems on them are dropped. */
const standIns = (minimumMbps: number): Record<string, unknown> => ({
  hostname: 'mirror.example.org',
  admin: { name: 'stand-in', email: 'mirror-admin@example.org' },
  'admin.name': 'stand-in',
  'admin.email': 'mirror-admin@example.org',
  site: { city: 'stand-in', country: 'FR' },
  'site.city': 'stand-in',
  'site.country': 'FR',
  bandwidthMbps: minimumMbps,
});

/** Lists of mappings, whose elements keep their index: a refused element is stood in for, never removed. */
const ELEMENT_STAND_INS: Record<string, (i: number) => Record<string, unknown>> = {
  trees: (i) => ({ name: `stand-in-${i + 1}`, upstream: 'rsync://stand-in.invalid/stand-in/' }),
  bitflips: () => ({ path: 'stand-in', at: '2999-01-01 00:00 UTC' }),
};

function leaveOut(value: Record<string, unknown>, path: (string | number)[], refused: FieldPath[], minimumMbps: number): boolean {
  if (path.length === 0) return false;
  const key = path.map(String).filter((k) => !/^\d+$/.test(k)).join('.');
  const standIn = standIns(minimumMbps)[key];
  if (standIn !== undefined && !path.some((k) => typeof k === 'number')) {
    set(value, path, structuredClone(standIn));
    refused.push(path);
    return true;
  }
  const [top, index] = path;
  if (top in ELEMENT_STAND_INS && typeof index === 'number') {
    const elementPath = [top, index];
    const element = at(value, elementPath);
    const fill = ELEMENT_STAND_INS[top](index);
    if (path.length === 2 || element === null || typeof element !== 'object' || Array.isArray(element)) {
      set(value, elementPath, fill);
      refused.push(elementPath);
      return true;
    }
    const field = path[2] as string;
    const el = element as Record<string, unknown>;
    // A required field gets its stand-in (the whole element is then in doubt); an optional one
    // (or anything deeper) is left out.
    if (field in fill) {
      el[field] = fill[field];
      refused.push(elementPath);
    } else {
      delete el[field];
      refused.push([top, index, field]);
    }
    return true;
  }
  const parentPath = path.slice(0, -1);
  const parent = at(value, parentPath);
  // An element of a list of values: the list goes (removing one would shift the others' indexes).
  if (Array.isArray(parent)) return leaveOut(value, parentPath, refused, minimumMbps);
  const last = path[path.length - 1] as string;
  if (parent === null || typeof parent !== 'object' || !(last in (parent as object))) {
    // A required value is missing: its optional parent goes.
    refused.push(path);
    return leaveOut(value, parentPath, refused, minimumMbps);
  }
  delete (parent as Record<string, unknown>)[last];
  refused.push(path);
  return true;
}

function at(root: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined), root);
}

function set(root: Record<string, unknown>, path: readonly (string | number)[], v: unknown): void {
  const holder = at(root, path.slice(0, -1)) as Record<string | number, unknown>;
  holder[path[path.length - 1]] = v;
}
