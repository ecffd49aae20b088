import { Document, LineCounter, isMap, isScalar, isSeq, Node, Pair } from 'yaml';

/** A path into the config: keys and list indexes. */
export type FieldPath = readonly (string | number)[];

/** One thing wrong with a config, before it has a position. */
export interface Problem {
  readonly path: FieldPath;
  /** The message after the dash: what is allowed (or the prerequisite that was broken). */
  readonly allowed: string;
  /** Point at the key itself (unknown keys), not at its value. */
  readonly atKey?: string;
  /** Show this instead of the value found at `path` (e.g. "missing"). */
  readonly shown?: string;
}

/** Every problem in one config file, already formatted as FILE:LINE:COL lines. */
export class MirrorConfigError extends Error {
  constructor(
    readonly file: string,
    readonly lines: readonly string[],
  ) {
    super(`${file}: ${lines.length} problem${lines.length === 1 ? '' : 's'}\n${lines.join('\n')}`);
    this.name = 'MirrorConfigError';
  }
}

export function formatPath(path: FieldPath): string {
  return path.reduce<string>((out, p) => (typeof p === 'number' ? `${out}[${p}]` : out ? `${out}.${p}` : p), '');
}

/** Positions and values for config paths, read from the parsed YAML document. */
export class SourceMap {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  position(path: FieldPath, atKey?: string): { line: number; col: number } {
    const { node, complete } = this.deepest(path);
    let offset = node?.range?.[0] ?? 0;
    if (complete && atKey !== undefined && isMap(node)) {
      const pair = (node.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === atKey);
      const keyRange = (pair?.key as Node | undefined)?.range;
      if (keyRange) offset = keyRange[0];
    }
    return this.lines.linePos(offset);
  }

  /** The value the user wrote at `path`, or undefined when the path is absent. */
  value(path: FieldPath): unknown {
    const { node, complete } = this.deepest(path);
    return complete && node ? (node as Node).toJSON() : undefined;
  }

  private deepest(path: FieldPath): { node: Node | undefined; complete: boolean } {
    let node = this.doc.contents as Node | null;
    for (const key of path) {
      let next: unknown;
      if (isMap(node)) next = node.get(key, true);
      else if (isSeq(node) && typeof key === 'number') next = node.get(key, true);
      if (next === undefined || next === null) return { node: node ?? undefined, complete: false };
      node = next as Node;
    }
    return { node: node ?? undefined, complete: true };
  }
}

/** The value as written, cut to a line's worth: a long value is shown by its start and its length. */
export function showValue(v: unknown): string {
  if (v === undefined) return 'missing';
  if (typeof v === 'string') return v.length > 200 ? `${JSON.stringify(v.slice(0, 60))}... (${v.length} characters)` : JSON.stringify(v);
  const json = JSON.stringify(v);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

export function formatProblem(file: string, map: SourceMap, p: Problem): string {
  const { line, col } = map.position(p.path, p.atKey);
  const field = formatPath(p.atKey === undefined ? p.path : [...p.path, p.atKey]);
  const shown = p.shown ?? showValue(map.value(p.path));
  return `${file}:${line}:${col} ${field || '(top level)'}: ${shown} — ${p.allowed}`;
}

/** The closest candidate by edit distance, if it is close enough to be a likely typo. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}
