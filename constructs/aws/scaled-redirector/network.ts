import { Fn, Tags, Validations, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** The scaled redirector's VPC: a literal range, so nginx can name the load balancer's addresses. */
export const SCALED_VPC_CIDR = '10.64.0.0/16';

/**
 * The scaled redirector's network (R5): two zones, the load balancer and the NAT gateways in
 * public subnets, every task and Redis and EFS in private ones. Each zone's NAT gateway has an
 * Elastic IP of ours: the redirector's fixed IPv4 egress, which the master's rsync admits; IPv6
 * leaves through the egress-only gateway from the private subnets' own /64s. S3 (image layers,
 * the mirror list) is reached through a gateway endpoint, not the NAT gateways.
 */
export class ScaledNetwork extends Construct {
  public readonly vpc: ec2.Vpc;
  /** The NAT gateways' Elastic IPs, one per zone. */
  public readonly egressIpv4: readonly ec2.CfnEIP[];
  /** The private subnets' IPv6 CIDRs, as deploy-time "…/64" strings. */
  public readonly egressIpv6Cidrs: readonly string[];

  constructor(scope: Construct, id: string, props: { hostname: string }) {
    super(scope, id);
    const eips = [0, 1].map((i) => {
      const eip = new ec2.CfnEIP(this, `Egress${'ab'[i]}`, { domain: 'vpc' });
      Tags.of(eip).add('Name', `${props.hostname} egress ${i + 1}`);
      return eip;
    });
    this.egressIpv4 = eips;
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipProtocol: ec2.IpProtocol.DUAL_STACK,
      ipAddresses: ec2.IpAddresses.cidr(SCALED_VPC_CIDR),
      maxAzs: 2,
      natGateways: 2,
      natGatewayProvider: ec2.NatProvider.gateway({ eipAllocationIds: eips.map((e) => e.attrAllocationId) }),
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'tasks', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      // Restricting the default group takes a Lambda-backed custom resource; nothing uses that group.
      restrictDefaultSecurityGroup: false,
    });
    const privateSubnets = this.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnets as ec2.Subnet[];
    // The /64 as "address/64", so the master's firewall sees a literal prefix (constructs/aws/host-firewall.ts).
    this.egressIpv6Cidrs = privateSubnets.map((s) => Fn.join('', [Fn.select(0, Fn.split('/', Fn.select(0, s.subnetIpv6CidrBlocks))), '/64']));
    Validations.of(this.vpc).acknowledge({
      id: 'AwsSolutions-VPC7',
      reason: 'The VPC carries anonymous download redirects, each logged by nginx with the client address, status and target in CloudWatch Logs; flow logs at that volume would cost more than the load balancer and add nothing the access log lacks.',
    });
  }

  public get privateSubnets(): ec2.SubnetSelection {
    return { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  }
}
