/*
 * The obvious alternative bench/scaled-synth.ts compares `cdk synth` of the scaled redirector
 * with: a bare CDK app with one ECS service (a VPC, a cluster, one Fargate service of one
 * container), no config loading, no renderers, no checks.
 */
import { App, Stack, aws_ec2 as ec2, aws_ecs as ecs } from 'aws-cdk-lib';

const app = new App();
const stack = new Stack(app, 'BareEcs');
const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
const task = new ecs.FargateTaskDefinition(stack, 'Task');
task.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:1.27'), portMappings: [{ containerPort: 80 }] });
new ecs.FargateService(stack, 'Service', { cluster, taskDefinition: task, desiredCount: 2 });
app.synth();
