/*
 * One table of the metrics hosts write and of when they mean trouble (N20, N21). The node's
 * scripts write these names as node_exporter textfiles; on AWS mirrorfleet-aws turns some of them
 * into StatsD gauges for CloudWatch (docs/adr/0009) and the CDK alarms watch those; on Hetzner the
 * Prometheus rules in assets/prometheus/ watch the textfiles. test/host/metrics.test.ts holds the
 * scripts, the alarms and the rules against this table, so they cannot drift apart.
 */

/** Textfile metrics, by the script (or renderer) that writes them. */
export const TEXTFILE_METRICS = {
  /** assets/mirror-sync, one series per tree. */
  sync: [
    'mirrorfleet_sync_last_attempt_timestamp_seconds',
    'mirrorfleet_sync_last_success_timestamp_seconds',
    'mirrorfleet_sync_duration_seconds',
    'mirrorfleet_sync_bytes_received',
    'mirrorfleet_sync_files_transferred',
    'mirrorfleet_sync_files_deleted',
    'mirrorfleet_sync_success',
    'mirrorfleet_sync_outcome',
    // The full verification run (mirror-sync --full, docs/sync-guarantees.md case 10).
    'mirrorfleet_sync_verify_last_success_timestamp_seconds',
    'mirrorfleet_sync_verify_success',
    'mirrorfleet_sync_verify_missed_paths',
  ],
  /** assets/mirror-post-sync. */
  hooks: ['mirrorfleet_sync_hook_failures', 'mirrorfleet_sync_hook_timeouts'],
  /** assets/mirrorfleet-cert-deploy. */
  certificate: ['mirrorfleet_cert_not_after_timestamp_seconds'],
  /** A role's static metrics (HostRole.staticMetrics): what the alert rules compare against. */
  static: ['mirrorfleet_sync_interval_seconds', 'mirrorfleet_data_volume_info'],
  /** assets/mirrorfleet-publish, on a master, one series per tree. */
  publish: [
    'mirrorfleet_publish_last_attempt_timestamp_seconds',
    'mirrorfleet_publish_last_success_timestamp_seconds',
    'mirrorfleet_publish_success',
    'mirrorfleet_publish_files',
  ],
  /** assets/mirrorfleet-acl, on a master. */
  acl: ['mirrorfleet_acl_entries', 'mirrorfleet_acl_applied_timestamp_seconds', 'mirrorfleet_acl_poll_success'],
  /** assets/mirrorfleet-redirector-metrics, on a redirector (R6). */
  redirector: [
    'mirrorfleet_redirector_requests_total',
    'mirrorfleet_redirector_redirects_total',
    'mirrorfleet_redirector_fallbacks_total',
    'mirrorfleet_redirector_mirrors',
    'mirrorfleet_redirector_redis_used_memory_bytes',
    'mirrorfleet_redirector_redis_maxmemory_bytes',
    'mirrorfleet_redirector_reconcile_success',
  ],
  /** assets/mirrorfleet-geoip, on a redirector (R4). */
  geoip: ['mirrorfleet_geoip_updated_timestamp_seconds'],
} as const;

export type MetricName = (typeof TEXTFILE_METRICS)[keyof typeof TEXTFILE_METRICS][number];
export const ALL_TEXTFILE_METRICS: readonly MetricName[] = Object.values(TEXTFILE_METRICS).flat();

/** What CloudWatch sees: the agent's own disk and memory metrics, and gauges mirrorfleet-aws derives from the textfiles. */
export const CW_METRICS = {
  diskUsedPercent: 'disk_used_percent',
  memUsedPercent: 'mem_used_percent',
  /** Seconds since the tree's last successful sync (absent until the first one). */
  syncAge: 'mirrorfleet_sync_age_seconds',
  syncSuccess: 'mirrorfleet_sync_success',
  hookFailures: 'mirrorfleet_sync_hook_failures',
  certDaysLeft: 'mirrorfleet_cert_days_left',
  /** A master's last publish of a tree: 1 when it worked. */
  publishSuccess: 'mirrorfleet_publish_success',
  /** A redirector's mirrors that mirrorbits sees down, its Redis memory against the limit, its GeoIP age. */
  mirrorsDown: 'mirrorfleet_redirector_mirrors_down',
  redisMemoryPercent: 'mirrorfleet_redirector_redis_memory_percent',
  geoipAgeDays: 'mirrorfleet_geoip_age_days',
  requestsTotal: 'mirrorfleet_redirector_requests_total',
  fallbacksTotal: 'mirrorfleet_redirector_fallbacks_total',
  reconcileSuccess: 'mirrorfleet_redirector_reconcile_success',
} as const;

/** Alarm thresholds, the same on both clouds (N20, N21). */
export const THRESHOLDS = {
  /** Two steps on the data volume: time to plan, then act before a sync fails (N15 stops it). */
  dataDiskWarningPercent: 80,
  dataDiskCriticalPercent: 90,
  rootDiskPercent: 90,
  /** certbot renews at 30 days left: 21 means a week of failed renewals; 7 is the last call. */
  certDaysLeft: 21,
  certDaysCritical: 7,
  /** A tree is stale after this many missed intervals plus an hour for the run itself. */
  syncAgeIntervals: 2,
  syncAgeGraceMinutes: 60,
  /** A redirector: mirrors down for 15 minutes, Redis at 80 % of its limit, GeoIP older than 14 days, 10 % of redirects to the fallback. */
  mirrorsDownMinutes: 15,
  redisMemoryPercent: 80,
  geoipAgeDays: 14,
  fallbackPercent: 10,
} as const;

/** A tree is stale after two missed runs plus an hour: 2 intervals + 60 min, in seconds. */
export const syncAgeAlarmSeconds = (intervalMinutes: number) => (THRESHOLDS.syncAgeIntervals * intervalMinutes + THRESHOLDS.syncAgeGraceMinutes) * 60;

/** The data volume's mount point as a textfile metric: the disk alert rules find the volume by it. */
export function renderDataVolumeInfo(mountPoint: string): string {
  return [
    '# HELP mirrorfleet_data_volume_info The mount point of the data volume that holds the trees.',
    '# TYPE mirrorfleet_data_volume_info gauge',
    `mirrorfleet_data_volume_info{mountpoint="${mountPoint}"} 1`,
    '',
  ].join('\n');
}
