import { Duration, Validations, aws_cloudwatch as cw, aws_cloudwatch_actions as cwActions, aws_sns as sns, aws_sns_subscriptions as subs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { NodeConfig } from '../../lib/config/node-config';
import { describeSchedule } from '../../lib/config/schedule';
import { ALARMS, CW_METRICS, CW_NAMESPACE, ROOT_FSTYPE, metricDimensions, syncAgeAlarmSeconds } from '../../lib/host/aws/cloudwatch-agent';

export interface NodeAlarmsProps {
  readonly config: NodeConfig;
  readonly instanceId: string;
}

/**
 * Alarms for one node (N20, N21), mailed to the admin through an SNS topic: data volume
 * filling (two steps), root disk, each tree's sync age against its schedule, certificate days
 * left, and EC2's status checks. Names and dimensions come from lib/render/cloudwatch-agent.ts,
 * the same module that renders what the node sends.
 */
export class NodeAlarms extends Construct {
  public readonly topic: sns.Topic;
  public readonly alarms: cw.Alarm[] = [];
  private readonly hostname: string;

  constructor(scope: Construct, id: string, props: NodeAlarmsProps) {
    super(scope, id);
    const c = props.config;
    this.hostname = c.hostname;
    this.topic = new sns.Topic(this, 'Topic', { displayName: `mirrorfleet ${c.hostname}`, enforceSSL: true });
    this.topic.addSubscription(new subs.EmailSubscription(c.admin.email));
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason: 'Alarm notices carry only metric names and thresholds, nothing confidential; encrypting them would need a customer-managed KMS key ($1/month per node) because CloudWatch cannot publish to a topic under the AWS-managed SNS key.',
    });

    const metric = (metricName: string, dimensions: Record<string, string>, statistic: string, period: Duration) =>
      new cw.Metric({ namespace: CW_NAMESPACE, metricName, dimensionsMap: { InstanceId: props.instanceId, ...dimensions }, statistic, period });
    const disk = (path: string, fstype: string) => metric(CW_METRICS.diskUsedPercent, metricDimensions.disk(path, fstype), 'Maximum', Duration.minutes(5));
    const data = c.storage.mountPoint;

    this.add('DataDiskWarning', `data volume ${data} at least ${ALARMS.dataDiskWarningPercent}% full: plan to grow it (storage.sizeGiB)`, {
      metric: disk(data, c.storage.filesystem), threshold: ALARMS.dataDiskWarningPercent, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    this.add('DataDiskCritical', `data volume ${data} at least ${ALARMS.dataDiskCriticalPercent}% full: syncs stop soon (N15)`, {
      metric: disk(data, c.storage.filesystem), threshold: ALARMS.dataDiskCriticalPercent, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    this.add('RootDisk', `root file system at least ${ALARMS.rootDiskPercent}% full (logs?)`, {
      metric: disk('/', ROOT_FSTYPE), threshold: ALARMS.rootDiskPercent, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    for (const t of c.trees) {
      const limit = syncAgeAlarmSeconds(t);
      // No data means no successful sync yet, or a node that stopped reporting: both are stale.
      this.add(`SyncAge-${t.name}`, `tree ${t.name} last synced more than ${limit / 60} minutes ago (schedule: ${describeSchedule(t.schedule)})`, {
        metric: metric(CW_METRICS.syncAge, metricDimensions.tree(t), 'Maximum', Duration.minutes(5)), threshold: limit,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD, treatMissingData: cw.TreatMissingData.BREACHING,
      });
    }
    if (c.https.enabled) {
      this.add('CertificateExpiry', `TLS certificate for ${c.hostname} expires in less than ${ALARMS.certDaysLeft} days: renewal is failing (N19)`, {
        metric: metric(CW_METRICS.certDaysLeft, metricDimensions.cert(), 'Minimum', Duration.hours(1)), threshold: ALARMS.certDaysLeft,
        comparisonOperator: cw.ComparisonOperator.LESS_THAN_THRESHOLD,
      });
    }
    this.add('InstanceStatus', 'EC2 status checks failing', {
      metric: new cw.Metric({ namespace: 'AWS/EC2', metricName: 'StatusCheckFailed', dimensionsMap: { InstanceId: props.instanceId }, statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: 1, comparisonOperator: cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, evaluationPeriods: 3,
    });
  }

  private add(id: string, what: string, props: Omit<cw.AlarmProps, 'evaluationPeriods'> & { evaluationPeriods?: number }): void {
    const alarm = new cw.Alarm(this, id, {
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.MISSING,
      alarmDescription: `mirrorfleet ${this.hostname}: ${what}`,
      ...props,
    });
    alarm.addAlarmAction(new cwActions.SnsAction(this.topic));
    alarm.addOkAction(new cwActions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
