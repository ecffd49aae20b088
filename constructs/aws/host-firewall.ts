import { Stack, Token, Validations, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { IngressRule, assertIngress, worldPorts } from '../../lib/host/ingress';

export interface HostFirewallProps {
  readonly vpc: ec2.IVpc;
  /** The host's ingress table: its role's rules and its admin rules (lib/host/ingress.ts). */
  readonly ingress: readonly IngressRule[];
  readonly description: string;
}

const peer = (scope: Construct, cidr: string) => (cidr === '0.0.0.0/0' ? ec2.Peer.anyIpv4() : cidr === '::/0' ? ec2.Peer.anyIpv6()
  : (Token.isUnresolved(cidr) ? deployTimePrefix(scope, cidr) > 32 : cidr.includes(':')) ? ec2.Peer.ipv6(cidr) : ec2.Peer.ipv4(cidr));

/**
 * A source known at deploy only (another host's address) is written as the address joined to a
 * literal prefix length, "/32" for IPv4 and longer for IPv6: the token's text says nothing of
 * its family, the literal does.
 */
function deployTimePrefix(scope: Construct, cidr: string): number {
  const parts = (Stack.of(scope).resolve(cidr) as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']?.[1];
  const last = parts?.[parts.length - 1];
  const m = typeof last === 'string' ? /\/(\d{1,3})$/.exec(last) : null;
  if (!m) throw new Error(`ingress: the deploy-time source ${JSON.stringify(Stack.of(scope).resolve(cidr))} must end in a literal prefix length ("/32" for IPv4, "/64" or "/128" for IPv6)`);
  return Number(m[1]);
}

/**
 * A host's security group, built from its ingress table and nothing else (N22): the IngressPolicy
 * validation (./ingress-policy.ts) holds the synthesized template against the same table.
 */
export class HostFirewall extends Construct {
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly ingress: readonly IngressRule[];

  constructor(scope: Construct, id: string, props: HostFirewallProps) {
    super(scope, id);
    assertIngress(props.ingress);
    this.ingress = props.ingress;
    const sg = new ec2.SecurityGroup(this, 'Resource', {
      vpc: props.vpc,
      description: props.description,
      allowAllOutbound: true,
      allowAllIpv6Outbound: true,
    });
    for (const rule of props.ingress) {
      for (const cidr of rule.cidrs) sg.addIngressRule(peer(this, cidr), ec2.Port.tcp(rule.port), rule.description);
    }
    this.securityGroup = sg;

    const open = worldPorts(props.ingress);
    if (open.length > 0) {
      Validations.of(sg).acknowledge({
        id: 'AwsSolutions-EC23',
        reason: `Public download service: tcp ${open.join(', ')} must answer every IPv4 and IPv6 client (N1, N9, N10). Only the ingress table's world ports are open to all; every other port is limited to listed addresses.`,
      });
    }
  }
}
