import { Aws, CfnOutput, Fn, Stack, StackProps, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { stackName } from '../../lib/host/names';
import type { ProjectConfig } from '../../lib/project/project';
import { Master } from './master';
import { Redirector } from './redirector';
import { ScaledRedirector } from './scaled-redirector';
import { loadBalancerRecords } from './scaled-redirector/service';

export interface ProjectStackProps extends StackProps {
  readonly project: ProjectConfig;
  /** @default - a new dual-stack VPC per host */
  readonly vpc?: ec2.IVpc;
  /** @default false */
  readonly vpcHasIpv6?: boolean;
}

/** A project's stack is named after its master, the same on every cloud (lib/host/names.ts). */
export const projectStackNameFor = (p: ProjectConfig) => stackName(p.master.node.hostname);

/**
 * A project's own side in one stack (M1, R1): its master and, when project.yaml has one, its
 * redirector, whose addresses the master's rsync admits (R2: the redirector's copy of the tree
 * follows the master). Outputs: what the infra team points DNS and build hosts at.
 */
export class ProjectStack extends Stack {
  public readonly master: Master;
  public readonly redirector?: Redirector;
  /** The redirector with `profile: scaled` (R5): ALB, ECS, ElastiCache, EFS. */
  public readonly scaledRedirector?: ScaledRedirector;

  constructor(scope: Construct, id: string, props: ProjectStackProps) {
    const p = props.project;
    const m = p.master.node;
    super(scope, id, { description: `mirrorfleet: ${p.preset.title} project side, master ${m.hostname}${p.redirector ? `, redirector ${p.redirector.node.hostname}` : ''}`, ...props });
    const net = { vpc: props.vpc, vpcHasIpv6: props.vpcHasIpv6 };
    // While moving to the scaled profile (keepSingleMachine), both redirectors run; DNS stays with the machine.
    const rd = p.redirector;
    const single = rd && (rd.profile === 'single' || rd.scaled?.keepSingleMachine);
    this.redirector = single ? new Redirector(this, 'Redirector', { project: p, ...net }) : undefined;
    this.scaledRedirector = rd?.profile === 'scaled' ? new ScaledRedirector(this, 'ScaledRedirector', { project: p }) : undefined;
    const r = this.redirector;
    const sr = this.scaledRedirector;
    if (sr && !r && rd?.node.aws.hostedZone) loadBalancerRecords(new Construct(this, 'Redirector'), rd.node.hostname, rd.node.aws.hostedZone, sr.service.loadBalancer);
    this.master = new Master(this, 'Master', {
      project: p,
      extraRsyncSources: [...(r ? [Fn.join('', [r.ipv4Address, '/32']), Fn.join('', [r.ipv6Address, '/128'])] : []), ...(sr ? sr.rsyncSources : [])],
      ...net,
    });
    const out = (oid: string, value: string, description: string) => new CfnOutput(this, oid, { value, description });
    out('MasterIpv4Address', this.master.ipv4Address, 'The master\'s Elastic IP: its A record');
    out('MasterIpv6Address', this.master.ipv6Address, 'The master\'s IPv6 address: its AAAA record');
    out('MasterRsyncUrl', `rsync://${m.hostname}/`, `rsync for listed mirrors; modules: ${m.trees.map((t) => t.name).join(', ')}`);
    out('UploadTarget', `mirror@${m.hostname}:`, 'Build hosts: rsync -rlpt --delete OUT/ mirror@HOST:TREE/, then the .publish marker');
    out('MasterInstanceId', this.master.instance.ref, 'The master\'s instance: aws ssm start-session --target <id>');
    out('MasterDataVolumeId', this.master.dataVolume.volumeId, 'The master\'s data volume, kept when the stack is deleted');
    out('RsyncAclParameter', this.master.aclParameter.parameterName, 'The rsync ACL the master applies (from mirrors.yaml)');
    if (r && p.redirector) {
      out('RedirectorIpv4Address', r.ipv4Address, 'The redirector\'s Elastic IP: the A record of the download name');
      out('RedirectorIpv6Address', r.ipv6Address, 'The redirector\'s IPv6 address: its AAAA record');
      out('RedirectorUrl', `https://${p.redirector.node.hostname}/`, 'Where clients download; ?mirrorlist shows the mirrors');
      out('RedirectorInstanceId', r.instance.ref, 'The redirector\'s instance: aws ssm start-session --target <id>');
      out('GeoipLicenceKeyParameter', p.redirector.geoip.licenseKeyParameter, 'Create this SSM SecureString with your MaxMind licence key');
    }
    if (sr && p.redirector) scaledOutputs(sr, p.redirector.node.hostname, p.redirector.geoip.licenseKeyParameter, r ? () => undefined : out, out);
    out('Region', Aws.REGION, 'AWS region of the project');
  }

  public override get availabilityZones(): string[] {
    return [Fn.select(0, Fn.getAzs()), Fn.select(1, Fn.getAzs())];
  }
}

/** What the infra team needs of the scaled redirector: where to point DNS, which addresses it syncs from. */
type Out = (id: string, value: string, description: string) => void;
/** `shared`: the outputs the single machine names too, left to it while both run. */
function scaledOutputs(sr: ScaledRedirector, hostname: string, keyParameter: string, shared: Out, out: Out): void {
  const lb = sr.service.loadBalancer;
  shared('RedirectorUrl', `https://${hostname}/`, 'Where clients download; ?mirrorlist shows the mirrors');
  out('RedirectorLoadBalancer', lb.loadBalancerDnsName, `The load balancer (IPv4 and IPv6): ${hostname}'s A and AAAA alias, or its CNAME`);
  out('RedirectorEgressIpv4', Fn.join(' ', sr.network.egressIpv4.map((e) => e.ref)), 'The NAT gateways\' Elastic IPs, one per zone: the redirector\'s IPv4 egress (the master\'s rsync admits them)');
  out('RedirectorEgressIpv6', Fn.join(' ', [...sr.network.egressIpv6Cidrs]), 'The task subnets\' IPv6 networks: the redirector\'s IPv6 egress (the master\'s rsync admits them)');
  out('RedirectorCertificate', sr.service.certificate.certificateArn, `The ACM certificate for ${hostname}: without aws.hostedZone, add the CNAME it asks for (aws acm describe-certificate) or the deploy waits`);
  out('RedirectorCluster', sr.cluster.clusterName, 'aws ecs execute-command --cluster <this> --task <id> --container mirrorbits --interactive --command "mirrorbits list"');
  out('RedirectorService', sr.service.service.serviceName, 'The ECS service of the redirector\'s tasks');
  shared('GeoipLicenceKeyParameter', keyParameter, 'Create this SSM SecureString with your MaxMind licence key');
}
