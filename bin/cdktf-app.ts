/**
 * The Hetzner Cloud app (P2): `npx cdktf synth` synthesizes examples/xcp-ng.yaml,
 * `MIRROR_CONFIG=mirror.yaml npx cdktf synth` (or deploy) any other config, and
 * `PROJECT_CONFIG=project.yaml npx cdktf synth` a project's master.
 * A config problem is printed as FILE:LINE:COL lines and the app exits 1 before synthesizing;
 * a policy error (constructs/hcloud/policy) fails the synth before cdk.tf.json is written.
 */
import * as path from 'node:path';
import { App } from 'cdktf';
import { HcloudProjectStack, hcloudProjectStackName } from '../constructs/hcloud/project-stack';
import { HcloudMirrorStack, hcloudStackName, refuseStacksWithErrors } from '../constructs/hcloud/mirror-stack';
import { CLOUDS } from '../lib/config/clouds';
import { checkHcloud } from '../lib/config/hcloud';
import { loadConfigFile } from '../lib/config/load';
import { MirrorConfigError } from '../lib/config/problems';
import { loadProjectFile, onMaster, onRedirector } from '../lib/project/project';
import { checkMasterFirewallHcloud } from '../lib/roles/master/limits';
import { checkRedirectorHcloud } from '../lib/roles/redirector/checks';

const DEFAULT_CONFIG = path.join(__dirname, '..', 'examples', 'xcp-ng.yaml');

function main(): void {
  // Shown relative to the working directory, as the user typed it.
  const projectFile = process.env.PROJECT_CONFIG;
  const file = process.env.MIRROR_CONFIG || path.relative(process.cwd(), DEFAULT_CONFIG);
  // Every file is read and checked before the app exists: a bad one leaves nothing on disk.
  let build: (app: App) => void;
  try {
    if (projectFile) {
      const project = loadProjectFile(projectFile, [onMaster(checkHcloud), onRedirector(checkHcloud), checkMasterFirewallHcloud, checkRedirectorHcloud]);
      build = (app) => new HcloudProjectStack(app, hcloudProjectStackName(project), { project });
    } else {
      const config = loadConfigFile(file, CLOUDS.hcloud.checks);
      build = (app) => new HcloudMirrorStack(app, hcloudStackName(config), { config });
    }
  } catch (e) {
    if (e instanceof MirrorConfigError) {
      console.error(e.message);
      process.exit(1);
    }
    throw e;
  }
  // A stack that breaks a policy (constructs/hcloud/policy) is never written, even under the CLI.
  refuseStacksWithErrors();
  const app = new App();
  build(app);
  app.synth();
}

main();
