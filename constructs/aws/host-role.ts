import { Validations, aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CW_NAMESPACE } from '../../lib/host/aws/cloudwatch-agent';

/**
 * The host's instance role, least privilege (N22): Session Manager (the way in, instead of SSH)
 * and PutMetricData into the mirrorfleet namespace only; HostUserData adds read access to the
 * host's own bundle object. A role that needs more (a secret, say) grants it on this role.
 */
export class HostInstanceRole extends Construct {
  public readonly role: iam.Role;
  public readonly instanceProfile: iam.InstanceProfile;

  constructor(scope: Construct, id: string, props: { readonly title: string }) {
    super(scope, id);
    this.role = new iam.Role(this, 'Resource', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `mirrorfleet ${props.title}: Session Manager and its own CloudWatch metrics`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': CW_NAMESPACE } },
      }),
    );
    this.instanceProfile = new iam.InstanceProfile(this, 'Profile', { role: this.role });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason: 'Session Manager is the only way into a host (no SSH by default, N22); this AWS-maintained policy is the set of ssm/ssmmessages/ec2messages calls its agent needs and tracks agent changes.',
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:PutMetricData has no resource-level permissions; the statement is limited to the MirrorFleet namespace by the cloudwatch:namespace condition.',
    });
  }
}
