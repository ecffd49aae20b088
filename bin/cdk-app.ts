#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IngressPolicy, MirrorNodeStack, stackNameFor } from '../constructs/aws';
import { checkAws } from '../lib/config/aws';
import { loadConfigFile } from '../lib/config/load';
import { MirrorConfigError } from '../lib/config/problems';

/*
 * The AWS app: one mirror node from a mirror.yaml (-c config=PATH, else $MIRROR_CONFIG, else the
 * default example). A bad config prints every problem as FILE:LINE:COL and exits 1 before any
 * construct exists; cdk-nag's AwsSolutions pack then checks what was built.
 */
const app = new App();
const file: string = app.node.tryGetContext('config') ?? process.env.MIRROR_CONFIG ?? 'examples/xcp-ng.yaml';
let config;
try {
  config = loadConfigFile(file, [checkAws]);
} catch (e) {
  if (!(e instanceof MirrorConfigError)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}
new MirrorNodeStack(app, stackNameFor(config), { config, env: { account: config.aws.account, region: config.aws.region } });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new IngressPolicy());
app.synth();
