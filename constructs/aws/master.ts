import { Duration, aws_cloudwatch as cw, aws_ec2 as ec2, aws_ssm as ssm } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AwsNodeSpec, awsAdminIngress, awsNodeSpec } from '../../lib/config/aws';
import { metricDimensions } from '../../lib/host/aws/cloudwatch-agent';
import { CW_METRICS } from '../../lib/host/metrics';
import { stackName } from '../../lib/host/names';
import type { ProjectConfig } from '../../lib/project/project';
import { masterAcl, renderAclFile } from '../../lib/roles/master/acl';
import { masterHost } from '../../lib/roles/master/role';
import { IngressRule } from '../../lib/host/ingress';
import { AwsHost } from './aws-host';

export interface MasterProps {
  /** The project (`loadProjectFile(file, [onMaster(checkAws), checkMasterFirewallAws])`). */
  readonly project: ProjectConfig;
  /** More sources for the public rsync module, such as the redirector's addresses (R2). */
  readonly extraRsyncSources?: readonly string[];
  /** @default - a new dual-stack VPC (see AwsHostProps.vpc) */
  readonly vpc?: ec2.IVpc;
  /** @default false */
  readonly vpcHasIpv6?: boolean;
}

/** SSM standard parameters hold 4 KB; advanced ones 8 KB (and cost $0.05 a month). */
const SSM_STANDARD_BYTES = 4096;

/**
 * The project's master on EC2 (M1, M2): the master role on an AWS host, its rsync ACL also in an
 * SSM parameter that the host polls every minute (ADR 0026), so a deploy that changes
 * mirrors.yaml changes who may sync in place, and an alarm per tree when a publish fails.
 */
export class Master extends AwsHost {
  public readonly spec: AwsNodeSpec;
  public readonly aclParameter: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: MasterProps) {
    const p = props.project;
    const m = p.master.node;
    const spec = awsNodeSpec(m);
    const parameterName = `/mirrorfleet/${stackName(m.hostname)}/rsync-acl`;
    // Sources known only at deploy (the redirector's addresses) stay out of the bundle, which is
    // an asset: the parameter and the security group carry them, and the host reads the parameter.
    const extra = props.extraRsyncSources ?? [];
    const extraRule: IngressRule[] = extra.length > 0 ? [{ port: 873, protocol: 'tcp', audience: 'acl', cidrs: extra, description: 'rsync for the project\'s redirector (R2)' }] : [];
    super(scope, id, {
      host: masterHost(p, { aclSource: { kind: 'aws-ssm', parameter: parameterName } }),
      sizing: spec,
      adminIngress: [...awsAdminIngress(m.aws), ...extraRule],
      alarmEmail: m.admin.email,
      hostedZone: m.aws.hostedZone,
      vpc: props.vpc,
      vpcHasIpv6: props.vpcHasIpv6,
    });
    this.spec = spec;

    const text = renderAclFile(masterAcl(p, props.extraRsyncSources));
    this.aclParameter = new ssm.StringParameter(this, 'RsyncAcl', {
      parameterName,
      stringValue: text,
      description: `mirrorfleet ${m.hostname}: who may sync (mirrors.yaml), read by mirrorfleet-acl on the host`,
      tier: Buffer.byteLength(text) > SSM_STANDARD_BYTES ? ssm.ParameterTier.ADVANCED : ssm.ParameterTier.STANDARD,
    });
    this.aclParameter.grantRead(this.instanceRole.role);

    for (const t of m.trees) {
      this.alarms.add(`PublishFailed-${t.name}`, `the last publish of tree ${t.name} failed: mirrors keep the previous content (M2)`, {
        metric: this.alarms.metric(CW_METRICS.publishSuccess, metricDimensions.tree(t), 'Minimum', Duration.minutes(5)), threshold: 1,
        comparisonOperator: cw.ComparisonOperator.LESS_THAN_THRESHOLD, treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      });
    }
  }
}
