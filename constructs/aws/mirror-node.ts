import { Duration, aws_cloudwatch as cw, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AwsNodeSpec, awsAdminIngress, awsNodeSpec } from '../../lib/config/aws';
import { NodeConfig } from '../../lib/config/node-config';
import { describeSchedule, scheduleIntervalMinutes } from '../../lib/config/schedule';
import { metricDimensions } from '../../lib/host/aws/cloudwatch-agent';
import { CW_METRICS, syncAgeAlarmSeconds } from '../../lib/host/metrics';
import { mirrorNodeHost } from '../../lib/roles/mirror-node/role';
import { AwsHost } from './aws-host';

export interface MirrorNodeProps {
  /** The node's validated config (`loadConfigFile(file, [checkAws])`). */
  readonly config: NodeConfig;
  /** @default - a new dual-stack VPC (see AwsHostProps.vpc) */
  readonly vpc?: ec2.IVpc;
  /** @default false */
  readonly vpcHasIpv6?: boolean;
}

/**
 * One mirror node on EC2 (P1): the mirror node role (lib/roles/mirror-node) on an AWS host sized
 * from the config (N23), plus an alarm per tree when its last good sync is older than two
 * intervals and an hour (N21). The node sends the sync age from the first good sync on: before
 * it, no data is no alarm (XCP-ng's upstream opens rsync only once the application is accepted),
 * and a node that stops sending after it mails "insufficient data".
 */
export class MirrorNode extends AwsHost {
  public readonly spec: AwsNodeSpec;

  constructor(scope: Construct, id: string, props: MirrorNodeProps) {
    const c = props.config;
    // Everything is checked before the first resource exists.
    const spec = awsNodeSpec(c);
    super(scope, id, {
      host: mirrorNodeHost(c),
      sizing: spec,
      adminIngress: awsAdminIngress(c.aws),
      alarmEmail: c.admin.email,
      hostedZone: c.aws.hostedZone,
      vpc: props.vpc,
      vpcHasIpv6: props.vpcHasIpv6,
      firewallDescription: `mirrorfleet ${c.hostname}: public mirror ports, tier-1 rsync ACL, admin SSH`,
    });
    this.spec = spec;
    for (const t of c.trees) {
      const limit = syncAgeAlarmSeconds(scheduleIntervalMinutes(t.schedule));
      // No data: no good sync yet (nothing to be stale), or a node that stopped reporting after
      // one (the move to INSUFFICIENT_DATA is mailed).
      this.alarms.add(`SyncAge-${t.name}`, `tree ${t.name} last synced more than ${limit / 60} minutes ago (schedule: ${describeSchedule(t.schedule)}); no data: no good sync yet, or the node stopped reporting`, {
        metric: this.alarms.metric(CW_METRICS.syncAge, metricDimensions.tree(t), 'Maximum', Duration.minutes(5)), threshold: limit,
        comparisonOperator: cw.ComparisonOperator.GREATER_THAN_THRESHOLD, treatMissingData: cw.TreatMissingData.MISSING, mailWhenDataStops: true,
      });
    }
  }
}
