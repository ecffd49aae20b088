import * as fs from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { checkIngress } from '../host/ingress';
import { mirrorNodeIngress } from '../roles/mirror-node/ingress';
import { NodeConfig } from './node-config';
import { checkPrerequisites } from './prerequisites';
import { MirrorConfigError, Problem, SourceMap, didYouMean, formatProblem } from './problems';
import { resolveConfig } from './resolve';
import { MirrorConfigInput, configSchema } from './schema';

/** Provider rules (lib/config/aws.ts) a deploy adds to the loader's, reported in the same format. */
export type ConfigCheck = (config: NodeConfig, input: MirrorConfigInput) => Problem[];

/** Reads, validates and resolves a mirror.yaml. Throws one MirrorConfigError listing every problem. */
export function loadConfigFile(file: string, checks: readonly ConfigCheck[] = []): NodeConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new MirrorConfigError(file, [`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
  return parseConfig(text, file, checks);
}

export function parseConfig(text: string, file = 'mirror.yaml', checks: readonly ConfigCheck[] = []): NodeConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new MirrorConfigError(
      file,
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return `${file}:${line}:${col} (YAML): ${e.message.split('\n')[0]} — valid YAML`;
      }),
    );
  }
  const map = new SourceMap(doc, lineCounter);
  const raw = doc.toJSON();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new MirrorConfigError(file, [`${file}:1:1 (top level): ${raw === null ? 'empty document' : 'not a mapping'} — a mapping with preset, hostname, admin, site, bandwidthMbps, ...`]);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) => issueToProblems(issue, valueAt(raw, issue.path as (string | number)[])));
    throw new MirrorConfigError(file, sortByPosition(problems.map((p) => formatProblem(file, map, p))));
  }
  const input: MirrorConfigInput = parsed.data;
  const { config, problems } = resolveConfig(input);
  problems.push(...checkPrerequisites(input, config));
  // On every cloud alike: a port for listed hosts is never open to everyone.
  problems.push(...checkIngress(mirrorNodeIngress(config)));
  for (const check of checks) problems.push(...check(config, input));
  if (problems.length > 0) {
    throw new MirrorConfigError(file, sortByPosition(problems.map((p) => formatProblem(file, map, p))));
  }
  return config;
}

/** One schema issue as loader problems; `root` is the schema the path starts from (mirror.yaml's by default). */
export function issueToProblems(issue: z.core.$ZodIssue, input: unknown, root: z.core.$ZodType = configSchema): Problem[] {
  const path = issue.path as (string | number)[];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(path, root);
      return issue.keys.map((key) => {
        const guess = didYouMean(key, known);
        return {
          path,
          atKey: key,
          shown: 'unknown key',
          allowed: `${guess ? `did you mean "${guess}"? ` : ''}allowed keys here: ${known.join(', ')}`,
        };
      });
    }
    case 'invalid_type': {
      // Objects say which keys they take, rather than a generic "a mapping".
      const allowed = issue.expected === 'object' ? `a mapping with the keys ${knownKeys(path, root).join(', ')}` : issue.message;
      if (input === undefined) return [{ path, shown: 'missing', allowed: `required: ${allowed}` }];
      return [{ path, allowed }];
    }
    case 'invalid_value': {
      const guess = typeof input === 'string' ? didYouMean(input, issue.values.map(String)) : undefined;
      return [{ path, allowed: `${issue.message}${guess ? ` (did you mean "${guess}"?)` : ''}` }];
    }
    default:
      return [{ path, allowed: issue.message }];
  }
}

export function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined), root);
}

/** The keys the schema allows at a path, for unknown-key messages. */
function knownKeys(path: readonly (string | number)[], root: z.core.$ZodType): string[] {
  let schema: z.core.$ZodType | undefined = root;
  for (const key of [...path, null]) {
    while (schema && ['optional', 'default', 'nullable'].includes(schema._zod.def.type)) {
      schema = (schema._zod.def as unknown as { innerType: z.core.$ZodType }).innerType;
    }
    if (!schema || key === null) break;
    const def = schema._zod.def as unknown as { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType };
    schema = def.type === 'object' ? def.shape?.[key as string] : def.type === 'array' ? def.element : undefined;
  }
  const shape = (schema?._zod.def as unknown as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape) : [];
}

export function sortByPosition(lines: string[]): string[] {
  const key = (l: string) => {
    const m = /:(\d+):(\d+) /.exec(l);
    return m ? Number(m[1]) * 10000 + Number(m[2]) : 0;
  };
  return [...lines].sort((a, b) => key(a) - key(b));
}
