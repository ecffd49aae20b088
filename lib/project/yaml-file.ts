import * as fs from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { issueToProblems, sortByPosition, valueAt } from '../config/load';
import { MirrorConfigError, Problem, SourceMap, formatProblem } from '../config/problems';

/*
 * The project's own files (project.yaml, mirrors.yaml) read as mirror.yaml is: a YAML document
 * checked by a zod schema, every problem at once as FILE:LINE:COL field: value — allowed.
 */

export interface YamlFile<T> {
  readonly file: string;
  readonly data: T;
  /** Positions of the fields, for problems found after the schema (cross-field, cross-file rules). */
  readonly map: SourceMap;
}

export function readYamlText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new MirrorConfigError(file, [`${file}: cannot read: ${why}`]);
  }
}

/** Parses and checks `text`; throws one MirrorConfigError listing every problem. */
export function parseYamlWith<S extends z.core.$ZodType>(text: string, file: string, schema: S, shape: string): YamlFile<z.infer<S>> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new MirrorConfigError(file, doc.errors.map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      return `${file}:${line}:${col} (YAML): ${e.message.split('\n')[0]} — valid YAML`;
    }));
  }
  const map = new SourceMap(doc, lineCounter);
  const raw = doc.toJSON();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new MirrorConfigError(file, [`${file}:1:1 (top level): ${raw === null ? 'empty document' : 'not a mapping'} — ${shape}`]);
  }
  const parsed = z.safeParse(schema, raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) => issueToProblems(issue, valueAt(raw, issue.path as (string | number)[]), schema));
    throw new MirrorConfigError(file, sortByPosition(problems.map((p) => formatProblem(file, map, p))));
  }
  return { file, data: parsed.data, map };
}

/** Throws the problems found after the schema, at their positions, if there are any. */
export function throwIfProblems(f: YamlFile<unknown>, problems: readonly Problem[]): void {
  if (problems.length > 0) throw new MirrorConfigError(f.file, sortByPosition(problems.map((p) => formatProblem(f.file, f.map, p))));
}
