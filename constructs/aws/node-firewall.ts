import { Validations, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AwsNodeSpec } from '../../lib/config/aws';
import { NodeConfig } from '../../lib/config/node-config';

export interface NodeFirewallProps {
  readonly vpc: ec2.IVpc;
  readonly config: NodeConfig;
  readonly spec: AwsNodeSpec;
}

const peer = (cidr: string) => (cidr.includes(':') ? ec2.Peer.ipv6(cidr) : ec2.Peer.ipv4(cidr));

/**
 * The node's security group (N22): 80, 443 and 873 from everyone on IPv4 and IPv6 (only the
 * services the config turns on; 80 always, for ACME and the redirect to HTTPS), the tier-1 rsync
 * port to its ACL only (N11), SSH only from the admin networks if any are listed.
 */
export class NodeFirewall extends Construct {
  public readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NodeFirewallProps) {
    super(scope, id);
    const c = props.config;
    const sg = new ec2.SecurityGroup(this, 'Resource', {
      vpc: props.vpc,
      description: `mirrorfleet ${c.hostname}: public mirror ports, tier-1 rsync ACL, admin SSH`,
      allowAllOutbound: true,
      allowAllIpv6Outbound: true,
    });
    const open: [number, string, boolean][] = [
      [80, 'HTTP downloads and ACME (N1, N19)', true],
      [443, 'HTTPS downloads (N1)', c.https.enabled],
      [873, 'public read-only rsync (N10)', c.rsync.enabled],
    ];
    for (const [port, why, on] of open) {
      if (!on) continue;
      sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), why);
      sg.addIngressRule(ec2.Peer.anyIpv6(), ec2.Port.tcp(port), why);
    }
    if (c.rsync.private) {
      for (const cidr of props.spec.privateRsyncCidrs) sg.addIngressRule(peer(cidr), ec2.Port.tcp(c.rsync.private.port), 'tier-1 rsync for a listed downstream mirror (N11)');
    }
    for (const cidr of props.spec.sshCidrs) sg.addIngressRule(peer(cidr), ec2.Port.tcp(22), 'SSH from an admin network (N22)');
    this.securityGroup = sg;

    if (c.http.enabled || c.https.enabled || c.rsync.enabled) {
      Validations.of(sg).acknowledge({
        id: 'AwsSolutions-EC23',
        reason: 'A public download mirror: HTTP, HTTPS and rsync must answer every IPv4 and IPv6 client (N1, N9, N10). Only those ports are open to all; tier-1 rsync and SSH are limited to listed addresses.',
      });
    }
  }
}
