import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IngressPolicy, ProjectStack } from '../../constructs/aws';
import { SCALED_VPC_CIDR } from '../../constructs/aws/scaled-redirector/network';
import { Synthesized, actionsOf, asText, containersOf, ofType, only, statementsOf, synthScaled } from './synth-support';

/*
 * `cdk synth` of the example project with `profile: scaled` (R5): valid for CloudFormation, clean
 * under cdk-nag's AwsSolutions with a reason for each acknowledgement, and the properties the issue
 * names, read from the template: Redis reachable from the tasks only, mirrorbits' RPC never behind
 * the load balancer, EFS encrypted, least-privilege roles, nothing world-open but the ALB's 80/443.
 */
const WORLD = ['0.0.0.0/0', '::/0'];
type Rule = { IpProtocol: string; FromPort?: number; ToPort?: number; CidrIp?: unknown; CidrIpv6?: unknown; SourceSecurityGroupId?: unknown };

describe('the scaled redirector synthesized (R5)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthScaled();
  }, 60_000);

  /** Every ingress of the groups under ScaledRedirector, as "group: tcp PORT from SOURCE". */
  const ingress = (): string[] => {
    const inline = ofType(s, 'AWS::EC2::SecurityGroup', 'ScaledRedirector').flatMap(([id, g]) => ((g.Properties.SecurityGroupIngress ?? []) as Rule[]).map((r) => [id, r] as const));
    const separate = ofType(s, 'AWS::EC2::SecurityGroupIngress', 'ScaledRedirector').map(([, r]) => [asText(r.Properties.GroupId).replace(/^<|\.GroupId>$/g, ''), r.Properties as Rule] as const);
    return [...inline, ...separate].map(([g, r]) => `${g}: ${r.IpProtocol} ${r.FromPort} from ${asText(r.CidrIp ?? r.CidrIpv6 ?? r.SourceSecurityGroupId).replace(/\.GroupId>$/, '>')}`).sort();
  };

  it('is valid against the AWS spec (aws-cdk-lib\'s own template validation)', () => {
    const cdkLib = path.dirname(require.resolve('aws-cdk-lib/package.json'));
    const v = require(require.resolve('@aws/cloudformation-validate', { paths: [cdkLib] }));
    const engine = new v.CompositeEngine();
    const region = s.project.redirector!.node.aws.region;
    const found = engine.validateTemplate(new v.TemplateContent(JSON.stringify(s.template.toJSON())), { pseudoParameterOverrides: { region } }).diagnostics as { ruleId: string; severity: string; message: string; entity?: { logicalId: string } }[];
    // The master's two are its own, acknowledged on it (constructs/aws/aws-host.ts).
    const ours = found.filter((d) => d.severity !== 'INFO' && !d.entity?.logicalId.startsWith('Master')).map((d) => `${d.ruleId} ${d.entity?.logicalId}: ${d.message}`);
    expect(ours).toEqual([]);
    // The check can fail: an unknown node type is an error.
    const bad = JSON.parse(JSON.stringify(s.template.toJSON()));
    bad.Resources[only(s, 'AWS::ElastiCache::ReplicationGroup')[0]].Properties.AutomaticFailoverEnabled = 'sometimes';
    expect(engine.validateTemplate(new v.TemplateContent(JSON.stringify(bad)), { pseudoParameterOverrides: { region } }).diagnostics.filter((d: { severity: string }) => d.severity === 'ERROR').length).toBeGreaterThan(0);
  });

  it('has no unacknowledged cdk-nag finding, passes the ingress policy, and every acknowledgement carries its reason', () => {
    const report = new AwsSolutionsChecks(s.app).validateScope(s.app);
    expect(report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath}`))).toEqual([]);
    const acks = s.stack.scaledRedirector!.node.findAll().flatMap((n) => n.node.metadata.filter((m) => /acknowledged-rules/.test(m.type))
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ id: id.replace(/^Annotation::/, ''), reason }))));
    expect(acks.map((a) => a.id.replace(/\[.*$/, '')).sort()).toEqual(expect.arrayContaining(['AwsSolutions-AEC3', 'AwsSolutions-AEC5', 'AwsSolutions-AEC6', 'AwsSolutions-ECS2', 'AwsSolutions-ECS4', 'AwsSolutions-ELB2', 'AwsSolutions-IAM5']));
    for (const a of acks) expect(a.reason.length).toBeGreaterThanOrEqual(80);
    const redis = acks.filter((a) => a.id.startsWith('AwsSolutions-AEC'));
    for (const a of redis) expect(a.reason).toMatch(/mirrorbits .*no TLS option.*Serverless and MemoryDB force TLS.*docs\/adr\/0065/);
    const app = new App();
    new ProjectStack(app, 'Project', { project: s.project });
    Validations.of(app).addPlugins(new IngressPolicy());
    expect(() => app.synth()).not.toThrow();
  });

  it('Redis: Valkey, primary and replica in two zones, noeviction, snapshots, port 6379 from the tasks only', () => {
    const [id, rg] = only(s, 'AWS::ElastiCache::ReplicationGroup');
    expect(rg.Properties).toMatchObject({ Engine: 'valkey', NumCacheClusters: 2, AutomaticFailoverEnabled: true, MultiAZEnabled: true, TransitEncryptionEnabled: false, AtRestEncryptionEnabled: true, SnapshotRetentionLimit: 7 });
    expect(rg.DeletionPolicy).toBe('Snapshot');
    const [, params] = only(s, 'AWS::ElastiCache::ParameterGroup');
    expect(params.Properties.Properties).toEqual({ 'maxmemory-policy': 'noeviction' });
    expect(rg.Properties.SecurityGroupIds.map(asText)).toEqual([expect.stringMatching(/^<ScaledRedirectorRedisFirewall[0-9A-F]{8}\.GroupId>$/)]);
    const redisRules = ingress().filter((l) => l.startsWith(rg.Properties.SecurityGroupIds[0]['Fn::GetAtt'][0]));
    expect(redisRules.map((l) => l.replace(/^[^:]+: /, '').replace(/[0-9A-F]{8}>/, '>'))).toEqual([
      'tcp 6379 from <ScaledRedirectorServiceFirewall>', 'tcp 6379 from <ScaledRedirectorTasksReconcileFirewall>', 'tcp 6379 from <ScaledRedirectorTasksSyncFirewall>',
    ]);
    expect(id).toMatch(/^ScaledRedirectorRedis/);
    // No rule of any group names Redis' port but these, and the Redis group sends nothing out.
    expect(ingress().filter((l) => / 6379 /.test(l))).toHaveLength(3);
    const [, group] = only(s, 'AWS::EC2::SecurityGroup', 'ScaledRedirectorRedisFirewall');
    expect(group.Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32', IpProtocol: 'icmp' })]);
  });

  it('mirrorbits\' RPC and HTTP never behind the load balancer: the ALB forwards to nginx:80 only, on loopback-bound mirrorbits', () => {
    const listeners = ofType(s, 'AWS::ElasticLoadBalancingV2::Listener').map(([, l]) => l.Properties);
    expect(listeners.map((l) => [l.Port, l.Protocol]).sort()).toEqual([[443, 'HTTPS'], [80, 'HTTP']]);
    const [tgId, tg] = only(s, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    for (const l of listeners) expect(l.DefaultActions).toEqual([{ Type: 'forward', TargetGroupArn: { Ref: tgId } }]);
    expect(tg.Properties).toMatchObject({ Port: 80, Protocol: 'HTTP', TargetType: 'ip', HealthCheckPath: '/healthz', Matcher: { HttpCode: '200' } });
    const [, service] = only(s, 'AWS::ECS::Service');
    expect(service.Properties.LoadBalancers).toEqual([{ ContainerName: 'nginx', ContainerPort: 80, TargetGroupArn: { Ref: tgId } }]);
    const containers = containersOf(s, 'ScaledRedirectorServiceTask');
    expect(Object.values(containers).flatMap((c) => (c.PortMappings ?? []).map((p: { ContainerPort: number }) => `${c.Name}:${p.ContainerPort}`))).toEqual(['nginx:80']);
    // The service's tasks admit port 80 from the load balancer's group and nothing else.
    expect(ingress().filter((l) => l.startsWith('ScaledRedirectorServiceFirewall')).map((l) => l.replace(/[0-9A-F]{8}(>|:)/g, '$1'))).toEqual(['ScaledRedirectorServiceFirewall: tcp 80 from <ScaledRedirectorServiceLoadBalancerFirewall>']);
    expect(ingress().filter((l) => / (3390|8080) /.test(l))).toEqual([]);
    const conf = JSON.parse(asText(containers.config.Environment[0].Value))['/run/mirrorfleet/mirrorbits.conf'] as string;
    expect(conf).toContain('\nListenAddress: 127.0.0.1:8080\nRPCListenAddress: 127.0.0.1:3390\n');
  });

  it('nothing is open to the whole Internet but 80 and 443 on the load balancer, on IPv4 and IPv6', () => {
    const world = ingress().filter((l) => WORLD.some((w) => l.endsWith(` from ${w}`)));
    expect(world.map((l) => l.replace(/[0-9A-F]{8}:/, ':'))).toEqual([
      'ScaledRedirectorServiceLoadBalancerFirewall: tcp 443 from 0.0.0.0/0', 'ScaledRedirectorServiceLoadBalancerFirewall: tcp 443 from ::/0',
      'ScaledRedirectorServiceLoadBalancerFirewall: tcp 80 from 0.0.0.0/0', 'ScaledRedirectorServiceLoadBalancerFirewall: tcp 80 from ::/0',
    ]);
    // No other group has a CIDR source at all: only groups reach groups.
    expect(ingress().filter((l) => !l.startsWith('ScaledRedirectorServiceLoadBalancerFirewall') && !/ from <\w+>$/.test(l))).toEqual([]);
    const [, alb] = only(s, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(alb.Properties).toMatchObject({ Scheme: 'internet-facing', IpAddressType: 'dualstack', Type: 'application' });
    expect(alb.Properties.LoadBalancerAttributes).toEqual(expect.arrayContaining([{ Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' }, { Key: 'routing.http.xff_header_processing.mode', Value: 'append' }]));
    for (const [, t] of ofType(s, 'AWS::ECS::Service')) expect(t.Properties.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('DISABLED');
  });

  it('EFS is encrypted, refuses unencrypted connections, and the service mounts it read-only without write permission', () => {
    const [, fs] = only(s, 'AWS::EFS::FileSystem');
    expect(fs.Properties.Encrypted).toBe(true);
    expect(fs.Properties.FileSystemPolicy.Statement).toEqual([{ Effect: 'Deny', Principal: { AWS: '*' }, Action: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }]);
    const [, def] = only(s, 'AWS::ECS::TaskDefinition', 'ScaledRedirectorServiceTask');
    for (const v of def.Properties.Volumes.filter((x: { EFSVolumeConfiguration?: unknown }) => x.EFSVolumeConfiguration)) {
      expect(v.EFSVolumeConfiguration).toMatchObject({ TransitEncryption: 'ENABLED', AuthorizationConfig: { IAM: 'ENABLED' } });
    }
    const mounts = def.Properties.ContainerDefinitions.flatMap((c: Record<string, any>) => (c.MountPoints ?? []).filter((m: { SourceVolume: string }) => m.SourceVolume.startsWith('efs-')));
    expect(mounts.length).toBeGreaterThanOrEqual(3);
    for (const m of mounts) expect(m.ReadOnly).toBe(true);
    expect(actionsOf(statementsOf(s, 'ScaledRedirectorServiceTaskTaskRole')).filter((a) => a.startsWith('elasticfilesystem:'))).toEqual(['elasticfilesystem:ClientMount']);
  });

  it('least privilege: the licence key to the GeoIP task alone, writes where each task writes, one service restart, one S3 object', () => {
    const keyArn = /parameter\/mirrorfleet\/maxmind-license-key$/;
    const readers = ofType(s, 'AWS::IAM::Policy').filter(([, p]) => p.Properties.PolicyDocument.Statement.some((st: { Resource: unknown }) => [st.Resource].flat().some((r) => keyArn.test(asText(r)))));
    expect(readers.map(([, p]) => asText(p.Properties.Roles[0]).replace(/[0-9A-F]{8}>$/, '>'))).toEqual(['<ScaledRedirectorTasksGeoipTaskExecutionRole>']);
    const role = (prefix: string) => statementsOf(s, prefix);
    const writes = (prefix: string) => role(prefix).filter((st) => st.Action === 'elasticfilesystem:ClientWrite').flatMap((st) => st.Condition.StringEquals['elasticfilesystem:AccessPointArn'].map((a: unknown) => asText(a).replace(/^.*access-point\/<ScaledRedirectorStorageFiles([a-zA-Z]+)[0-9A-F]{8}>$/, '$1')));
    expect(writes('ScaledRedirectorTasksSyncTaskTaskRole')).toEqual(['repository', 'syncState']);
    expect(writes('ScaledRedirectorTasksGeoipTaskTaskRole')).toEqual(['geoip']);
    expect(writes('ScaledRedirectorTasksReconcileTaskTaskRole')).toEqual([]);
    expect(writes('ScaledRedirectorServiceTaskTaskRole')).toEqual([]);
    expect(actionsOf(role('ScaledRedirectorTasksGeoipTaskTaskRole'))).toEqual(['ecs:UpdateService', 'elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite']);
    expect(role('ScaledRedirectorTasksGeoipTaskTaskRole').find((st) => st.Action === 'ecs:UpdateService')!.Resource).toEqual({ Ref: only(s, 'AWS::ECS::Service')[0] });
    expect(actionsOf(role('ScaledRedirectorTasksReconcileTaskTaskRole'))).toEqual(['elasticfilesystem:ClientMount', 's3:GetObject']);
    expect(asText(role('ScaledRedirectorTasksReconcileTaskTaskRole').find((st) => st.Action === 's3:GetObject')!.Resource)).toMatch(/^arn:<AWS::Partition>:s3:::.*\/[0-9a-f]{64}\.json$/);
    expect(actionsOf(role('ScaledRedirectorTasksSyncTaskTaskRole'))).toEqual(['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite']);
    // Only ECS Exec's channel, which has no resource-level permissions, is granted on "*" by a task role.
    for (const prefix of ['ScaledRedirectorServiceTaskTaskRole', 'ScaledRedirectorTasksSyncTaskTaskRole', 'ScaledRedirectorTasksGeoipTaskTaskRole', 'ScaledRedirectorTasksReconcileTaskTaskRole']) {
      expect(role(prefix).filter((st) => st.Resource === '*').flatMap((st) => [st.Action].flat()).every((a) => a.startsWith('ssmmessages:'))).toBe(true);
    }
  });

  it('the trusted proxies nginx believes are the VPC\'s own addresses', () => {
    const [, vpc] = only(s, 'AWS::EC2::VPC', 'ScaledRedirector');
    expect(vpc.Properties.CidrBlock).toBe(SCALED_VPC_CIDR);
    const nginx = JSON.parse(asText(containersOf(s, 'ScaledRedirectorServiceTask').config.Environment[0].Value))['/run/mirrorfleet/nginx.conf'] as string;
    expect(nginx).toContain(`set_real_ip_from ${SCALED_VPC_CIDR};\n`);
    expect(nginx.match(/set_real_ip_from /g)).toHaveLength(1);
  });
});
