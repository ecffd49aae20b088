import { z } from 'zod';
import type { Problem } from '../config/problems';

/*
 * redirector.profile and redirector.scaled (R5): the same redirector block deploys either one
 * machine (`single`, the default) or the scaled profile on AWS's managed engines: an ALB, an ECS
 * service on Fargate, ElastiCache and EFS (docs/redirector-scaled.md). The `scaled` keys may stay
 * in project.yaml while the profile is `single`, so one switch moves the project both ways.
 */

export const REDIRECTOR_PROFILES = ['single', 'scaled'] as const;
export type RedirectorProfile = (typeof REDIRECTOR_PROFILES)[number];

const IMAGE_HELP = 'the infra team\'s mirrorbits image pinned by digest, such as registry.example.org/infra/mirrorbits@sha256:<64 hex digits> (a tag alone can change under you)';
const PATH_HELP = 'an absolute path inside the image, such as /usr/bin/mirrorbits';
/** Fargate's task sizes: CPU units and the memory each allows (MiB). */
export const FARGATE_SIZES: Readonly<Record<number, { min: number; max: number; step: number }>> = {
  256: { min: 512, max: 2048, step: 512 },
  512: { min: 1024, max: 4096, step: 1024 },
  1024: { min: 2048, max: 8192, step: 1024 },
  2048: { min: 4096, max: 16384, step: 1024 },
  4096: { min: 8192, max: 30720, step: 1024 },
};
const CPU_HELP = 'Fargate CPU units per task: 256, 512, 1024, 2048 or 4096';
const int = (allowed: string, min: number, max: number) => z.number({ error: allowed }).int({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed });
const absPath = z.string({ error: PATH_HELP }).regex(/^\/[A-Za-z0-9._\/-]+$/, { error: PATH_HELP });

export const scaledSchema = z.strictObject({
  /** The image the service's mirrorbits container runs; the tasks' image copies its binary. */
  image: z.string({ error: IMAGE_HELP }).regex(/^[a-z0-9][a-z0-9._\/:-]*@sha256:[0-9a-f]{64}$/, { error: IMAGE_HELP }).optional(),
  imageBinary: absPath.optional(),
  imageTemplates: absPath.optional(),
  architecture: z.enum(['x86_64', 'arm64'], { error: 'x86_64 or arm64: the image\'s architecture' }).optional(),
  minTasks: int('a whole number of tasks from 2 to 100: at least one per zone', 2, 100).optional(),
  maxTasks: int('a whole number of tasks from 2 to 100', 2, 100).optional(),
  taskCpu: z.number({ error: CPU_HELP }).refine((n) => n in FARGATE_SIZES, { error: CPU_HELP }).optional(),
  taskMemoryMiB: int('MiB of memory per task, as Fargate allows for taskCpu', 512, 30720).optional(),
  scaleAtCpuPercent: int('the average CPU percent the service keeps its tasks at, 10–90', 10, 90).optional(),
  scaleAtRequestsPerTask: int('requests per task and minute the service keeps its tasks at, 100–1000000', 100, 1_000_000).optional(),
  redisNodeType: z.string({ error: 'an ElastiCache node type such as cache.t4g.medium' }).regex(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, { error: 'an ElastiCache node type such as cache.t4g.medium' }).optional(),
  redisSnapshotDays: int('days of Redis snapshots kept, 1–35', 1, 35).optional(),
  /** Moving from one machine: both run until DNS points at the load balancer (docs/redirector-scaled.md#moving-from-one-machine). */
  keepSingleMachine: z.boolean({ error: 'true while moving from one machine (both run), then false' }).optional(),
});

export type ScaledInput = z.infer<typeof scaledSchema>;

export interface ScaledConfig {
  readonly image: string;
  readonly imageBinary: string;
  readonly imageTemplates: string;
  readonly architecture: 'x86_64' | 'arm64';
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly taskCpu: number;
  readonly taskMemoryMiB: number;
  readonly scaleAtCpuPercent: number;
  readonly scaleAtRequestsPerTask: number;
  readonly redisNodeType: string;
  readonly redisSnapshotDays: number;
  readonly keepSingleMachine: boolean;
}

/** The defaults: jenkins-infra/docker-mirrorbits' layout, two small tasks, a Valkey pair that holds a large index. */
export const SCALED_DEFAULTS = {
  imageBinary: '/usr/bin/mirrorbits',
  imageTemplates: '/usr/share/mirrorbits/templates',
  architecture: 'x86_64',
  minTasks: 2,
  maxTasks: 6,
  taskCpu: 512,
  taskMemoryMiB: 1024,
  scaleAtCpuPercent: 60,
  scaleAtRequestsPerTask: 20_000,
  redisNodeType: 'cache.t4g.medium',
  redisSnapshotDays: 7,
  keepSingleMachine: false,
} as const;

/** The scaled keys resolved, or the problems, each at its field under `redirector`. */
export function resolveScaled(profile: RedirectorProfile, s: ScaledInput | undefined): { config?: ScaledConfig; problems: Problem[] } {
  if (profile !== 'scaled') return { problems: [] };
  const at = (...p: string[]) => ['redirector', 'scaled', ...p];
  if (!s?.image) {
    return { problems: [{ path: s ? at('image') : ['redirector', 'scaled'], shown: 'missing', allowed: `required with profile: scaled: ${IMAGE_HELP}` }] };
  }
  const problems: Problem[] = [];
  const c: ScaledConfig = { ...SCALED_DEFAULTS, ...s, image: s.image } as ScaledConfig;
  if (c.maxTasks < c.minTasks) problems.push({ path: at('maxTasks'), allowed: `at least minTasks (${c.minTasks})` });
  const size = FARGATE_SIZES[c.taskCpu];
  if (c.taskMemoryMiB < size.min || c.taskMemoryMiB > size.max || (c.taskMemoryMiB - size.min) % size.step !== 0) {
    problems.push({ path: s.taskMemoryMiB === undefined ? at('taskCpu') : at('taskMemoryMiB'), allowed: `with taskCpu ${c.taskCpu}, Fargate allows ${size.min}–${size.max} MiB in steps of ${size.step}` });
  }
  return { config: problems.length === 0 ? c : undefined, problems };
}
