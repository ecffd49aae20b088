/**
 * The Hetzner Cloud app (P2): `npx cdktf synth` synthesizes examples/xcp-ng.yaml,
 * `MIRROR_CONFIG=mirror.yaml npx cdktf synth` (or deploy) any other config.
 * A config problem is printed as FILE:LINE:COL lines and the app exits 1 before synthesizing;
 * a policy error (constructs/hcloud/policy) fails the synth before cdk.tf.json is written.
 */
import * as path from 'node:path';
import { App } from 'cdktf';
import { HcloudMirrorStack, hcloudStackName, refuseStacksWithErrors } from '../constructs/hcloud/mirror-stack';
import { checkHcloud } from '../lib/config/hcloud';
import { loadConfigFile } from '../lib/config/load';
import { MirrorConfigError } from '../lib/config/problems';

const DEFAULT_CONFIG = path.join(__dirname, '..', 'examples', 'xcp-ng.yaml');

function main(): void {
  // Shown relative to the working directory, as the user typed it.
  const file = process.env.MIRROR_CONFIG || path.relative(process.cwd(), DEFAULT_CONFIG);
  let config;
  try {
    config = loadConfigFile(file, [checkHcloud]);
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
  new HcloudMirrorStack(app, hcloudStackName(config), { config });
  app.synth();
}

main();
