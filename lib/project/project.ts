import * as path from 'node:path';
import { z } from 'zod';
import { NodeConfig } from '../config/node-config';
import { Problem } from '../config/problems';
import { resolveConfig } from '../config/resolve';
import { cidrSchema, configSchema, treeSchema } from '../config/schema';
import { isPublicKey } from '../config/hcloud';
import { PRESETS, PRESET_IDS, Preset, PresetId } from '../presets';
import { MirrorList, loadMirrorList } from './mirrors';
import { RedirectorConfig, redirectorSchema, resolveRedirector } from './redirector';
import { parseYamlWith, readYamlText, throwIfProblems } from './yaml-file';

/*
 * project.yaml: what a project's infra team declares for its own side (M1, M2): which project it
 * is (a preset or custom), where its mirror list is, and its master, written with the same keys
 * as a mirror.yaml wherever the master has the same thing (host name, admin, storage, TLS, the
 * cloud blocks). The redirector's block comes with the redirector.
 */

const posInt = (allowed: string, min: number, max: number) => z.number({ error: allowed }).int({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed });

// A tree of the master: the node's tree keys that mean something at the origin (no upstream,
// no schedule), so a path is checked as on a node and an automatic volume can be sized.
const masterTreeSchema = treeSchema.pick({ name: true, path: true, sizeGiB: true, growthGiBPerYear: true });

const SSH_KEY_HELP = 'an OpenSSH public key line ("ssh-ed25519 AAAA... build@ci")';

/** The master: a mirror.yaml's host keys, its trees (no upstream: it is the origin), its content's way in. */
export const masterSchema = configSchema.omit({ preset: true, trees: true, reports: true, rsync: true }).extend({
  trees: z.array(masterTreeSchema, { error: 'a list of trees' }).min(1, { error: 'at least one tree' }).optional(),
  rsync: z.strictObject({
    maxConnections: posInt('a whole number of connections from 1 to 10000', 1, 10000).optional(),
    /** The tier-1 daemon's port, for pre-bitflip content (N11, M1). */
    tier1Port: posInt('a TCP port from 1 to 65535 other than 873', 1, 65535).refine((p) => p !== 873, { error: 'a TCP port other than 873 (the public daemon\'s)' }).optional(),
    tier1: z.boolean({ error: 'true or false' }).optional(),
  }).optional(),
  incoming: z.strictObject({
    keys: z.array(z.string({ error: SSH_KEY_HELP }).refine(isPublicKey, { error: SSH_KEY_HELP }), { error: 'a list of the build hosts\' public keys' })
      .min(1, { error: 'at least one build host key' }),
    from: z.array(cidrSchema('203.0.113.10 or 2001:db8::/64'), { error: 'the build hosts\' addresses (SSH is opened to these only)' })
      .min(1, { error: 'at least one build host address' }),
  }),
});

export const projectSchema = z.strictObject({
  preset: z.enum(PRESET_IDS as [string, ...string[]], { error: `one of ${PRESET_IDS.join(', ')}` }),
  mirrors: z.string({ error: 'the mirror list, a path relative to project.yaml such as mirrors.yaml' }).min(1, { error: 'a path such as mirrors.yaml' }),
  master: masterSchema,
  redirector: redirectorSchema.optional(),
});

export type ProjectInput = z.infer<typeof projectSchema>;

export interface ProjectConfig {
  readonly file: string;
  readonly preset: Preset;
  readonly mirrorList: MirrorList;
  readonly master: MasterConfig;
  /** The central redirector (R1), when the project runs one. */
  readonly redirector?: RedirectorConfig;
}

export interface MasterConfig {
  /** The master as the node renderers see it: host, trees, Apache, rsyncd, TLS, storage, clouds. */
  readonly node: NodeConfig;
  /** Serve pre-bitflip content on a second daemon to tier-1 mirrors (N11, M1). */
  readonly tier1: boolean;
  readonly tier1Port: number;
  readonly incoming: { readonly keys: readonly string[]; readonly from: readonly string[] };
}

/** The presets whose projects stage content before release (N17): their masters run the tier-1 daemon by default. */
const TIER1_BY_DEFAULT: readonly PresetId[] = ['fedora'];
export const DEFAULT_TIER1_PORT = 874;

/**
 * Rules of the cloud a project deploys to, run on the resolved project: the master's node-level
 * rules (checkAws, checkHcloud on `master`) and the cloud's limits for the lists the project makes.
 */
export type ProjectCheck = (p: ProjectConfig, input: ProjectInput) => Problem[];

/** Reads project.yaml and the mirror list it names; throws one error per file listing every problem. */
export function loadProjectFile(file: string, checks: readonly ProjectCheck[] = []): ProjectConfig {
  const f = parseYamlWith(readYamlText(file), file, projectSchema, 'a mapping with preset, mirrors and master');
  const input = f.data;
  const preset = PRESETS[input.preset as PresetId];
  const m = input.master;
  const trees: z.infer<typeof masterTreeSchema>[] = m.trees ?? preset.trees.map((t) => ({ name: t.name }));
  const problems: Problem[] = [];
  if (trees.length === 0) problems.push({ path: ['master', 'trees'], shown: 'missing', allowed: `required for preset "${preset.id}": the trees the master publishes` });

  // The master is the origin: its trees have no upstream; the node resolver gets its own URL as one.
  const { config: node, problems: nodeProblems } = resolveConfig({
    ...m,
    preset: input.preset,
    trees: trees.map((t) => ({ ...t, upstream: `rsync://${m.hostname}/${t.name}/` })),
    rsync: { enabled: true, maxConnections: m.rsync?.maxConnections },
  });
  problems.push(...nodeProblems.map((p) => ({ ...p, path: ['master', ...p.path] })));
  const redirector = input.redirector && resolveRedirector(input.redirector, preset, node);
  problems.push(...(redirector?.problems ?? []));
  throwIfProblems(f, problems);

  const mirrorsFile = path.join(path.dirname(file), input.mirrors);
  const project: ProjectConfig = {
    file,
    preset,
    mirrorList: loadMirrorList(mirrorsFile),
    master: {
      node,
      tier1: m.rsync?.tier1 ?? TIER1_BY_DEFAULT.includes(preset.id),
      tier1Port: m.rsync?.tier1Port ?? DEFAULT_TIER1_PORT,
      incoming: { keys: m.incoming.keys.map((k) => k.trim()), from: m.incoming.from },
    },
    redirector: redirector?.config,
  };
  throwIfProblems(f, checks.flatMap((check) => check(project, input)));
  return project;
}

/** A node-level check (checkAws, checkHcloud) run on the master, its problems at `master.…`. */
export const onMaster = (check: (c: NodeConfig, input: never) => Problem[]): ProjectCheck =>
  (p, input) => check(p.master.node, input.master as never).map((q) => ({ ...q, path: ['master', ...q.path] }));

/** A node-level check run on the redirector, when there is one, its problems at `redirector.…`. */
export const onRedirector = (check: (c: NodeConfig, input: never) => Problem[]): ProjectCheck =>
  (p, input) => (p.redirector && input.redirector ? check(p.redirector.node, input.redirector as never).map((q) => ({ ...q, path: ['redirector', ...q.path] })) : []);
