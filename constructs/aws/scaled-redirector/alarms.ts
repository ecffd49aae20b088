import { Duration, Validations, aws_certificatemanager as acm, aws_cloudwatch as cw, aws_cloudwatch_actions as cwActions, aws_elasticloadbalancingv2 as elbv2, aws_logs as logs, aws_sns as sns, aws_sns_subscriptions as subs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { THRESHOLDS } from '../../../lib/host/metrics';
import { ACCESS_METRICS, TASK_METRICS, TaskMetric, scaledNamespace, taskLinePattern, taskValue } from '../../../lib/roles/redirector/scaled/metrics';
import type { Step } from '../../../lib/roles/redirector/scaled/tasks';

export interface ScaledAlarmsProps {
  readonly hostname: string;
  readonly email: string;
  readonly masterUrl: string;
  readonly minTasks: number;
  readonly accessLogs: logs.ILogGroup;
  readonly taskLogs: Readonly<Record<Step, logs.ILogGroup>>;
  readonly redisNodeIds: readonly string[];
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly certificate: acm.ICertificate;
}

/**
 * The single machine's redirector alarms (constructs/aws/redirector.ts), from the managed
 * engines' metrics and the tasks' logs (R6, docs/adr/0068): mirrors down, Redis memory, GeoIP
 * age, a failed reconcile, the fallback rate; and in place of the host's: the certificate's days
 * left (ACM) and healthy tasks behind the load balancer. Mailed through one SNS topic.
 */
export class ScaledAlarms extends Construct {
  public readonly topic: sns.Topic;
  public readonly alarms: cw.Alarm[] = [];

  constructor(scope: Construct, id: string, private readonly props: ScaledAlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { displayName: `mirrorfleet ${props.hostname}`, enforceSSL: true });
    this.topic.addSubscription(new subs.EmailSubscription(props.email));
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason: 'Alarm notices carry only metric names and thresholds, nothing confidential; encrypting them would need a customer-managed KMS key ($1/month) because CloudWatch cannot publish to a topic under the AWS-managed SNS key.',
    });
    const above = cw.ComparisonOperator.GREATER_THAN_THRESHOLD;
    const below = cw.ComparisonOperator.LESS_THAN_THRESHOLD;

    const mirrorsDown = this.fromTask(TASK_METRICS.mirrorsDown, 'Minimum', Duration.minutes(THRESHOLDS.mirrorsDownMinutes));
    this.add('MirrorsDown', `at least one mirror down for ${THRESHOLDS.mirrorsDownMinutes} minutes (mirrorbits' health checks, R6)`, { metric: mirrorsDown, threshold: 0, comparisonOperator: above });

    const redis = new cw.MathExpression({
      expression: `MAX([${props.redisNodeIds.map((_, i) => `n${i}`).join(', ')}])`,
      usingMetrics: Object.fromEntries(props.redisNodeIds.map((n, i) => [`n${i}`, new cw.Metric({ namespace: 'AWS/ElastiCache', metricName: 'DatabaseMemoryUsagePercentage', dimensionsMap: { CacheClusterId: n }, statistic: 'Maximum', period: Duration.minutes(5) })])),
      period: Duration.minutes(5),
      label: 'Redis memory used, % of its limit (the fuller node)',
    });
    this.add('RedisMemory', `Redis above ${THRESHOLDS.redisMemoryPercent}% of its memory: mirrorbits' writes will be refused (noeviction)`, { metric: redis, threshold: THRESHOLDS.redisMemoryPercent, comparisonOperator: above });

    // Reported by every sync: no report at all is as bad as old databases.
    this.add('GeoipStale', `GeoIP databases older than ${THRESHOLDS.geoipAgeDays} days, or no sync reporting their age (R4)`, {
      metric: this.fromTask(TASK_METRICS.geoipAgeDays, 'Maximum', Duration.hours(1)), threshold: THRESHOLDS.geoipAgeDays, comparisonOperator: above, treatMissingData: cw.TreatMissingData.BREACHING,
    });
    // Hourly runs: a period of two hours holds the last result.
    this.add('ReconcileFailed', 'the last reconcile of the mirror list failed (R3)', {
      metric: this.fromTask(TASK_METRICS.reconcileSuccess, 'Minimum', Duration.hours(2)), threshold: 1, comparisonOperator: below, treatMissingData: cw.TreatMissingData.NOT_BREACHING,
    });

    const requests = this.fromAccessLog('Requests', ACCESS_METRICS.requests);
    const fallbacks = this.fromAccessLog('Fallbacks', ACCESS_METRICS.fallbacks(props.masterUrl));
    const rate = new cw.MathExpression({
      expression: 'IF(r > 0, 100 * f / r, 0)',
      usingMetrics: { r: requests, f: fallbacks },
      period: Duration.minutes(5),
      label: 'share of redirects sent to the master (%)',
    });
    this.add('FallbackRate', `more than ${THRESHOLDS.fallbackPercent}% of requests sent to the master: mirrors are missing or out of date (R6)`, { metric: rate, threshold: THRESHOLDS.fallbackPercent, comparisonOperator: above, evaluationPeriods: 3 });

    this.add('CertificateExpiry', `TLS certificate for ${props.hostname} expires in less than ${THRESHOLDS.certDaysLeft} days: ACM's renewal is failing (its DNS validation record?)`, {
      metric: props.certificate.metricDaysToExpiry({ period: Duration.days(1) }), threshold: THRESHOLDS.certDaysLeft, comparisonOperator: below,
    });
    this.add('HealthyTasks', `fewer than ${props.minTasks} healthy tasks behind the load balancer for 10 minutes`, {
      metric: props.targetGroup.metrics.healthyHostCount({ statistic: 'Minimum', period: Duration.minutes(5) }), threshold: props.minTasks, comparisonOperator: below, evaluationPeriods: 2, treatMissingData: cw.TreatMissingData.BREACHING,
    });
  }

  /** A value of a task's JSON line as a metric (a filter on that task's log group). */
  private fromTask(m: TaskMetric, statistic: string, period: Duration): cw.Metric {
    const filter = new logs.MetricFilter(this, `${m.metricName}Filter`, {
      logGroup: this.props.taskLogs[m.step],
      filterPattern: logs.FilterPattern.literal(taskLinePattern(m.step)),
      metricNamespace: scaledNamespace(this.props.hostname),
      metricName: m.metricName,
      metricValue: taskValue(m),
    });
    return filter.metric({ statistic, period });
  }

  /** A count of nginx's access-log lines as a metric: 0 in a minute with none. */
  private fromAccessLog(id: string, m: { metricName: string; pattern: string }): cw.Metric {
    const filter = new logs.MetricFilter(this, `${id}Filter`, {
      logGroup: this.props.accessLogs,
      filterPattern: logs.FilterPattern.literal(m.pattern),
      metricNamespace: scaledNamespace(this.props.hostname),
      metricName: m.metricName,
      metricValue: '1',
      defaultValue: 0,
    });
    return filter.metric({ statistic: 'Sum', period: Duration.minutes(5) });
  }

  /** An alarm mailed to the topic on alarm and on OK. */
  public add(id: string, what: string, props: Omit<cw.AlarmProps, 'evaluationPeriods'> & { evaluationPeriods?: number }): cw.Alarm {
    const alarm = new cw.Alarm(this, id, { evaluationPeriods: 1, treatMissingData: cw.TreatMissingData.MISSING, alarmDescription: `mirrorfleet ${this.props.hostname}: ${what}`, ...props });
    alarm.addAlarmAction(new cwActions.SnsAction(this.topic));
    alarm.addOkAction(new cwActions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}
