import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { aws_ecr as ecr, aws_ecr_assets as ecrAssets, aws_ecs as ecs } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ScaledConfig } from '../../../lib/project/redirector-scaled';
import { tasksBuildArgs, tasksBuildContext } from '../../../lib/roles/redirector/scaled/image';

const ECR_URI = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^@:]+)(?::[^@]+)?@(sha256:[0-9a-f]{64})$/;

/**
 * The two images (docs/adr/0066): the infra team's mirrorbits, pinned by digest, which the
 * service's mirrorbits container runs as it is; and ours, built at deploy from the staged
 * context, for nginx, the configuration writer and the scheduled tasks.
 */
export class ScaledImages extends Construct {
  public readonly mirrorbits: ecs.ContainerImage;
  public readonly tasks: ecs.ContainerImage;
  public readonly tasksAsset: ecrAssets.DockerImageAsset;
  /** Scripts of the image that assets/ does not hold yet. */
  public readonly missingScripts: readonly string[];

  constructor(scope: Construct, id: string, props: { scaled: ScaledConfig }) {
    super(scope, id);
    const s = props.scaled;
    const m = ECR_URI.exec(s.image);
    // An ECR image is pulled with the execution role's grant on that repository; any other with no credentials.
    this.mirrorbits = m
      ? ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryArn(this, 'MirrorbitsRepository', `arn:aws:ecr:${m[2]}:${m[1]}:repository/${m[3]}`), m[4])
      : ecs.ContainerImage.fromRegistry(s.image);

    const { files, missing } = tasksBuildContext();
    this.missingScripts = missing;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirrorfleet-tasks-image-'));
    try {
      for (const f of files) {
        fs.mkdirSync(path.join(dir, path.dirname(f.path)), { recursive: true });
        fs.writeFileSync(path.join(dir, f.path), f.content, { mode: f.mode });
        fs.chmodSync(path.join(dir, f.path), f.mode);
      }
      this.tasksAsset = new ecrAssets.DockerImageAsset(this, 'Tasks', {
        directory: dir,
        buildArgs: tasksBuildArgs(s),
        platform: s.architecture === 'arm64' ? ecrAssets.Platform.LINUX_ARM64 : ecrAssets.Platform.LINUX_AMD64,
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    this.tasks = ecs.ContainerImage.fromDockerImageAsset(this.tasksAsset);
  }
}

export const cpuArchitecture = (s: ScaledConfig) => (s.architecture === 'arm64' ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64);
