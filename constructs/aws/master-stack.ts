import { Aws, CfnOutput, Fn, Stack, StackProps, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ProjectConfig } from '../../lib/project/project';
import { stackName } from '../../lib/host/names';
import { Master } from './master';

export interface MasterStackProps extends StackProps {
  readonly project: ProjectConfig;
  /** @default - a new dual-stack VPC */
  readonly vpc?: ec2.IVpc;
  /** @default false */
  readonly vpcHasIpv6?: boolean;
}

/** The stack name for a project's master: the same on every cloud (lib/host/names.ts). */
export const masterStackNameFor = (p: ProjectConfig) => stackName(p.master.node.hostname);

/** A project's master and what its infra team needs to know about it, as stack outputs. */
export class MasterStack extends Stack {
  public readonly master: Master;

  constructor(scope: Construct, id: string, props: MasterStackProps) {
    const p = props.project;
    const m = p.master.node;
    super(scope, id, { description: `mirrorfleet: ${p.preset.title} master ${m.hostname}`, ...props });
    this.master = new Master(this, 'Master', { project: p, vpc: props.vpc, vpcHasIpv6: props.vpcHasIpv6 });
    const out = (oid: string, value: string, description: string) => new CfnOutput(this, oid, { value, description });
    out('Ipv4Address', this.master.ipv4Address, 'Elastic IP: the A record');
    out('Ipv6Address', this.master.ipv6Address, 'IPv6 address: the AAAA record');
    out('RsyncUrl', `rsync://${m.hostname}/`, `rsync for listed mirrors; modules: ${m.trees.map((t) => t.name).join(', ')}`);
    out('UploadTarget', `mirror@${m.hostname}:`, 'Build hosts: rsync -rlpt --delete OUT/ mirror@HOST:TREE/, then the .publish marker');
    out('Region', Aws.REGION, 'AWS region of the master');
    out('InstanceId', this.master.instance.ref, 'EC2 instance: aws ssm start-session --target <id>');
    out('DataVolumeId', this.master.dataVolume.volumeId, 'Data volume, kept when the stack is deleted');
    out('RsyncAclParameter', this.master.aclParameter.parameterName, 'The rsync ACL the host applies (from mirrors.yaml)');
  }

  public override get availabilityZones(): string[] {
    return [Fn.select(0, Fn.getAzs()), Fn.select(1, Fn.getAzs())];
  }
}
