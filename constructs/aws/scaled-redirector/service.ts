import { Duration, RemovalPolicy, Validations, aws_certificatemanager as acm, aws_ec2 as ec2, aws_ecs as ecs, aws_elasticloadbalancingv2 as elbv2, aws_logs as logs, aws_route53 as route53, aws_route53_targets as targets } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ProjectConfig } from '../../../lib/project/project';
import { redirectorIngress } from '../../../lib/roles/redirector/role';
import { NGINX_CONF, TASK_FILES_DIR, efsMounts } from '../../../lib/roles/redirector/scaled/layout';
import { HostFirewall } from '../host-firewall';
import { ScaledImages, cpuArchitecture } from './images';
import { ScaledRedis } from './redis';
import { ScaledStorage } from './storage';
import { withRedis } from './values';

export interface ScaledServiceProps {
  readonly project: ProjectConfig;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly cluster: ecs.ICluster;
  readonly images: ScaledImages;
  readonly storage: ScaledStorage;
  readonly redis: ScaledRedis;
  /** The files the first container writes (lib/roles/redirector/scaled/files.ts). */
  readonly files: Readonly<Record<string, string>>;
}

const CONFIG_VOLUME = 'config';

/**
 * The redirector as an ECS service on Fargate behind an ALB (R1, R5, R7): at least two tasks,
 * spread over the two zones, each running nginx (the single machine's site, the VPC its only
 * trusted proxy) and mirrorbits (the infra team's image) on the task's loopback; the ALB answers
 * HTTP and HTTPS on IPv4 and IPv6 and forwards to nginx's port 80 only, checking /healthz.
 * Tasks are added on CPU or on requests per task.
 */
export class ScaledService extends Construct {
  public readonly service: ecs.FargateService;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly certificate: acm.Certificate;
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly loadBalancerFirewall: HostFirewall;
  /** nginx's log (the access log the metrics read) apart from mirrorbits' (and the config writer's). */
  public readonly logs: { readonly nginx: logs.LogGroup; readonly mirrorbits: logs.LogGroup };

  constructor(scope: Construct, id: string, props: ScaledServiceProps) {
    super(scope, id);
    const r = props.project.redirector!;
    const s = r.scaled!;
    const host = r.node.hostname;
    const mounts = efsMounts(r);

    const task = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: s.taskCpu,
      memoryLimitMiB: s.taskMemoryMiB,
      runtimePlatform: { cpuArchitecture: cpuArchitecture(s), operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      volumes: [{ name: CONFIG_VOLUME }],
    });
    const group = (name: string) => new logs.LogGroup(this, name, { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    this.logs = { nginx: group('NginxLogs'), mirrorbits: group('MirrorbitsLogs') };
    const logging = (prefix: 'config' | 'mirrorbits' | 'nginx') => ecs.LogDrivers.awsLogs({ logGroup: prefix === 'nginx' ? this.logs.nginx : this.logs.mirrorbits, streamPrefix: prefix });
    const config = task.addContainer('config', {
      image: props.images.tasks,
      essential: false,
      command: ['files'],
      environment: { MIRRORFLEET_FILES: withRedis(JSON.stringify(props.files), props.redis.address) },
      logging: logging('config'),
    });
    config.addMountPoints({ sourceVolume: CONFIG_VOLUME, containerPath: TASK_FILES_DIR, readOnly: false });

    const mirrorbits = task.addContainer('mirrorbits', {
      image: props.images.mirrorbits,
      entryPoint: [s.imageBinary],
      command: ['daemon', '-config', `${TASK_FILES_DIR}/mirrorbits.conf`],
      essential: true,
      // Its rsync scans of the mirrors leave children: an init reaps them.
      linuxParameters: new ecs.LinuxParameters(this, 'MirrorbitsLinux', { initProcessEnabled: true }),
      logging: logging('mirrorbits'),
    });
    mirrorbits.addContainerDependencies({ container: config, condition: ecs.ContainerDependencyCondition.SUCCESS });
    mirrorbits.addMountPoints({ sourceVolume: CONFIG_VOLUME, containerPath: TASK_FILES_DIR, readOnly: true });
    props.storage.attach(task, mirrorbits, mounts, { repository: 'read', geoip: 'read' });

    const nginx = task.addContainer('nginx', {
      image: props.images.tasks,
      entryPoint: ['nginx'],
      command: ['-c', NGINX_CONF],
      essential: true,
      portMappings: [{ containerPort: 80, name: 'http' }],
      logging: logging('nginx'),
    });
    nginx.addContainerDependencies({ container: config, condition: ecs.ContainerDependencyCondition.SUCCESS });
    nginx.addMountPoints({ sourceVolume: CONFIG_VOLUME, containerPath: TASK_FILES_DIR, readOnly: true });
    props.storage.mount(task, nginx, mounts, { repository: 'read' });

    this.securityGroup = new ec2.SecurityGroup(this, 'Firewall', { vpc: props.vpc, description: `mirrorfleet ${host}: the redirector service tasks (nginx from the load balancer only)`, allowAllOutbound: true, allowAllIpv6Outbound: true });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: task,
      desiredCount: s.minTasks,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      assignPublicIp: false,
      circuitBreaker: { enable: true, rollback: true },
      // Operators run mirrorbits' CLI in a task (aws ecs execute-command): the RPC never leaves it.
      enableExecuteCommand: true,
      healthCheckGracePeriod: Duration.seconds(120),
    });
    props.redis.allowFrom(this.securityGroup, 'the service\'s mirrorbits');
    Validations.of(task.taskRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ECS Exec (aws ecs execute-command) opens its channel with ssmmessages:Create/OpenControlChannel and DataChannel, which have no resource-level permissions; it is how operators run the mirrorbits CLI, whose RPC never leaves the task (R7).',
    });
    acknowledgeTaskDefinition(task);
    props.storage.allowFrom(this.securityGroup, 'the service');

    // The load balancer's own firewall is built from the redirector's ingress table: 80 and 443 for all.
    this.loadBalancerFirewall = new HostFirewall(this, 'LoadBalancerFirewall', { vpc: props.vpc, ingress: redirectorIngress(), description: `mirrorfleet ${host}: load balancer, HTTP and HTTPS` });
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: true,
      ipAddressType: elbv2.IpAddressType.DUAL_STACK,
      securityGroup: this.loadBalancerFirewall.securityGroup,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      dropInvalidHeaderFields: true,
      // The ALB appends the client to X-Forwarded-For; nginx trusts only the VPC's entries (R7).
      xffHeaderProcessingMode: elbv2.XffHeaderProcessingMode.APPEND,
    });
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason: 'Every request is logged by nginx in the tasks (client address after the trusted-proxy step, status, the mirror it was sent to) to CloudWatch Logs, where the fallback-rate metric is read; ALB access logs would repeat it in S3.',
    });

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'Targets', {
      vpc: props.vpc,
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      // nginx's own answer: a Redis outage must not take every task out of the balancer.
      healthCheck: { path: '/healthz', healthyHttpCodes: '200', interval: Duration.seconds(15), healthyThresholdCount: 2, unhealthyThresholdCount: 3 },
      deregistrationDelay: Duration.seconds(15),
      targets: [this.service.loadBalancerTarget({ containerName: 'nginx', containerPort: 80 })],
    });

    const zone = r.node.aws.hostedZone && route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId: r.node.aws.hostedZone.id, zoneName: r.node.aws.hostedZone.name });
    this.certificate = new acm.Certificate(this, 'Certificate', {
      domainName: host,
      validation: zone ? acm.CertificateValidation.fromDns(zone) : acm.CertificateValidation.fromDns(),
    });
    // HTTP stays HTTP: netinstall and yum clients (N1); mirrorbits picks HTTP or HTTPS mirrors by the scheme.
    this.loadBalancer.addListener('Http', { port: 80, protocol: elbv2.ApplicationProtocol.HTTP, defaultTargetGroups: [this.targetGroup] });
    this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [this.certificate],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      defaultTargetGroups: [this.targetGroup],
    });
    const scaling = this.service.autoScaleTaskCount({ minCapacity: s.minTasks, maxCapacity: s.maxTasks });
    scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: s.scaleAtCpuPercent });
    scaling.scaleOnRequestCount('Requests', { requestsPerTarget: s.scaleAtRequestsPerTask, targetGroup: this.targetGroup });
  }
}

/** What every task definition of the scaled redirector carries, and why. */
export function acknowledgeTaskDefinition(task: ecs.TaskDefinition): void {
  Validations.of(task).acknowledge({
    id: 'AwsSolutions-ECS2',
    reason: 'The environment holds the configuration files the containers write at start (nginx, mirrorbits, the sync\'s tree file): host names, paths and ElastiCache\'s endpoint, nothing secret. The one secret, the MaxMind licence key, comes through `secrets` from SSM to the GeoIP task only.',
  });
  Validations.of(task.obtainExecutionRole()).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'ecr:GetAuthorizationToken, which pulls the tasks image from the CDK assets repository, has no resource-level permissions; the layer pulls are limited to that repository.',
  });
}

/**
 * The download name's A and AAAA records as aliases of the load balancer, under `scope`. The
 * project stack gives the same construct path the single machine's records have, so switching
 * profiles updates the two records in place (a new record of the same name could not be created
 * before the old one is deleted).
 */
export function loadBalancerRecords(scope: Construct, hostname: string, zone: { id: string; name: string }, loadBalancer: elbv2.ILoadBalancerV2): void {
  const hosted = route53.HostedZone.fromHostedZoneAttributes(scope, 'Zone', { hostedZoneId: zone.id, zoneName: zone.name });
  const target = route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(loadBalancer as elbv2.ApplicationLoadBalancer));
  new route53.ARecord(scope, 'ARecord', { zone: hosted, recordName: `${hostname}.`, target });
  new route53.AaaaRecord(scope, 'AaaaRecord', { zone: hosted, recordName: `${hostname}.`, target });
}
