import { Aws, CfnOutput, Fn, Stack, StackProps, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { NodeConfig } from '../../lib/config/node-config';
import { stackName } from '../../lib/host/names';
import { nodeUrls } from '../../lib/roles/mirror-node/urls';
import { MirrorNode } from './mirror-node';

export interface MirrorNodeStackProps extends StackProps {
  readonly config: NodeConfig;
  /** @default - a new dual-stack VPC (see AwsHostProps.vpc) */
  readonly vpc?: ec2.IVpc;
  /** @default false */
  readonly vpcHasIpv6?: boolean;
}

/** The stack name for a node: the same on every cloud (lib/host/names.ts). */
export const stackNameFor = (c: NodeConfig) => stackName(c.hostname);

/**
 * One mirror node and what a mirror application needs to know about it (O1): its addresses,
 * URLs and region, as stack outputs.
 */
export class MirrorNodeStack extends Stack {
  public readonly mirrorNode: MirrorNode;

  constructor(scope: Construct, id: string, props: MirrorNodeStackProps) {
    const c = props.config;
    super(scope, id, { description: `mirrorfleet: ${c.preset.title} mirror node ${c.hostname}`, ...props });
    this.mirrorNode = new MirrorNode(this, 'Node', { config: c, vpc: props.vpc, vpcHasIpv6: props.vpcHasIpv6 });
    const n = this.mirrorNode;
    const urls = nodeUrls(c);

    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    out('Ipv4Address', n.ipv4Address, 'Elastic IP: the A record');
    out('Ipv6Address', n.ipv6Address, 'IPv6 address: the AAAA record');
    if (urls.http) out('HttpUrl', urls.http, 'HTTP base URL');
    if (urls.https) out('HttpsUrl', urls.https, 'HTTPS base URL (served once the certificate is issued)');
    if (urls.rsync) out('RsyncUrl', urls.rsync, `rsync base URL; modules: ${c.trees.map((t) => t.name).join(', ')}`);
    out('Region', Aws.REGION, 'AWS region of the node');
    out('InstanceId', n.instance.ref, 'EC2 instance: aws ssm start-session --target <id>');
    out('DataVolumeId', n.dataVolume.volumeId, 'Data volume, kept when the stack is deleted');
    out('AlarmTopicArn', n.alarms.topic.topicArn, 'Alarm notifications (confirm the e-mail subscription)');
  }

  /**
   * Always the region's first two AZs as deploy-time values, even with account and region set:
   * `cdk synth` then needs no AZ lookup, so it runs offline and without credentials.
   */
  public override get availabilityZones(): string[] {
    return [Fn.select(0, Fn.getAzs()), Fn.select(1, Fn.getAzs())];
  }
}
