import { CW_METRICS } from '../../../host/metrics';
import type { Step } from './tasks';

/*
 * Where the scaled redirector's alarms read the single machine's signals (R6, docs/adr/0068):
 * mirrorbits' and the GeoIP refresh's gauges from the JSON line each task ends with
 * (assets/mirrorfleet-task), the reconcile result from the reconcile task's line, requests and
 * fallbacks from nginx's access log (the single machine counts the same log). Names of gauges are
 * the single machine's (lib/host/metrics.ts); thresholds are THRESHOLDS there.
 */

/** One namespace per redirector: metric filters cannot add a dimension of their own. */
export const scaledNamespace = (hostname: string) => `MirrorFleet/${hostname}`;

export interface TaskMetric {
  /** The task whose JSON line carries the value. */
  readonly step: Step;
  /** The key in that line. */
  readonly field: string;
  readonly metricName: string;
}

export const TASK_METRICS = {
  mirrorsDown: { step: 'sync', field: CW_METRICS.mirrorsDown, metricName: CW_METRICS.mirrorsDown },
  geoipAgeDays: { step: 'sync', field: CW_METRICS.geoipAgeDays, metricName: CW_METRICS.geoipAgeDays },
  reconcileSuccess: { step: 'reconcile', field: 'success', metricName: CW_METRICS.reconcileSuccess },
} as const satisfies Record<string, TaskMetric>;

/** A JSON filter pattern for a task's line, and the selector of its value. */
export const taskLinePattern = (step: Step) => `{ $.mirrorfleet_task = "${step}" }`;
export const taskValue = (m: TaskMetric) => `$.${m.field}`;

/**
 * nginx's access log (log_format mirrorfleet in lib/roles/redirector/nginx.ts): eight fields, the
 * bracketed time and the quoted request, Location and user agent each one field. The load
 * balancer's own health checks are not requests.
 */
const FIELDS = ['client', 'time', 'request', 'status', 'bytes', 'location', 'agent', 'duration'] as const;
const accessPattern = (conditions: Partial<Record<(typeof FIELDS)[number], string>>) =>
  `[${FIELDS.map((f) => (conditions[f] ? `${f} ${conditions[f]}` : f)).join(', ')}]`;
const NOT_HEALTH_CHECK = '!= "ELB-HealthChecker*"';

export const ACCESS_METRICS = {
  requests: { metricName: 'mirrorfleet_redirector_requests', pattern: accessPattern({ agent: NOT_HEALTH_CHECK }) },
  /** Redirects to the master: mirrorbits' fallback when no mirror fits (R6). */
  fallbacks: (masterUrl: string) => ({ metricName: 'mirrorfleet_redirector_fallbacks', pattern: accessPattern({ status: '= 302', location: `= "${masterUrl}*"`, agent: NOT_HEALTH_CHECK }) }),
} as const;

export const ACCESS_LOG_FIELDS = FIELDS;
