import { App, Validations, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { IngressPolicy, MirrorNodeStack } from '../../constructs/aws';
import { NodeConfig } from '../../lib/config/node-config';
import { EXAMPLES } from '../support/fixtures';
import { awsConfigWith, awsExampleConfig } from './support';

/*
 * The AWS template held against the ingress table (lib/host/ingress.ts) by our validation plugin,
 * on the synthesized template: the security group may open exactly the table, nothing more.
 */
function synthWith(config: NodeConfig, tamper: (s: MirrorNodeStack) => void = () => undefined): string {
  const app = new App();
  const stack = new MirrorNodeStack(app, 'Mirror', { config });
  tamper(stack);
  Validations.of(app).addPlugins(new IngressPolicy());
  try {
    app.synth();
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('IngressPolicy: the security group is the ingress table', () => {
  it.each(EXAMPLES)('examples/%s.yaml passes', (example) => {
    expect(synthWith(awsExampleConfig(example))).toBe('');
  });

  it('passes with SSH and the tier-1 ACL turned on', () => {
    expect(synthWith(awsConfigWith('fedora', 'aws:\n  sshCidrs: [192.0.2.0/24, "2001:db8::/48"]\n'))).toBe('');
  });

  it('fails on an escape-hatch override that opens SSH to the world', () => {
    const message = synthWith(awsExampleConfig('xcp-ng'), (s) => {
      const cfn = s.mirrorNode.securityGroup.node.defaultChild as ec2.CfnSecurityGroup;
      cfn.addPropertyOverride('SecurityGroupIngress.6', { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '0.0.0.0/0' });
    });
    expect(message).toContain('IngressMatchesTable');
    expect(message).toContain('opens tcp 22 from 0.0.0.0/0, which the ingress table does not list');
  });

  it('fails when the tier-1 ACL rule is dropped or widened', () => {
    const message = synthWith(awsExampleConfig('fedora'), (s) => {
      const cfn = s.mirrorNode.securityGroup.node.defaultChild as ec2.CfnSecurityGroup;
      cfn.addPropertyOverride('SecurityGroupIngress.6.CidrIp', '0.0.0.0/0');
    });
    expect(message).toContain('opens tcp 874 from 0.0.0.0/0, which the ingress table does not list');
    expect(message).toContain('misses tcp 874 from 198.51.100.7/32, which the ingress table lists');
  });

  it('fails on another security group of the app that opens anything to the world', () => {
    const message = synthWith(awsExampleConfig('xcp-ng'), (s) => {
      const sg = new ec2.SecurityGroup(s, 'Stray', { vpc: s.mirrorNode.vpc });
      sg.addIngressRule(ec2.Peer.anyIpv6(), ec2.Port.tcp(9100));
    });
    expect(message).toContain('NothingElseWorldOpen');
    expect(message).toContain('opens tcp 9100 from ::/0 outside any host\'s ingress table');
  });
});
