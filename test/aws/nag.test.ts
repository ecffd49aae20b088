import { App, Validations, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MirrorNodeStack } from '../../constructs/aws';
import { NodeConfig } from '../../lib/config/node-config';
import { EXAMPLES } from '../support/fixtures';
import { awsConfigWith, awsExampleConfig } from './support';

/** cdk-nag v3: run the pack on the whole app and list findings as `rule path` lines. */
function findings(app: App): string[] {
  const report = new AwsSolutionsChecks(app).validateScope(app);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`));
}

const appWith = (config: NodeConfig) => {
  const app = new App();
  const stack = new MirrorNodeStack(app, 'Mirror', { config });
  return { app, stack };
};

describe('AwsSolutionsChecks (cdk-nag v3)', () => {
  it.each(EXAMPLES)('examples/%s.yaml: no unacknowledged finding', (example) => {
    expect(findings(appWith(awsExampleConfig(example)).app)).toEqual([]);
  });

  it('no finding with SSH, tier-1 rsync and DNS records turned on either', () => {
    const c = awsConfigWith('fedora', 'aws:\n  sshCidrs: [192.0.2.0/24]\n  hostedZone: {id: Z0123456789ABC, name: example.org}\n');
    expect(findings(appWith(c).app)).toEqual([]);
  });

  it('every acknowledgement is specific and has a reason', () => {
    const { app } = appWith(awsExampleConfig('fedora'));
    const acks = app.node.findAll().flatMap((n) => n.node.metadata.filter((m) => /acknowledge/i.test(m.type)).map((m) => m.data as { id?: string; reason?: string }));
    expect(acks.length).toBeGreaterThanOrEqual(8);
    for (const a of acks) expect(JSON.stringify(a)).toMatch(/.{80,}/);
  });

  it('reports what the node does not acknowledge (the check can fail)', () => {
    const { app, stack } = appWith(awsExampleConfig('xcp-ng'));
    const sg = new ec2.SecurityGroup(stack, 'Stray', { vpc: stack.mirrorNode.vpc, description: 'not the node\'s' });
    sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
    expect(findings(app)).toEqual(['AwsSolutions-EC23 Mirror/Stray/Resource']);
    Validations.of(sg).acknowledge({ id: 'AwsSolutions-EC23', reason: 'test' });
    expect(findings(app)).toEqual([]);
  });
});
