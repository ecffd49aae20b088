import { Duration, Validations, aws_cloudwatch as cw, aws_cloudwatch_actions as cwActions, aws_sns as sns, aws_sns_subscriptions as subs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CW_NAMESPACE, ROOT_FSTYPE, metricDimensions } from '../../lib/host/aws/cloudwatch-agent';
import { HostSpec } from '../../lib/host/host';
import { CW_METRICS, THRESHOLDS } from '../../lib/host/metrics';

export interface HostAlarmsProps {
  readonly host: HostSpec;
  readonly instanceId: string;
  /** Who gets the alarm mails (the SNS subscription must be confirmed). */
  readonly email: string;
}

/**
 * Alarms for one host (N20, N21), mailed through an SNS topic: data volume filling (two steps),
 * root disk, certificate days left, EC2's status checks. A role adds its own with `add` (a mirror
 * node: each tree's sync age). Names and thresholds come from lib/host/metrics.ts, the table the
 * node's scripts and the Prometheus rules are held against too.
 */
export class HostAlarms extends Construct {
  public readonly topic: sns.Topic;
  public readonly alarms: cw.Alarm[] = [];
  private readonly hostname: string;
  private readonly instanceId: string;

  constructor(scope: Construct, id: string, props: HostAlarmsProps) {
    super(scope, id);
    const h = props.host;
    this.hostname = h.hostname;
    this.instanceId = props.instanceId;
    this.topic = new sns.Topic(this, 'Topic', { displayName: `mirrorfleet ${h.hostname}`, enforceSSL: true });
    this.topic.addSubscription(new subs.EmailSubscription(props.email));
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason: 'Alarm notices carry only metric names and thresholds, nothing confidential; encrypting them would need a customer-managed KMS key ($1/month per host) because CloudWatch cannot publish to a topic under the AWS-managed SNS key.',
    });

    const disk = (path: string, fstype: string) => this.metric(CW_METRICS.diskUsedPercent, metricDimensions.disk(path, fstype), 'Maximum', Duration.minutes(5));
    const v = h.dataVolume;
    const atLeast = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    this.add('DataDiskWarning', `data volume ${v.mountPoint} at least ${THRESHOLDS.dataDiskWarningPercent}% full: plan to grow it (storage.sizeGiB)`, {
      metric: disk(v.mountPoint, v.filesystem), threshold: THRESHOLDS.dataDiskWarningPercent, comparisonOperator: atLeast,
    });
    this.add('DataDiskCritical', `data volume ${v.mountPoint} at least ${THRESHOLDS.dataDiskCriticalPercent}% full: syncs stop soon (N15)`, {
      metric: disk(v.mountPoint, v.filesystem), threshold: THRESHOLDS.dataDiskCriticalPercent, comparisonOperator: atLeast,
    });
    this.add('RootDisk', `root file system at least ${THRESHOLDS.rootDiskPercent}% full (logs?)`, {
      metric: disk('/', ROOT_FSTYPE), threshold: THRESHOLDS.rootDiskPercent, comparisonOperator: atLeast,
    });
    if (h.certificate) {
      this.add('CertificateExpiry', `TLS certificate for ${h.hostname} expires in less than ${THRESHOLDS.certDaysLeft} days: renewal is failing (N19)`, {
        metric: this.metric(CW_METRICS.certDaysLeft, metricDimensions.cert(), 'Minimum', Duration.hours(1)), threshold: THRESHOLDS.certDaysLeft,
        comparisonOperator: cw.ComparisonOperator.LESS_THAN_THRESHOLD,
      });
    }
    this.add('InstanceStatus', 'EC2 status checks failing', {
      metric: new cw.Metric({ namespace: 'AWS/EC2', metricName: 'StatusCheckFailed', dimensionsMap: { InstanceId: props.instanceId }, statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: 1, comparisonOperator: atLeast, evaluationPeriods: 3,
    });
  }

  /** A metric the host's CloudWatch agent sends, with the host's InstanceId. */
  public metric(metricName: string, dimensions: Record<string, string>, statistic: string, period: Duration): cw.Metric {
    return new cw.Metric({ namespace: CW_NAMESPACE, metricName, dimensionsMap: { InstanceId: this.instanceId, ...dimensions }, statistic, period });
  }

  /**
   * An alarm mailed to the topic on alarm and on OK; with `mailWhenDataStops`, also when its
   * metric stops after it had data (a move to INSUFFICIENT_DATA: actions run on state changes
   * only, so a metric that never had data mails nothing).
   */
  public add(id: string, what: string, props: Omit<cw.AlarmProps, 'evaluationPeriods'> & { evaluationPeriods?: number; mailWhenDataStops?: boolean }): cw.Alarm {
    const { mailWhenDataStops, ...alarmProps } = props;
    const alarm = new cw.Alarm(this, id, {
      evaluationPeriods: 1,
      treatMissingData: cw.TreatMissingData.MISSING,
      alarmDescription: `mirrorfleet ${this.hostname}: ${what}`,
      ...alarmProps,
    });
    alarm.addAlarmAction(new cwActions.SnsAction(this.topic));
    alarm.addOkAction(new cwActions.SnsAction(this.topic));
    if (mailWhenDataStops) alarm.addInsufficientDataAction(new cwActions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}
