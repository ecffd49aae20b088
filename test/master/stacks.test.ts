import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Testing } from 'cdktf';
import { IngressPolicy, ProjectStack } from '../../constructs/aws';
import { HcloudProjectStack } from '../../constructs/hcloud/project-stack';
import { checkAws } from '../../lib/config/aws';
import { checkHcloud } from '../../lib/config/hcloud';
import { loadProjectFile, onMaster, onRedirector } from '../../lib/project/project';
import { checkMasterFirewallAws, checkMasterFirewallHcloud } from '../../lib/roles/master/limits';
import { checkRedirectorHcloud } from '../../lib/roles/redirector/checks';
import { errorAnnotations } from '../hcloud/helpers';
import { bodyProblems, loadSchema, unresolvedReferences } from '../hcloud/schema-checks';

/* The master of examples/project.yaml synthesized on both clouds (M1, P1, P2). */
const WORLD = ['0.0.0.0/0', '::/0'];

describe('the project on AWS: master and redirector in one stack', () => {
  const project = loadProjectFile('examples/project.yaml', [onMaster(checkAws), onRedirector(checkAws), checkMasterFirewallAws]);
  const app = new App();
  const stack = new ProjectStack(app, 'Project', { project });
  const template = Template.fromStack(stack);
  type Res = { Properties: Record<string, any>; DeletionPolicy?: string };
  const resources = (type: string, prefix = '') => Object.entries(template.findResources(type) as Record<string, Res>).filter(([id]) => id.startsWith(prefix)).map(([, r]) => r);
  const ingress = (prefix: string) => resources('AWS::EC2::SecurityGroup', prefix).flatMap((g) => g.Properties.SecurityGroupIngress as Record<string, any>[]);
  const source = (r: Record<string, any>) => (typeof (r.CidrIp ?? r.CidrIpv6) === 'string' ? r.CidrIp ?? r.CidrIpv6 : 'TOKEN');

  it('the master opens only 80 and 443 to the world; rsync to the mirror list and the redirector, SSH to the build hosts', () => {
    const rules = ingress('Master');
    expect([...new Set(rules.filter((r) => WORLD.includes(source(r))).map((r) => r.FromPort))].sort()).toEqual([443, 80]);
    expect(rules.filter((r) => r.FromPort === 873).map(source).sort()).toEqual(['192.0.2.20/32', '198.51.100.7/32', '2001:db8:100::/64', '2001:db8:77::/48', '203.0.113.77/32', 'TOKEN', 'TOKEN']);
    expect(JSON.stringify(rules.filter((r) => source(r) === 'TOKEN'))).toMatch(/RedirectorIpv4.*RedirectorInterface/s);
    expect(rules.filter((r) => r.FromPort === 22).map(source)).toEqual(['203.0.113.10/32', '2001:db8:10::/64']);
  });

  it('the redirector opens 80 and 443 and nothing else: mirrorbits, its RPC and Redis stay on loopback (R7)', () => {
    expect(ingress('Redirector').map((r) => `${r.FromPort} ${source(r)}`).sort()).toEqual(['443 0.0.0.0/0', '443 ::/0', '80 0.0.0.0/0', '80 ::/0']);
  });

  it('keeps each host\'s data on an encrypted, retained volume and requires IMDSv2', () => {
    const volumes = resources('AWS::EC2::Volume');
    expect(volumes).toHaveLength(2);
    for (const v of volumes) {
      expect(v.Properties.Encrypted).toBe(true);
      expect(v.DeletionPolicy).toBe('Retain');
    }
    for (const i of resources('AWS::EC2::Instance')) expect(i.Properties.MetadataOptions.HttpTokens).toBe('required');
  });

  it('the master\'s ACL parameter names the redirector too; each role reads only its own parameters', () => {
    const acl = resources('AWS::SSM::Parameter', 'MasterRsyncAcl')[0];
    expect(JSON.stringify(acl.Properties.Value)).toContain('public 192.0.2.20/32\\n');
    expect(JSON.stringify(acl.Properties.Value)).toMatch(/RedirectorIpv4/);
    const ssmOf = (prefix: string) => resources('AWS::IAM::Policy', prefix).flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, any>[]).filter((s) => JSON.stringify(s.Action).includes('ssm:'));
    expect(ssmOf('Master')).toHaveLength(1);
    expect(JSON.stringify(ssmOf('Master')[0].Resource)).toMatch(/MasterRsyncAcl/);
    const redirector = JSON.stringify(ssmOf('Redirector'));
    expect(redirector).toMatch(/RedirectorMirrorListPointer/);
    expect(redirector).toContain('parameter/mirrorfleet/maxmind-license-key');
    expect(redirector).not.toMatch(/MasterRsyncAcl/);
  });

  it('ships the mirror list as an asset named by the pointer parameter with its sha256', () => {
    const pointer = resources('AWS::SSM::Parameter', 'RedirectorMirrorListPointer')[0];
    const [sep, [url, sha]] = pointer.Properties.Value['Fn::Join'];
    expect(sep).toBe(' ');
    expect(url['Fn::Sub']).toMatch(/^s3:\/\/cdk-.*-assets-.*\/[0-9a-f]{64}\.json$/);
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
  });

  it('passes cdk-nag AwsSolutions and the ingress policy', () => {
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`))).toEqual([]);
    const app2 = new App();
    new ProjectStack(app2, 'Project', { project });
    Validations.of(app2).addPlugins(new IngressPolicy());
    expect(() => app2.synth()).not.toThrow();
  });

  it('alarms when a publish fails, and on the redirector\'s signals (R6)', () => {
    const alarms = resources('AWS::CloudWatch::Alarm').map((a) => a.Properties.AlarmDescription as string);
    expect(alarms).toContain('mirrorfleet master.example.org: the last publish of tree xcp-ng failed: mirrors keep the previous content (M2)');
    for (const what of ['at least one mirror down', 'Redis above 80%', 'GeoIP databases older than 14 days', 'reconcile of the mirror list failed', 'more than 10% of requests sent to the master']) {
      expect(alarms.some((a) => a.startsWith('mirrorfleet download.example.org: ') && a.includes(what))).toBe(true);
    }
  });
});

describe('the project on Hetzner: master and redirector in one configuration', () => {
  const project = loadProjectFile('examples/project.yaml', [onMaster(checkHcloud), onRedirector(checkHcloud), checkMasterFirewallHcloud, checkRedirectorHcloud]);
  const stack = new HcloudProjectStack(Testing.app(), 'mirrorfleet-master-example-org', { project });
  const json = JSON.parse(Testing.synth(stack));
  const schema = loadSchema();

  it('uses only schema arguments of the right types, and references that resolve', () => {
    // terraform_data is Terraform's own resource, not the provider's: checked on its own below.
    const problems = Object.entries(json.resource).filter(([type]) => type !== 'terraform_data').flatMap(([type, byName]) =>
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

  it('admits the redirector\'s addresses to the master\'s rsync, and the policies hold', () => {
    const rsync = (json.resource.hcloud_firewall.master.rule as { port: string; source_ips: string[] }[]).find((r) => r.port === '873' && r.source_ips.some((s) => s.includes('redirector')))!;
    expect(rsync.source_ips).toEqual(['${hcloud_primary_ip.redirector_ipv4.ip_address}/32', '${cidrhost(hcloud_primary_ip.redirector_ipv6.ip_network, 1)}/128']);
    expect(errorAnnotations(stack)).toEqual([]);
  });

  it('copies a changed mirror list to the redirector over SSH, as root with the admin key', () => {
    const push = json.resource.terraform_data.redirector_mirror_list;
    expect(push.triggers_replace.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(push.connection).toEqual({ type: 'ssh', host: '${hcloud_primary_ip.redirector_ipv4.ip_address}', user: 'root', private_key: '${var.admin_ssh_private_key}' });
    expect(push.provisioner).toEqual([{ file: expect.objectContaining({ destination: '/etc/mirrorfleet/redirector/mirrors.json' }) }]);
    expect(JSON.parse(push.provisioner[0].file.content).mirrors).toHaveLength(4);
    expect(json.variable.admin_ssh_private_key.sensitive).toBe(true);
    expect(json.resource.hcloud_firewall.redirector.rule.map((r: { port: string }) => r.port)).toEqual(['80', '443', '22']);
  });

  it('tells the host its firewall id (outside the bundle) and protects volume and addresses', () => {
    expect(json.resource.hcloud_server.master.user_data).toContain('HCLOUD_FIREWALL_ID=${hcloud_firewall.master.id}');
    expect(json.resource.hcloud_volume.master_data.delete_protection).toBe(true);
    expect(json.resource.hcloud_volume.master_data.lifecycle.prevent_destroy).toBe(true);
  });
});
