import type { Schedule } from '../../../presets/types';
import type { ProjectConfig } from '../../../project/project';
import { treeConfPath } from '../../../render/layout';
import type { RedirectorLayout } from '../layout';
import { ScaledFiles, redirectorEnvPath } from './files';
import { TASKS_MIRRORBITS_BIN } from './image';
import { SCALED_LAYOUT } from './layout';

/*
 * The scaled redirector's scheduled tasks (R2–R5), as data the construct wires: which step of
 * mirrorfleet-task each runs, when, with which environment, on which EFS trees, and whether it
 * reaches Redis. The single machine runs the same scripts from systemd timers (lib/roles/redirector/files.ts).
 */

export type Step = 'sync' | 'geoip' | 'reconcile';
export type Access = 'read' | 'write';

export interface SchedulerExpression {
  /** An EventBridge Scheduler expression: rate(...) or cron(...). */
  readonly expression: string;
  /** The time zone a cron expression is read in. */
  readonly timezone?: string;
}

export interface ScaledTask {
  readonly step: Step;
  readonly description: string;
  readonly schedule: SchedulerExpression;
  /** Also run when a deploy of the stack completes: every one, or the first only. */
  readonly afterDeploy?: 'every' | 'first';
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly efs: { readonly repository?: Access; readonly syncState?: Access; readonly geoip?: Access };
  /** Needs ElastiCache: its own mirrorbits daemon talks to Redis. */
  readonly redis: boolean;
  /** The container's environment known at synth; the construct adds what only the deploy knows. */
  readonly environment: Readonly<Record<string, string>>;
}

/** A cadence in words (lib/config/schedule.ts) as EventBridge Scheduler reads it. */
export function schedulerExpression(s: Schedule, timezone: string): SchedulerExpression {
  if ('everyMinutes' in s) return { expression: s.everyMinutes === 1 ? 'rate(1 minute)' : `rate(${s.everyMinutes} minutes)` };
  const [h, m] = s.from.split(':').map(Number);
  const hours = s.everyHours === 24 ? String(h) : `${h % s.everyHours}/${s.everyHours}`;
  return { expression: `cron(${m} ${hours} * * ? *)`, timezone };
}

/** GeoLite2 is published on Tuesdays and Fridays: fetch it weekly on Wednesdays, as the single machine does weekly. */
export const GEOIP_SCHEDULE: SchedulerExpression = { expression: 'cron(17 3 ? * WED *)', timezone: 'UTC' };
/** The mirror list reconciled every hour, in case mirrorbits was changed by hand (R3). */
export const RECONCILE_SCHEDULE: SchedulerExpression = { expression: 'rate(1 hour)' };

/** The environment every step of mirrorfleet-task reads, and the files it writes first. */
function stepEnvironment(files: Record<string, string>, rl: RedirectorLayout): Record<string, string> {
  return {
    MIRRORFLEET_FILES: JSON.stringify(files),
    METRICS_DIR: rl.host.metricsDir,
    MIRRORBITS_BIN: TASKS_MIRRORBITS_BIN,
    MIRRORBITS_CONF: rl.mirrorbitsConf,
    MIRRORBITS_RPC: rl.mirrorbitsRpc,
  };
}

export function scaledTasks(p: ProjectConfig, files: ScaledFiles, rl: RedirectorLayout = SCALED_LAYOUT): ScaledTask[] {
  const r = p.redirector!;
  const tree = r.node.trees[0];
  return [
    {
      step: 'sync',
      description: `the local copy of ${tree.name} from the master, then mirrorbits indexes it when it changed (R2)`,
      schedule: schedulerExpression(tree.schedule, r.node.timezone),
      cpu: 512,
      memoryMiB: 1024,
      efs: { repository: 'write', syncState: 'write', geoip: 'read' },
      redis: true,
      environment: { ...stepEnvironment(files.sync, rl), REDIRECTOR_ENV: redirectorEnvPath(rl), TREE_CONF: treeConfPath(rl.host, tree.name) },
    },
    {
      step: 'geoip',
      description: 'GeoLite2 City and ASN from MaxMind, then the service\'s tasks replaced to load them (R4)',
      schedule: GEOIP_SCHEDULE,
      afterDeploy: 'first',
      cpu: 256,
      memoryMiB: 512,
      efs: { geoip: 'write' },
      redis: false,
      environment: { ...stepEnvironment(files.geoip, rl), REDIRECTOR_ENV: redirectorEnvPath(rl) },
    },
    {
      step: 'reconcile',
      description: 'the mirror list of the last deploy into mirrorbits (R3)',
      schedule: RECONCILE_SCHEDULE,
      afterDeploy: 'every',
      cpu: 512,
      memoryMiB: 1024,
      efs: { repository: 'read', geoip: 'read' },
      redis: true,
      environment: stepEnvironment(files.reconcile, rl),
    },
  ];
}
