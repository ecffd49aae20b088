import { Document, LineCounter, Node, Pair, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { FieldPath, formatPath } from './problems';

/*
 * A mirror.yaml as YAML: one document, a mapping at the top. What the yaml library says in its
 * own words (multiple documents, alias expansion guards) is turned into what the user can do.
 */

/** How many alias expansions a config may use (the yaml library's default): a bomb stops here. */
export const MAX_ALIAS_COUNT = 100;

export interface YamlSource {
  readonly doc: Document;
  readonly lineCounter: LineCounter;
  readonly raw: Record<string, unknown>;
}

export type YamlResult = { readonly ok: true; readonly source: YamlSource } | { readonly ok: false; readonly lines: string[] };

export function readYaml(text: string, file: string): YamlResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    return {
      ok: false,
      lines: doc.errors.map((e) =>
        e.code === 'MULTIPLE_DOCS'
          ? `${at(e.pos[0])} (YAML): a second document ("---") — one document per file: a mirror.yaml describes one node; remove this part or move it to a file of its own`
          : `${at(e.pos[0])} (YAML): ${e.message.split('\n')[0]} — valid YAML`,
      ),
    };
  }

  const merges = mergeKeys(doc);
  if (merges.length > 0) {
    return {
      ok: false,
      lines: merges.map(
        ({ offset, path }) => `${at(offset)} ${formatPath([...path, '<<'])}: a merge key — the keys written out: mirrorfleet reads YAML 1.2, which has no "<<" merge keys (anchors and aliases of whole values work)`,
      ),
    };
  }

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    const alias = firstAlias(doc);
    return {
      ok: false,
      lines: [`${at(alias ?? 0)} (YAML): aliases that expand to more than ${MAX_ALIAS_COUNT} copies — values written out, or fewer aliases (*name): a config never needs that many`],
    };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      ok: false,
      lines: [`${file}:1:1 (top level): ${raw === null || raw === undefined ? 'empty document' : 'not a mapping'} — a mapping with preset, hostname, admin, site, bandwidthMbps, ...`],
    };
  }
  return { ok: true, source: { doc, lineCounter, raw: raw as Record<string, unknown> } };
}

/** Every "<<" key, with the config path of the mapping that holds it. */
function mergeKeys(doc: Document): { offset: number; path: FieldPath }[] {
  const found: { offset: number; path: FieldPath }[] = [];
  const walk = (node: unknown, path: (string | number)[]) => {
    if (isMap(node)) {
      for (const pair of node.items as Pair[]) {
        const key = isScalar(pair.key) ? pair.key.value : undefined;
        if (key === '<<') found.push({ offset: (pair.key as Node).range?.[0] ?? 0, path });
        else walk(pair.value, [...path, String(key)]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    }
  };
  walk(doc.contents, []);
  return found;
}

function firstAlias(doc: Document): number | undefined {
  let offset: number | undefined;
  const walk = (node: unknown): void => {
    if (offset !== undefined) return;
    if (isAlias(node)) offset = node.range?.[0];
    else if (isMap(node)) for (const pair of node.items as Pair[]) walk(pair.value);
    else if (isSeq(node)) node.items.forEach(walk);
  };
  walk(doc.contents);
  return offset;
}
