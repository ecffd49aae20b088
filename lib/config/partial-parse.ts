import { z } from 'zod';
import { PRESETS, PresetId } from '../presets';
import { FieldPath } from './problems';
import { MirrorConfigInput, configSchema } from './schema';

/*
 * "Every problem at once" across the schema and the rules after it: when the schema refuses
 * some values, the rest of the config still goes through the preset, cross-field and cloud
 * rules. Each refused value is left out (an optional one, or an element of a list of values),
 * or replaced by a neutral stand-in (a required one), and a later problem that touches a refused
 * path is dropped, because it would be about the stand-in and not about what the user wrote.
 * A bad `preset` stops here: the rules after the schema all depend on it.
 */

export interface PartialParse {
  /** The schema's issues on the config as written. */
  readonly issues: readonly z.core.$ZodIssue[];
  /** The config with the refused values left out or stood in for; undefined when nothing can run. */
  readonly input?: MirrorConfigInput;
  /**
   * Where a later problem, found on `input`, is in the config as written; undefined when it
   * touches a refused value and is dropped.
   */
  readonly written: (path: FieldPath) => FieldPath | undefined;
}

const MAX_ROUNDS = 8;

export function parsePartially(raw: Record<string, unknown>): PartialParse {
  const first = configSchema.safeParse(raw);
  if (first.success) return { issues: [], input: first.data, written: (p) => p };
  const preset = PRESETS[raw.preset as PresetId];
  const repairs = new Repairs(structuredClone(raw), preset?.minimumBandwidthMbps.mbps ?? 0);
  const done = (input?: MirrorConfigInput): PartialParse => ({ issues: first.error.issues, input, written: (p) => repairs.written(p) });
  if (!preset || first.error.issues.some((i) => i.path[0] === 'preset')) return done();

  let issues = first.error.issues;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    for (const issue of issues) {
      const path = issue.path as (string | number)[];
      if (issue.code === 'unrecognized_keys') repairs.dropKeys(path, issue.keys);
      else if (!repairs.leaveOut(path)) return done();
    }
    repairs.applyRemovals();
    const again = configSchema.safeParse(repairs.value);
    if (again.success) return done(again.data);
    issues = again.error.issues;
  }
  return done();
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

const isPrefix = (a: FieldPath, b: FieldPath) => a.length <= b.length && a.every((k, i) => b[i] === k);
const samePath = (a: FieldPath, b: FieldPath) => a.length === b.length && isPrefix(a, b);

class Repairs {
  /** Refused paths (as written): a problem on, inside or holding one is dropped. */
  private readonly refused: FieldPath[] = [];
  /** Lists that lost elements (as written): a problem on the list as a whole is dropped, its elements' are kept. */
  private readonly thinned: FieldPath[] = [];
  /** Elements removed from lists of values, in the order applied, each index as it was then. */
  private readonly removals: { list: FieldPath; index: number }[] = [];
  private pending: { list: (string | number)[]; index: number }[] = [];

  constructor(
    readonly value: Record<string, unknown>,
    private readonly minimumMbps: number,
  ) {}

  dropKeys(path: (string | number)[], keys: readonly string[]): void {
    const holder = at(this.value, path) as Record<string, unknown>;
    for (const k of keys) delete holder[k];
  }

  /** Leaves out (or stands in for) the value at `path`; false when nothing sensible can stand in. */
  leaveOut(path: (string | number)[]): boolean {
    if (path.length === 0) return false;
    const key = path.filter((k) => typeof k === 'string').join('.');
    const standIn = standIns(this.minimumMbps)[key];
    if (standIn !== undefined && !path.some((k) => typeof k === 'number')) {
      set(this.value, path, structuredClone(standIn));
      this.refuse(path);
      return true;
    }
    const [top, index] = path;
    if (top in ELEMENT_STAND_INS && typeof index === 'number' && path.length <= 3) {
      const elementPath = [top, index];
      const element = at(this.value, elementPath);
      const fill = ELEMENT_STAND_INS[top](index);
      if (path.length === 2 || element === null || typeof element !== 'object' || Array.isArray(element)) {
        set(this.value, elementPath, fill);
        this.refuse(elementPath);
        return true;
      }
      const field = path[2] as string;
      const el = element as Record<string, unknown>;
      // A required field gets its stand-in (the whole element is then in doubt); an optional one is left out.
      if (field in fill) {
        el[field] = fill[field];
        this.refuse(elementPath);
      } else {
        delete el[field];
        this.refuse(path);
      }
      return true;
    }
    const parentPath = path.slice(0, -1);
    const parent = at(this.value, parentPath);
    const last = path[path.length - 1];
    if (Array.isArray(parent) && typeof last === 'number') {
      // An element of a list of values: removed after this round; the others keep their place as written.
      this.pending.push({ list: parentPath, index: last });
      return true;
    }
    if (parent === null || typeof parent !== 'object' || !((last as string) in (parent as object))) {
      // A required value is missing: its optional parent goes.
      this.refuse(path);
      return this.leaveOut(parentPath);
    }
    delete (parent as Record<string, unknown>)[last as string];
    this.refuse(path);
    return true;
  }

  /** Removes this round's refused list elements, the highest index first, so the others' indexes hold. */
  applyRemovals(): void {
    const seen = new Set<string>();
    const todo = this.pending
      .filter((r) => !seen.has(JSON.stringify(r)) && seen.add(JSON.stringify(r)))
      .sort((a, b) => (JSON.stringify(a.list) === JSON.stringify(b.list) ? b.index - a.index : 0));
    for (const r of todo) {
      const list = at(this.value, r.list);
      if (!Array.isArray(list)) continue;
      list.splice(r.index, 1);
      this.thinned.push(this.original(r.list));
      this.removals.push(r);
    }
    this.pending = [];
  }

  /** Where a later problem is in the config as written, or undefined when it is dropped. */
  written(path: FieldPath): FieldPath | undefined {
    const p = this.original(path);
    if (this.refused.some((r) => isPrefix(r, p) || isPrefix(p, r))) return undefined;
    if (this.thinned.some((t) => samePath(t, p))) return undefined;
    return p;
  }

  private refuse(path: FieldPath): void {
    this.refused.push(this.original(path));
  }

  /** A path in the repaired config, mapped back through the removals to the config as written. */
  private original(path: FieldPath): FieldPath {
    const p = [...path];
    for (const r of [...this.removals].reverse()) {
      const i = r.list.length;
      if (isPrefix(r.list, p) && typeof p[i] === 'number' && (p[i] as number) >= r.index) p[i] = (p[i] as number) + 1;
    }
    return p;
  }
}

function at(root: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined), root);
}

function set(root: Record<string, unknown>, path: readonly (string | number)[], v: unknown): void {
  const holder = at(root, path.slice(0, -1)) as Record<string | number, unknown>;
  holder[path[path.length - 1]] = v;
}
