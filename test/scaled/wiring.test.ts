import { createHash } from 'node:crypto';
import { REDIRECTOR_LAYOUT } from '../../lib/roles/redirector/layout';
import { renderDesiredMirrors } from '../../lib/roles/redirector/desired-mirrors';
import { REDIS_ADDRESS, scaledFiles } from '../../lib/roles/redirector/scaled/files';
import { TASKS_MIRRORBITS_BIN, tasksBuildContext } from '../../lib/roles/redirector/scaled/image';
import { SCALED_VPC_CIDR } from '../../constructs/aws/scaled-redirector/network';
import { Synthesized, deployTimeRsyncRules, asText, containersOf, environmentOf, ofType, only, synthScaled } from './synth-support';

/*
 * How the scaled redirector is wired (R2–R6): the task definitions pass each step the files and
 * environment the single machine's scripts read (asserted on the template against the renderers),
 * the schedules and the runs after a deploy, the NAT gateways' addresses in the outputs and in
 * the master's rsync rules, the load balancer's certificate, scaling, and the alarms.
 */
const REDIS = '<ScaledRedirectorRedis.PrimaryEndPoint.Address>:<ScaledRedirectorRedis.PrimaryEndPoint.Port>';
/** The template's text with logical ids' hash suffixes dropped. */
const plain = (text: string) => text.replace(/([A-Za-z])[0-9A-F]{8}([.>])/g, '$1$2');

describe('the scaled redirector\'s wiring', () => {
  let s: Synthesized;
  let zoned: Synthesized;
  beforeAll(() => {
    s = synthScaled();
    zoned = synthScaled((t) => t.replace('  hcloud:\n    sshKeys', '  aws:\n    hostedZone: { id: Z0123456789ABC, name: example.org }\n  hcloud:\n    sshKeys'));
  }, 90_000);

  const files = () => scaledFiles(s.project, [SCALED_VPC_CIDR]);
  /** The MIRRORFLEET_FILES a container carries, with the deploy's Redis endpoint as the renderers' stand-in. */
  const carried = (container: Record<string, any>) => JSON.parse(plain(environmentOf(container).MIRRORFLEET_FILES).split(REDIS).join(REDIS_ADDRESS));

  it('the service: the first container writes nginx\'s and mirrorbits\' configuration, then mirrorbits (the pinned image) and nginx start', () => {
    const c = containersOf(s, 'ScaledRedirectorServiceTask');
    expect(Object.keys(c).sort()).toEqual(['config', 'mirrorbits', 'nginx']);
    expect(c.config).toMatchObject({ Command: ['files'], Essential: false });
    expect(carried(c.config)).toEqual(files().service);
    expect(plain(environmentOf(c.config).MIRRORFLEET_FILES)).toContain(`RedisAddress: \\"${REDIS}\\"`);
    const r = s.project.redirector!.scaled!;
    expect(c.mirrorbits).toMatchObject({ Image: r.image, EntryPoint: [r.imageBinary], Command: ['daemon', '-config', '/run/mirrorfleet/mirrorbits.conf'], Essential: true, DependsOn: [{ ContainerName: 'config', Condition: 'SUCCESS' }] });
    expect(c.mirrorbits.LinuxParameters.InitProcessEnabled).toBe(true);
    expect(c.nginx).toMatchObject({ EntryPoint: ['nginx'], Command: ['-c', '/run/mirrorfleet/nginx.conf'], Essential: true });
    expect(asText(c.nginx.Image)).toBe(asText(c.config.Image));
  });

  it('the sync task: mirror-sync with the rendered tree file, its own mirrorbits on Redis, the copy and its state written on EFS', () => {
    const c = containersOf(s, 'ScaledRedirectorTasksSyncTask').task;
    expect(c.Command).toEqual(['sync']);
    const env = environmentOf(c);
    expect({ ...env, MIRRORFLEET_FILES: undefined }).toEqual({
      MIRRORFLEET_FILES: undefined,
      METRICS_DIR: '/run/mirrorfleet/metrics',
      MIRRORBITS_BIN: TASKS_MIRRORBITS_BIN,
      MIRRORBITS_CONF: '/run/mirrorfleet/mirrorbits.conf',
      MIRRORBITS_RPC: REDIRECTOR_LAYOUT.mirrorbitsRpc,
      REDIRECTOR_ENV: '/run/mirrorfleet/redirector/redirector.env',
      TREE_CONF: '/run/mirrorfleet/trees/xcp-ng.conf',
    });
    expect(carried(c)).toEqual(files().sync);
    expect(files().sync['/run/mirrorfleet/trees/xcp-ng.conf']).toContain('UPSTREAM=rsync://master.example.org/xcp-ng/\n');
    expect(files().sync['/run/mirrorfleet/redirector/redirector.env']).toContain(`MIRRORBITS_BIN=${TASKS_MIRRORBITS_BIN}\n`);
    expect(c.MountPoints.map((m: { ContainerPath: string; ReadOnly: boolean }) => `${m.ContainerPath} ${m.ReadOnly ? 'ro' : 'rw'}`).sort()).toEqual([
      '/srv/mirror/xcp-ng rw', '/var/lib/mirrorfleet/geoip ro', '/var/lib/mirrorfleet/sync/xcp-ng rw',
    ]);
  });

  it('the GeoIP task: the licence key as a secret from SSM, the key file the script reads, the service to restart', () => {
    const c = containersOf(s, 'ScaledRedirectorTasksGeoipTask').task;
    expect(c.Command).toEqual(['geoip']);
    expect(c.Secrets.map((x: { Name: string; ValueFrom: unknown }) => [x.Name, asText(x.ValueFrom)])).toEqual([
      ['MAXMIND_LICENSE_KEY', 'arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/mirrorfleet/maxmind-license-key'],
    ]);
    const env = environmentOf(c);
    expect(plain(env.ECS_SERVICE)).toBe('<ScaledRedirectorService.Name>');
    expect(plain(env.ECS_CLUSTER)).toBe('<ScaledRedirectorCluster>');
    expect(env.AWS_REGION).toBe('<AWS::Region>');
    expect(carried(c)).toEqual(files().geoip);
    expect(files().geoip['/run/mirrorfleet/redirector/redirector.env']).toMatch(/\nGEOIP_KEY_SOURCE=file\nGEOIP_KEY_FILE=\/etc\/mirrorfleet\/secrets\/maxmind-license-key\n/);
    expect(JSON.stringify(c)).not.toMatch(/licen[cs]e-?key[^"]*":\s*"[A-Za-z0-9]{16,}/i);
  });

  it('the reconcile task: this deploy\'s mirror list from S3 with its sha256, its own mirrorbits on Redis', () => {
    const c = containersOf(s, 'ScaledRedirectorTasksReconcileTask').task;
    expect(c.Command).toEqual(['reconcile']);
    const env = environmentOf(c);
    expect(env.MIRROR_LIST_SHA256).toBe(createHash('sha256').update(renderDesiredMirrors(s.project.mirrorList)).digest('hex'));
    expect(env.MIRROR_LIST_URL).toMatch(/^s3:\/\/cdk-.*-assets-.*\/[0-9a-f]{64}\.json$/);
    expect(carried(c)).toEqual(files().reconcile);
  });

  it('every script a step runs is in the tasks image', () => {
    const { files: context, missing } = tasksBuildContext();
    const shipped = context.map((f) => f.path.replace(/^bin\//, ''));
    const task = context.find((f) => f.path === 'bin/mirrorfleet-task')!.content;
    const called = ['mirror-sync', 'mirrorfleet-repo-refresh', 'mirrorfleet-redirector-metrics', 'mirrorfleet-geoip', 'mirrorfleet-reconcile', 'mirrorfleet-aws'];
    for (const script of called) expect(task).toMatch(new RegExp(`(^|\\s)${script} (gauges )?"\\$`, 'm'));
    // The reconciler comes with the mirror-list work; until then it is the one script named missing.
    expect(called.filter((c) => !shipped.includes(c))).toEqual(missing);
    expect(missing.every((m) => m === 'mirrorfleet-reconcile')).toBe(true);
    expect(shipped).toContain('mirror-post-sync');
  });

  it('schedules: the sync at the repoSync cadence, GeoIP weekly, the reconciler hourly, each its own task on the private subnets', () => {
    const schedules = ofType(s, 'AWS::Scheduler::Schedule').map(([, x]) => [plain(asText(x.Properties.Target.EcsParameters.TaskDefinitionArn)), x.Properties.ScheduleExpression, x.Properties.ScheduleExpressionTimezone]);
    expect(schedules.sort()).toEqual([
      ['<ScaledRedirectorTasksGeoipTask>', 'cron(17 3 ? * WED *)', 'UTC'],
      ['<ScaledRedirectorTasksReconcileTask>', 'rate(1 hour)', 'Etc/UTC'],
      ['<ScaledRedirectorTasksSyncTask>', 'rate(5 minutes)', 'Etc/UTC'],
    ]);
    for (const [, x] of ofType(s, 'AWS::Scheduler::Schedule')) {
      expect(x.Properties.Target.EcsParameters).toMatchObject({ LaunchType: 'FARGATE', NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } } });
      expect(x.Properties.Target.EcsParameters.NetworkConfiguration.AwsvpcConfiguration.Subnets.map((n: unknown) => plain(asText(n)))).toEqual(['<ScaledRedirectorNetworkVpctasksSubnet1Subnet>', '<ScaledRedirectorNetworkVpctasksSubnet2Subnet>']);
    }
    const every4h = synthScaled((t) => t.replace('  repoSync: every 5 minutes', '  repoSync: every 4 hours from 01:30\n  timezone: Europe/Paris').replace('preset: xcp-ng', 'preset: gentoo'));
    const sync = ofType(every4h, 'AWS::Scheduler::Schedule').find(([, x]) => /Sync/.test(asText(x.Properties.Target.EcsParameters.TaskDefinitionArn)))![1];
    expect([sync.Properties.ScheduleExpression, sync.Properties.ScheduleExpressionTimezone]).toEqual(['cron(30 1/4 * * ? *)', 'Europe/Paris']);
  }, 60_000);

  it('after a deploy: the reconciler after each, the GeoIP refresh after the first, matched on this stack\'s CloudFormation events', () => {
    const rules = ofType(s, 'AWS::Events::Rule', 'ScaledRedirector').map(([, r]) => r.Properties);
    expect(rules.map((r) => [plain(asText(r.Targets[0].EcsParameters.TaskDefinitionArn)), r.EventPattern.detail['status-details'].status]).sort()).toEqual([
      ['<ScaledRedirectorTasksGeoipTask>', ['CREATE_COMPLETE']],
      ['<ScaledRedirectorTasksReconcileTask>', ['CREATE_COMPLETE', 'UPDATE_COMPLETE']],
    ]);
    for (const r of rules) {
      expect(r.EventPattern).toMatchObject({ source: ['aws.cloudformation'], 'detail-type': ['CloudFormation Stack Status Change'], detail: { 'stack-id': [{ Ref: 'AWS::StackId' }] } });
    }
  });

  it('fixed egress: a NAT gateway per zone with our Elastic IP, named in the outputs and admitted by the master\'s rsync', () => {
    const eips = ofType(s, 'AWS::EC2::EIP', 'ScaledRedirectorNetworkEgress').map(([id]) => id);
    expect(eips).toHaveLength(2);
    const nats = ofType(s, 'AWS::EC2::NatGateway').map(([, n]) => asText(n.Properties.AllocationId));
    expect(nats.sort()).toEqual(eips.map((e) => `<${e}.AllocationId>`).sort());
    const out = s.template.toJSON().Outputs;
    expect(asText(out.RedirectorEgressIpv4.Value)).toBe(eips.map((e) => `<${e}>`).join(' '));
    expect(plain(asText(out.RedirectorEgressIpv6.Value))).toMatch(/^\S+\/64 \S+\/64$/);
    const { v4, v6 } = deployTimeRsyncRules(s.template);
    expect(v4.map((r) => r.replace(/[0-9A-F]{8}"/, '"'))).toEqual(['{"Fn::Join":["",[{"Ref":"ScaledRedirectorNetworkEgressa"},"/32"]]}', '{"Fn::Join":["",[{"Ref":"ScaledRedirectorNetworkEgressb"},"/32"]]}']);
    expect(v6).toHaveLength(2);
    for (const r of v6) expect(r).toMatch(/ScaledRedirectorNetworkVpctasksSubnet\dSubnet.*"\/64"/);
    const acl = asText(only(s, 'AWS::SSM::Parameter', 'MasterRsyncAcl')[1].Properties.Value);
    for (const e of eips) expect(acl).toContain(`public <${e}>/32\n`);
    expect(ofType(s, 'AWS::EC2::Instance').map(([id]) => id)).toEqual([expect.stringMatching(/^MasterInstance/)]);
  });

  it('the certificate: DNS validation in the hosted zone with alias records when one is given, else the CNAME the operator adds', () => {
    expect(only(s, 'AWS::CertificateManager::Certificate')[1].Properties).toEqual({ DomainName: 'download.example.org', ValidationMethod: 'DNS', Tags: expect.any(Array) });
    expect(ofType(s, 'AWS::Route53::RecordSet')).toEqual([]);
    const cert = only(zoned, 'AWS::CertificateManager::Certificate')[1].Properties;
    expect(cert.DomainValidationOptions).toEqual([{ DomainName: 'download.example.org', HostedZoneId: 'Z0123456789ABC' }]);
    const records = ofType(zoned, 'AWS::Route53::RecordSet').map(([id, r]) => [id, r.Properties.Type, r.Properties.Name, plain(asText(r.Properties.AliasTarget.DNSName))]);
    expect(records.map(([, ...rest]) => rest).sort()).toEqual([
      ['A', 'download.example.org.', 'dualstack.<ScaledRedirectorServiceLoadBalancer.DNSName>'],
      ['AAAA', 'download.example.org.', 'dualstack.<ScaledRedirectorServiceLoadBalancer.DNSName>'],
    ]);
    // The one switch updates the single machine's two records in place: the same logical ids.
    const singleZoned = synthScaled((t) => t.replace('  profile: scaled\n', '  profile: single\n').replace('  hcloud:\n    sshKeys', '  aws:\n    hostedZone: { id: Z0123456789ABC, name: example.org }\n  hcloud:\n    sshKeys'));
    const singleRecords = ofType(singleZoned, 'AWS::Route53::RecordSet', 'Redirector').map(([id, r]) => [id, r.Properties.Type]);
    expect(records.map(([id, type]) => [id, type]).sort()).toEqual(singleRecords.sort());
  }, 60_000);

  it('moving from one machine (keepSingleMachine): both run, the machine keeps the DNS records, the master admits both', () => {
    const both = synthScaled((t) => t.replace('    maxTasks: 6\n', '    maxTasks: 6\n    keepSingleMachine: true\n').replace('  hcloud:\n    sshKeys', '  aws:\n    hostedZone: { id: Z0123456789ABC, name: example.org }\n  hcloud:\n    sshKeys'));
    expect(ofType(both, 'AWS::EC2::Instance').map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['MasterInstance', 'RedirectorInstance']);
    expect(ofType(both, 'AWS::ECS::Service')).toHaveLength(1);
    expect(ofType(both, 'AWS::Route53::RecordSet').map(([, r]) => r.Properties.ResourceRecords.map(asText)[0].replace(/[0-9A-F]{8}(\.|>)/, '$1')).sort()).toEqual(['<RedirectorInterface.PrimaryIpv6Address>', '<RedirectorIpv4>']);
    const { v4, v6 } = deployTimeRsyncRules(both.template);
    expect([v4.length, v6.length]).toEqual([3, 3]);
    const out = Object.keys(both.template.toJSON().Outputs);
    expect(out).toEqual(expect.arrayContaining(['RedirectorIpv4Address', 'RedirectorLoadBalancer', 'RedirectorEgressIpv4', 'RedirectorUrl']));
  }, 60_000);

  it('two tasks at least, spread over the two zones\' private subnets, scaled on CPU and on requests per task', () => {
    const [, service] = only(s, 'AWS::ECS::Service');
    expect(service.Properties).toMatchObject({ DesiredCount: 2, LaunchType: 'FARGATE', EnableExecuteCommand: true, DeploymentConfiguration: { MinimumHealthyPercent: 100, DeploymentCircuitBreaker: { Enable: true, Rollback: true } } });
    expect(service.Properties.NetworkConfiguration.AwsvpcConfiguration.Subnets).toHaveLength(2);
    const [, target] = only(s, 'AWS::ApplicationAutoScaling::ScalableTarget');
    expect([target.Properties.MinCapacity, target.Properties.MaxCapacity]).toEqual([2, 6]);
    const policies = ofType(s, 'AWS::ApplicationAutoScaling::ScalingPolicy').map(([, p]) => p.Properties.TargetTrackingScalingPolicyConfiguration);
    expect(policies.map((p) => [p.PredefinedMetricSpecification.PredefinedMetricType, p.TargetValue]).sort()).toEqual([['ALBRequestCountPerTarget', 20000], ['ECSServiceAverageCPUUtilization', 60]]);
  });

  it('the single machine\'s alarms, from the ALB, ElastiCache, ACM and the tasks\' logs', () => {
    const alarms = ofType(s, 'AWS::CloudWatch::Alarm', 'ScaledRedirector').map(([, a]) => a.Properties.AlarmDescription as string);
    for (const what of ['at least one mirror down', 'Redis above 80%', 'GeoIP databases older than 14 days', 'reconcile of the mirror list failed', 'more than 10% of requests sent to the master', 'TLS certificate for download.example.org expires in less than 21 days', 'fewer than 2 healthy tasks']) {
      expect(alarms.filter((a) => a.startsWith('mirrorfleet download.example.org: ') && a.includes(what))).toHaveLength(1);
    }
    const filters = ofType(s, 'AWS::Logs::MetricFilter').map(([, f]) => [plain(asText(f.Properties.LogGroupName)), f.Properties.FilterPattern, f.Properties.MetricTransformations[0].MetricName, f.Properties.MetricTransformations[0].MetricValue]);
    expect(filters.sort()).toEqual([
      ['<ScaledRedirectorServiceNginxLogs>', '[client, time, request, status = 302, bytes, location = "https://master.example.org/*", agent != "ELB-HealthChecker*", duration]', 'mirrorfleet_redirector_fallbacks', '1'],
      ['<ScaledRedirectorServiceNginxLogs>', '[client, time, request, status, bytes, location, agent != "ELB-HealthChecker*", duration]', 'mirrorfleet_redirector_requests', '1'],
      ['<ScaledRedirectorTasksReconcileLogs>', '{ $.mirrorfleet_task = "reconcile" }', 'mirrorfleet_redirector_reconcile_success', '$.success'],
      ['<ScaledRedirectorTasksSyncLogs>', '{ $.mirrorfleet_task = "sync" }', 'mirrorfleet_geoip_age_days', '$.mirrorfleet_geoip_age_days'],
      ['<ScaledRedirectorTasksSyncLogs>', '{ $.mirrorfleet_task = "sync" }', 'mirrorfleet_redirector_mirrors_down', '$.mirrorfleet_redirector_mirrors_down'],
    ]);
    const redis = ofType(s, 'AWS::CloudWatch::Alarm', 'ScaledRedirector').find(([, a]) => /Redis above/.test(a.Properties.AlarmDescription))![1];
    const nodes = (redis.Properties.Metrics as { MetricStat?: { Metric: { MetricName: string; Dimensions: { Value: unknown }[] } } }[]).filter((m) => m.MetricStat)
      .map((m) => `${m.MetricStat!.Metric.MetricName} ${plain(asText(m.MetricStat!.Metric.Dimensions[0].Value))}`);
    expect(nodes).toEqual(['DatabaseMemoryUsagePercentage <ScaledRedirectorRedis>-001', 'DatabaseMemoryUsagePercentage <ScaledRedirectorRedis>-002']);
  });
});
