import { z } from 'zod';
import { checkIngress } from '../host/ingress';
import { mirrorNodeIngress } from '../roles/mirror-node/ingress';
import { NodeConfig } from './node-config';
import { parsePartially } from './partial-parse';
import { checkPaths } from './paths';
import { checkPrerequisites } from './prerequisites';
import { MirrorConfigError, Problem, SourceMap, didYouMean, formatPath, formatProblem } from './problems';
import { readConfigText } from './read-file';
import { resolveConfig } from './resolve';
import { checkTls } from './tls';
import { MirrorConfigInput, configSchema } from './schema';
import { readYaml } from './yaml-source';

/** Provider rules (lib/config/aws.ts) a deploy adds to the loader's, reported in the same format. */
export type ConfigCheck = (config: NodeConfig, input: MirrorConfigInput) => Problem[];

/** Reads, validates and resolves a mirror.yaml. Throws one MirrorConfigError listing every problem. */
export function loadConfigFile(file: string, checks: readonly ConfigCheck[] | ((text: string) => readonly ConfigCheck[]) = []): NodeConfig {
  const read = readConfigText(file);
  if (!read.ok) throw new MirrorConfigError(file, [`${file}: cannot read: ${read.reason}`]);
  return parseConfig(read.text, file, typeof checks === 'function' ? checks(read.text) : checks);
}

export function parseConfig(text: string, file = 'mirror.yaml', checks: readonly ConfigCheck[] = []): NodeConfig {
  const yaml = readYaml(text, file);
  if (!yaml.ok) throw new MirrorConfigError(file, yaml.lines);
  const { doc, lineCounter, raw } = yaml.source;
  const map = new SourceMap(doc, lineCounter);

  // The schema first; what it refuses is left out so the rules after it still run (partial-parse.ts).
  const parsed = parsePartially(raw);
  const problems: Problem[] = schemaProblems(parsed.issues, raw);
  if (parsed.input) {
    const later: Problem[] = [];
    const { config, problems: resolveProblems } = resolveConfig(parsed.input);
    later.push(...resolveProblems, ...checkPrerequisites(parsed.input, config), ...checkPaths(parsed.input, config), ...checkTls(parsed.input, config));
    // On every cloud alike: a port for listed hosts is never open to everyone.
    later.push(...checkIngress(mirrorNodeIngress(config)));
    for (const check of checks) later.push(...check(config, parsed.input));
    for (const p of later) {
      const path = parsed.written(p.path);
      if (path && (p.atKey === undefined || parsed.written([...p.path, p.atKey]))) problems.push({ ...p, path });
    }
    if (problems.length === 0) return config;
  }
  throw new MirrorConfigError(file, sortByPosition(unique(problems.map((p) => formatProblem(file, map, p)))));
}

/** The schema's issues as problems; a missing key that an unknown key's did-you-mean names is said once, by the unknown key. */
export function schemaProblems(issues: readonly z.core.$ZodIssue[], raw: unknown, root: z.core.$ZodType = configSchema): Problem[] {
  const problems = issues.flatMap((issue) => issueToProblems(issue, valueAt(raw, issue.path as (string | number)[]), root));
  const guessed = new Set(problems.filter((p) => p.guess !== undefined).map((p) => formatPath([...p.path, p.guess!])));
  return problems.filter((p) => !(p.shown === 'missing' && guessed.has(formatPath(p.path))));
}

/** One schema issue as loader problems; `root` is the schema the path starts from (mirror.yaml's by default). */
export function issueToProblems(issue: z.core.$ZodIssue, input: unknown, root: z.core.$ZodType = configSchema): (Problem & { guess?: string })[] {
  const path = issue.path as (string | number)[];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(path, root);
      return issue.keys.map((key) => {
        const guess = didYouMean(key, known);
        return {
          path,
          atKey: key,
          guess,
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

const unique = (lines: string[]) => [...new Set(lines)];

export function sortByPosition(lines: string[]): string[] {
  const key = (l: string) => {
    const m = /:(\d+):(\d+) /.exec(l);
    return m ? Number(m[1]) * 10000 + Number(m[2]) : 0;
  };
  return [...lines].sort((a, b) => key(a) - key(b));
}
