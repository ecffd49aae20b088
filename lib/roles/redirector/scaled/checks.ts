import type { ProjectCheck } from '../../../project/project';

/**
 * The scaled profile is built from AWS's managed engines (ALB, ECS on Fargate, ElastiCache, EFS):
 * on Hetzner Cloud, which has none of them, it is a config error at the profile's line.
 */
export const checkScaledOnHcloud: ProjectCheck = (p) =>
  p.redirector?.profile === 'scaled'
    ? [{ path: ['redirector', 'profile'], allowed: 'single on Hetzner Cloud: the scaled profile runs on AWS (ALB, ECS on Fargate, ElastiCache, EFS), which Hetzner Cloud does not offer; deploy it with npx cdk deploy -c project=project.yaml' }]
    : [];
