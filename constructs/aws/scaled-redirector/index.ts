import { Fn, Validations, aws_ecs as ecs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ProjectConfig } from '../../../lib/project/project';
import { scaledFiles } from '../../../lib/roles/redirector/scaled/files';
import { scaledTasks } from '../../../lib/roles/redirector/scaled/tasks';
import { ScaledAlarms } from './alarms';
import { ScaledImages } from './images';
import { SCALED_VPC_CIDR, ScaledNetwork } from './network';
import { ScaledRedis } from './redis';
import { ScaledService } from './service';
import { ScaledStorage } from './storage';
import { ScheduledTasks } from './tasks';

export interface ScaledRedirectorProps {
  /** The project, its redirector with `profile: scaled` (lib/project/redirector-scaled.ts). */
  readonly project: ProjectConfig;
}

/**
 * The project's redirector when one machine is outgrown (R5, docs/redirector-scaled.md): an ALB,
 * an ECS service on Fargate in two zones, ElastiCache for Redis, EFS for the copy and the GeoIP
 * databases, scheduled tasks for the sync, the GeoIP refresh and the reconciler, NAT gateways
 * with Elastic IPs as its fixed egress, and the single machine's alarms.
 */
export class ScaledRedirector extends Construct {
  public readonly network: ScaledNetwork;
  public readonly storage: ScaledStorage;
  public readonly redis: ScaledRedis;
  public readonly images: ScaledImages;
  public readonly cluster: ecs.Cluster;
  public readonly service: ScaledService;
  public readonly tasks: ScheduledTasks;
  public readonly alarms: ScaledAlarms;
  /** What the master's rsync must admit (R2): each NAT gateway's Elastic IP, each task subnet's /64. */
  public readonly rsyncSources: readonly string[];

  constructor(scope: Construct, id: string, props: ScaledRedirectorProps) {
    super(scope, id);
    const p = props.project;
    const r = p.redirector;
    if (!r?.scaled) throw new Error(`${p.file}: the redirector's profile is not scaled`);
    const host = r.node.hostname;

    this.network = new ScaledNetwork(this, 'Network', { hostname: host });
    const vpc = this.network.vpc;
    const subnets = this.network.privateSubnets;
    this.storage = new ScaledStorage(this, 'Storage', { vpc, subnets, hostname: host });
    this.redis = new ScaledRedis(this, 'Redis', { vpc, subnets, hostname: host, scaled: r.scaled });
    this.images = new ScaledImages(this, 'Images', { scaled: r.scaled });
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.DISABLED,
      // ECS Exec sessions are recorded by CloudTrail (ExecuteCommand); their output stays in the operator's terminal.
      executeCommandConfiguration: { logging: ecs.ExecuteCommandLogging.NONE },
    });
    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions-ECS4',
      reason: 'The alarms read the load balancer\'s healthy targets, ElastiCache\'s memory and the tasks\' own log lines, all free; Container Insights would add per-task custom metrics nobody alarms on.',
    });

    const files = scaledFiles(p, [SCALED_VPC_CIDR]);
    this.service = new ScaledService(this, 'Service', { project: p, vpc, subnets, cluster: this.cluster, images: this.images, storage: this.storage, redis: this.redis, files: files.service });
    this.tasks = new ScheduledTasks(this, 'Tasks', {
      project: p, vpc, subnets, cluster: this.cluster, service: this.service.service, images: this.images, storage: this.storage, redis: this.redis, tasks: scaledTasks(p, files),
    });
    const master = p.master.node;
    this.alarms = new ScaledAlarms(this, 'Alarms', {
      hostname: host,
      email: r.node.admin.email,
      masterUrl: `${master.https.enabled ? 'https' : 'http'}://${master.hostname}/`,
      minTasks: r.scaled.minTasks,
      accessLogs: this.service.logs.nginx,
      taskLogs: { sync: this.tasks.tasks.sync.logGroup, geoip: this.tasks.tasks.geoip.logGroup, reconcile: this.tasks.tasks.reconcile.logGroup },
      redisNodeIds: this.redis.nodeIds,
      targetGroup: this.service.targetGroup,
      certificate: this.service.certificate,
    });
    this.rsyncSources = [...this.network.egressIpv4.map((e) => Fn.join('', [e.ref, '/32'])), ...this.network.egressIpv6Cidrs];
  }
}
