import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ProjectStack } from '../../constructs/aws';
import { loadProjectFile } from '../../lib/project/project';
import { EXAMPLE_PROJECT } from './support';
import { deployTimeRsyncRules } from './synth-support';

/*
 * The master's rsync admits the redirector's addresses, known at deploy only (R2): an IPv4
 * address must land in CidrIp and an IPv6 one in CidrIpv6, or CloudFormation refuses the rule.
 * A token's text says nothing of its family; the literal prefix joined to it does.
 */
describe('the master\'s rsync rules for the single redirector\'s addresses', () => {
  it('the Elastic IP in CidrIp, the IPv6 address in CidrIpv6', () => {
    const stack = new ProjectStack(new App(), 'Project', { project: loadProjectFile(EXAMPLE_PROJECT) });
    const { v4, v6 } = deployTimeRsyncRules(Template.fromStack(stack));
    expect(v4).toEqual([expect.stringMatching(/RedirectorIpv4.*"\/32"/)]);
    expect(v6).toEqual([expect.stringMatching(/PrimaryIpv6Address.*"\/128"/)]);
  });
});
