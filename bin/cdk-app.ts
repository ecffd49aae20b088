#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IngressPolicy, MirrorNodeStack, ProjectStack, projectStackNameFor, stackNameFor } from '../constructs/aws';
import { checkAws } from '../lib/config/aws';
import { CLOUDS } from '../lib/config/clouds';
import { loadConfigFile } from '../lib/config/load';
import { MirrorConfigError } from '../lib/config/problems';
import { loadProjectFile, onMaster, onRedirector } from '../lib/project/project';
import { checkMasterFirewallAws } from '../lib/roles/master/limits';

/*
 * The AWS app. A mirror node from a mirror.yaml (-c config=PATH or $MIRROR_CONFIG, never both
 * naming different files; else the default example), or a project's side from a project.yaml (-c project=PATH, else
 * $PROJECT_CONFIG): its master and its redirector. A bad file prints every problem as FILE:LINE:COL and exits 1
 * before any construct exists; cdk-nag's AwsSolutions pack and the ingress policy then check
 * what was built.
 */
const app = new App();
const projectFile: string | undefined = app.node.tryGetContext('project') ?? process.env.PROJECT_CONFIG;
try {
  if (projectFile) {
    const project = loadProjectFile(projectFile, [onMaster(checkAws), onRedirector(checkAws), checkMasterFirewallAws]);
    const env = { account: project.master.node.aws.account, region: project.master.node.aws.region };
    new ProjectStack(app, projectStackNameFor(project), { project, env });
  } else {
    const fromContext: string | undefined = app.node.tryGetContext('config') || undefined;
    const fromEnv = process.env.MIRROR_CONFIG || undefined;
    if (fromContext && fromEnv && fromContext !== fromEnv) {
      process.stderr.write(`mirrorfleet: two configs given, -c config=${fromContext} and MIRROR_CONFIG=${fromEnv}: give one (unset MIRROR_CONFIG, or leave out -c config=)\n`);
      process.exit(1);
    }
    const file: string = fromContext ?? fromEnv ?? 'examples/xcp-ng.yaml';
    const config = loadConfigFile(file, CLOUDS.aws.checks);
    new MirrorNodeStack(app, stackNameFor(config), { config, env: { account: config.aws.account, region: config.aws.region } });
  }
} catch (e) {
  if (!(e instanceof MirrorConfigError)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new IngressPolicy());
app.synth();
