import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { Aws, CfnElement, RemovalPolicy, Stack, TimeZone, Validations, aws_ec2 as ec2, aws_ecs as ecs, aws_events as events, aws_events_targets as eventTargets, aws_iam as iam, aws_logs as logs, aws_s3_assets as s3assets, aws_scheduler as scheduler, aws_scheduler_targets as schedulerTargets, aws_ssm as ssm } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ProjectConfig } from '../../../lib/project/project';
import { renderDesiredMirrors } from '../../../lib/roles/redirector/desired-mirrors';
import { efsMounts } from '../../../lib/roles/redirector/scaled/layout';
import type { ScaledTask, Step } from '../../../lib/roles/redirector/scaled/tasks';
import { ScaledImages, cpuArchitecture } from './images';
import { acknowledgeTaskDefinition } from './service';
import { ScaledRedis } from './redis';
import { ScaledStorage } from './storage';
import { withRedis } from './values';

export interface ScheduledTasksProps {
  readonly project: ProjectConfig;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly cluster: ecs.ICluster;
  readonly service: ecs.FargateService;
  readonly images: ScaledImages;
  readonly storage: ScaledStorage;
  readonly redis: ScaledRedis;
  readonly tasks: readonly ScaledTask[];
}

export interface ScheduledTask {
  readonly definition: ecs.FargateTaskDefinition;
  readonly securityGroup: ec2.SecurityGroup;
  readonly logGroup: logs.LogGroup;
}

/**
 * The scaled redirector's scheduled tasks (R2–R4): each a Fargate task of our image running one
 * step of mirrorfleet-task on EventBridge Scheduler's clock; the reconciler also after each
 * deploy, the GeoIP refresh after the first (EventBridge's CloudFormation events). Each task has
 * its own roles and security group: only sync and reconcile reach Redis, only sync writes the
 * copy, only the GeoIP task reads the licence key and may restart the service.
 */
export class ScheduledTasks extends Construct {
  public readonly tasks: Readonly<Record<Step, ScheduledTask>>;

  constructor(scope: Construct, id: string, props: ScheduledTasksProps) {
    super(scope, id);
    const r = props.project.redirector!;
    const host = r.node.hostname;
    const list = this.mirrorList(props.project);
    const made = {} as Record<Step, ScheduledTask>;
    for (const t of props.tasks) {
      const name = t.step[0].toUpperCase() + t.step.slice(1);
      const scope = new Construct(this, name);
      const definition = new ecs.FargateTaskDefinition(scope, 'Task', {
        cpu: t.cpu,
        memoryLimitMiB: t.memoryMiB,
        runtimePlatform: { cpuArchitecture: cpuArchitecture(r.scaled!), operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      });
      const logGroup = new logs.LogGroup(scope, 'Logs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
      const environment: Record<string, string> = Object.fromEntries(Object.entries(t.environment).map(([k, v]) => [k, withRedis(v, props.redis.address)]));
      const secrets: Record<string, ecs.Secret> = {};
      if (t.step === 'geoip') {
        // The licence key: an SSM SecureString the operator creates, handed to this task only.
        const key = ssm.StringParameter.fromSecureStringParameterAttributes(scope, 'LicenceKey', { parameterName: r.geoip.licenseKeyParameter });
        secrets.MAXMIND_LICENSE_KEY = ecs.Secret.fromSsmParameter(key);
        Object.assign(environment, { ECS_CLUSTER: props.cluster.clusterName, ECS_SERVICE: props.service.serviceName, AWS_REGION: Aws.REGION });
        definition.addToTaskRolePolicy(new iam.PolicyStatement({ actions: ['ecs:UpdateService'], resources: [props.service.serviceArn] }));
      }
      if (t.step === 'reconcile') {
        Object.assign(environment, { MIRROR_LIST_URL: list.asset.s3ObjectUrl, MIRROR_LIST_SHA256: list.sha256, AWS_REGION: Aws.REGION });
        definition.addToTaskRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [list.asset.bucket.arnForObjects(list.asset.s3ObjectKey)] }));
      }
      const container = definition.addContainer('task', {
        image: props.images.tasks,
        command: [t.step],
        essential: true,
        environment,
        secrets,
        logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: t.step }),
      });
      props.storage.attach(definition, container, efsMounts(r), t.efs);
      acknowledgeTaskDefinition(definition);
      const securityGroup = new ec2.SecurityGroup(scope, 'Firewall', { vpc: props.vpc, description: `mirrorfleet ${host}: the ${t.step} task (no ingress)`, allowAllOutbound: true, allowAllIpv6Outbound: true });
      props.storage.allowFrom(securityGroup, `the ${t.step} task`);
      if (t.redis) props.redis.allowFrom(securityGroup, `the ${t.step} task's mirrorbits`);

      const run = { taskDefinition: definition, vpcSubnets: props.subnets, securityGroups: [securityGroup], assignPublicIp: false };
      new scheduler.Schedule(scope, 'Schedule', {
        description: `mirrorfleet ${host}: ${t.description}`,
        schedule: scheduler.ScheduleExpression.expression(t.schedule.expression, t.schedule.timezone ? TimeZone.of(t.schedule.timezone) : undefined),
        target: new schedulerTargets.EcsRunFargateTask(props.cluster, run),
      });
      if (t.afterDeploy) {
        const afterDeployRole = this.eventsRole(scope, definition, props.cluster);
        new events.Rule(scope, 'AfterDeploy', {
          description: `mirrorfleet ${host}: the ${t.step} task after ${t.afterDeploy === 'every' ? 'each deploy' : 'the first deploy'}`,
          eventPattern: {
            source: ['aws.cloudformation'],
            detailType: ['CloudFormation Stack Status Change'],
            detail: { 'stack-id': [Aws.STACK_ID], 'status-details': { status: t.afterDeploy === 'every' ? ['CREATE_COMPLETE', 'UPDATE_COMPLETE'] : ['CREATE_COMPLETE'] } },
          },
          targets: [new eventTargets.EcsTask({ role: afterDeployRole, cluster: props.cluster, taskDefinition: definition, subnetSelection: props.subnets, securityGroups: [securityGroup], assignPublicIp: false, launchType: ecs.LaunchType.FARGATE })],
        });
      }
      made[t.step] = { definition, securityGroup, logGroup };
    }
    this.tasks = made;
  }

  /**
   * The role EventBridge runs the task with after a deploy: RunTask of this definition on this
   * cluster, and passing its two roles. (CDK's default adds TagResource on every task of the cluster.)
   */
  private eventsRole(scope: Construct, definition: ecs.FargateTaskDefinition, cluster: ecs.ICluster): iam.Role {
    const role = new iam.Role(scope, 'AfterDeployRole', { assumedBy: new iam.ServicePrincipal('events.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['ecs:RunTask'], resources: [definition.taskDefinitionArn], conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } } }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: [definition.taskRole.roleArn, definition.obtainExecutionRole().roleArn] }));
    const clusterId = Stack.of(this).getLogicalId(cluster.node.defaultChild as CfnElement);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:*:task/<${clusterId}>/*]`,
      reason: 'The EventBridge ECS target tags the task it starts (ecs:TagResource), whose ARN exists only once it runs: the grant names this cluster\'s tasks; RunTask itself is limited to this task definition on this cluster.',
    });
    return role;
  }

  /** The mirror list of this deploy as an S3 asset; its sha256 rides in the reconciler's environment. */
  private mirrorList(p: ProjectConfig): { asset: s3assets.Asset; sha256: string } {
    const text = renderDesiredMirrors(p.mirrorList);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirrorfleet-mirrors-'));
    try {
      fs.writeFileSync(path.join(dir, 'mirrors.json'), text);
      return { asset: new s3assets.Asset(this, 'MirrorList', { path: path.join(dir, 'mirrors.json') }), sha256: createHash('sha256').update(text).digest('hex') };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}
