import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderAwsScript } from '../../../host/aws/aws-host';
import { ASSETS_DIR } from '../../../host/files';
import { SYNC_ENGINE_SCRIPTS } from '../../../render/node-files';
import type { ScaledConfig } from '../../../project/redirector-scaled';
import { SCALED_LAYOUT } from './layout';

/*
 * The image the scaled redirector's own containers run (R5): nginx in the service, the scheduled
 * tasks, the service's first container that writes the configuration. Debian 12 (the nginx the
 * tests run), the single machine's scripts, and mirrorbits' binary and templates copied from the
 * infra team's image, so the tasks' CLI is the service's own version. `cdk deploy` builds it (a
 * CDK image asset); `cdk synth` only stages this build context (docs/adr/0066).
 */

export const TASKS_BASE_IMAGE = 'debian:12-slim';
/** Debian 12 packages: nginx, the sync's rsync, the GeoIP download's curl, the file writer's python3, S3 and ECS calls' awscli. */
export const TASKS_PACKAGES = ['nginx', 'rsync', 'curl', 'ca-certificates', 'python3', 'awscli'] as const;
/** Where the tasks' scripts (redirector.env, reconcile.env) expect mirrorbits. */
export const TASKS_MIRRORBITS_BIN = `${SCALED_LAYOUT.mirrorbitsDir}/mirrorbits`;

/** The single machine's scripts the steps run, and the step runner itself. */
export const TASK_SCRIPTS = [
  ...SYNC_ENGINE_SCRIPTS,
  'mirror-post-sync',
  'mirrorfleet-repo-refresh',
  'mirrorfleet-redirector-metrics',
  'mirrorfleet-geoip',
  'mirrorfleet-reconcile',
  'mirrorfleet-task',
] as const;

export function renderTasksDockerfile(): string {
  const log = SCALED_LAYOUT.nginxLogDir;
  return `# mirrorfleet: the scaled redirector's tasks image (R5). Written by mirrorfleet; built by cdk deploy.
# mirrorbits comes from the infra team's image (pinned by digest), everything else from Debian 12.
ARG MIRRORBITS_IMAGE
FROM \${MIRRORBITS_IMAGE} AS mirrorbits

FROM ${TASKS_BASE_IMAGE}
ARG MIRRORBITS_BINARY
ARG MIRRORBITS_TEMPLATES
# nginx logs to the container's output, which ECS sends to CloudWatch Logs.
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${TASKS_PACKAGES.join(' ')} \\
 && rm -rf /var/lib/apt/lists/* \\
 && ln -sf /dev/stdout ${log}/mirrorfleet-access.log \\
 && ln -sf /dev/stderr ${log}/mirrorfleet-error.log
COPY --from=mirrorbits \${MIRRORBITS_BINARY} ${TASKS_MIRRORBITS_BIN}
COPY --from=mirrorbits \${MIRRORBITS_TEMPLATES} \${MIRRORBITS_TEMPLATES}
COPY bin/ ${SCALED_LAYOUT.host.binDir}/
ENTRYPOINT ["${SCALED_LAYOUT.host.binDir}/mirrorfleet-task"]
`;
}

/** The build arguments: the image and where it keeps mirrorbits. */
export const tasksBuildArgs = (s: ScaledConfig): Record<string, string> => ({
  MIRRORBITS_IMAGE: s.image,
  MIRRORBITS_BINARY: s.imageBinary,
  MIRRORBITS_TEMPLATES: s.imageTemplates,
});

export interface ContextFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

/**
 * The build context: the Dockerfile and bin/ with the scripts. A script not in assets/ yet is
 * left out and named in `missing` (the reconciler arrives with the mirror-list work).
 */
export function tasksBuildContext(): { files: ContextFile[]; missing: string[] } {
  const present = TASK_SCRIPTS.filter((s) => fs.existsSync(path.join(ASSETS_DIR, s)));
  return {
    files: [
      { path: 'Dockerfile', content: renderTasksDockerfile(), mode: 0o644 },
      ...present.map((s) => ({ path: `bin/${s}`, content: fs.readFileSync(path.join(ASSETS_DIR, s), 'utf8'), mode: 0o755 })),
      // Only its `gauges` command runs here: the single machine's textfiles as named gauges.
      { path: 'bin/mirrorfleet-aws', content: renderAwsScript(SCALED_LAYOUT.host), mode: 0o755 },
    ],
    missing: TASK_SCRIPTS.filter((s) => !present.includes(s)),
  };
}
