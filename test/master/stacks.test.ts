import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Testing } from 'cdktf';
import { IngressPolicy, MasterStack } from '../../constructs/aws';
import { HcloudMasterStack } from '../../constructs/hcloud/master-stack';
import { checkAws } from '../../lib/config/aws';
import { checkHcloud } from '../../lib/config/hcloud';
import { loadProjectFile, onMaster } from '../../lib/project/project';
import { checkMasterFirewallAws, checkMasterFirewallHcloud } from '../../lib/roles/master/limits';
import { errorAnnotations } from '../hcloud/helpers';
import { bodyProblems, loadSchema, unresolvedReferences } from '../hcloud/schema-checks';

/* The master of examples/project.yaml synthesized on both clouds (M1, P1, P2). */
const WORLD = ['0.0.0.0/0', '::/0'];

describe('the master on AWS', () => {
  const project = loadProjectFile('examples/project.yaml', [onMaster(checkAws), checkMasterFirewallAws]);
  const app = new App();
  const stack = new MasterStack(app, 'Master', { project });
  const template = Template.fromStack(stack);
  const resources = (type: string) => Object.values(template.findResources(type)) as { Properties: Record<string, any>; DeletionPolicy?: string }[];

  it('opens only 80 and 443 to the world; rsync to the mirror list, SSH to the build hosts', () => {
    const rules = resources('AWS::EC2::SecurityGroup').flatMap((g) => g.Properties.SecurityGroupIngress as Record<string, any>[]);
    const world = rules.filter((r) => WORLD.includes(r.CidrIp ?? r.CidrIpv6)).map((r) => r.FromPort);
    expect([...new Set(world)].sort()).toEqual([443, 80]);
    expect(rules.filter((r) => r.FromPort === 873).map((r) => r.CidrIp ?? r.CidrIpv6).sort()).toEqual(['192.0.2.20/32', '198.51.100.7/32', '2001:db8:100::/64', '2001:db8:77::/48', '203.0.113.77/32']);
    expect(rules.filter((r) => r.FromPort === 22).map((r) => r.CidrIp ?? r.CidrIpv6)).toEqual(['203.0.113.10/32', '2001:db8:10::/64']);
  });

  it('keeps its data on an encrypted, retained volume and requires IMDSv2', () => {
    const [volume] = resources('AWS::EC2::Volume');
    expect(volume.Properties.Encrypted).toBe(true);
    expect(volume.DeletionPolicy).toBe('Retain');
    expect(resources('AWS::EC2::Instance')[0].Properties.MetadataOptions.HttpTokens).toBe('required');
  });

  it('puts the ACL in an SSM parameter the instance role may read, and nothing else of SSM', () => {
    const [param] = resources('AWS::SSM::Parameter');
    expect(param.Properties.Name).toBe('/mirrorfleet/mirrorfleet-master-example-org/rsync-acl');
    expect(param.Properties.Value).toContain('public 192.0.2.20/32\n');
    const statements = resources('AWS::IAM::Policy').flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, any>[]);
    const ssm = statements.filter((s) => JSON.stringify(s.Action).includes('ssm:'));
    expect(ssm).toHaveLength(1);
    // The parameter's own ARN ("…:parameter" + its name, which starts with "/").
    expect(JSON.stringify(ssm[0].Resource)).toMatch(/":parameter",\{"Ref":"MasterRsyncAcl[0-9A-F]+"\}/);
  });

  it('passes cdk-nag AwsSolutions and the ingress policy', () => {
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`))).toEqual([]);
    const app2 = new App();
    new MasterStack(app2, 'Master', { project });
    Validations.of(app2).addPlugins(new IngressPolicy());
    expect(() => app2.synth()).not.toThrow();
  });

  it('alarms when a publish fails, per tree', () => {
    const alarms = resources('AWS::CloudWatch::Alarm').map((a) => a.Properties.AlarmDescription as string);
    expect(alarms).toContain('mirrorfleet master.example.org: the last publish of tree xcp-ng failed: mirrors keep the previous content (M2)');
  });
});

describe('the master on Hetzner', () => {
  const project = loadProjectFile('examples/project.yaml', [onMaster(checkHcloud), checkMasterFirewallHcloud]);
  const stack = new HcloudMasterStack(Testing.app(), 'mirrorfleet-master-example-org', { project });
  const json = JSON.parse(Testing.synth(stack));
  const schema = loadSchema();

  it('uses only schema arguments of the right types, and references that resolve', () => {
    const problems = Object.entries(json.resource).flatMap(([type, byName]) =>
      Object.entries(byName as Record<string, Record<string, unknown>>).flatMap(([name, b]) => {
        const { ['//']: _m, ...rest } = b;
        return bodyProblems(schema.resource_schemas[type].block, rest, `${type}.${name}`);
      }));
    expect(problems).toEqual([]);
    expect(unresolvedReferences(json, schema)).toEqual([]);
  });

  it('opens only 80 and 443 to the world; rsync to the list; passes the policies', () => {
    const rules = json.resource.hcloud_firewall.master.rule as { port: string; source_ips: string[] }[];
    expect(rules.filter((r) => r.source_ips.some((s) => WORLD.includes(s))).map((r) => r.port)).toEqual(['80', '443']);
    expect(rules.find((r) => r.port === '873')!.source_ips).toHaveLength(5);
    expect(errorAnnotations(stack)).toEqual([]);
  });

  it('tells the host its firewall id (outside the bundle) and protects volume and addresses', () => {
    expect(json.resource.hcloud_server.master.user_data).toContain('HCLOUD_FIREWALL_ID=${hcloud_firewall.master.id}');
    expect(json.resource.hcloud_volume.master_data.delete_protection).toBe(true);
    expect(json.resource.hcloud_volume.master_data.lifecycle.prevent_destroy).toBe(true);
  });
});
