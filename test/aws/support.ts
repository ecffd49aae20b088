import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MirrorNodeStack, MirrorNodeStackProps } from '../../constructs/aws';
import { checkAws } from '../../lib/config/aws';
import { loadConfigFile, parseConfig } from '../../lib/config/load';
import { NodeConfig } from '../../lib/config/node-config';
import { REPO } from '../support/fixtures';

/** An example config loaded the way bin/cdk-app.ts loads it (AWS checks included). */
export function awsExampleConfig(name: string): NodeConfig {
  return loadConfigFile(path.join(REPO, 'examples', `${name}.yaml`), [checkAws]);
}

/** An example with YAML text appended (e.g. an `aws:` block), through the same loader. */
export function awsConfigWith(name: string, extra: string, replace: [string, string][] = []): NodeConfig {
  const fs = require('node:fs') as typeof import('node:fs');
  let text = fs.readFileSync(path.join(REPO, 'examples', `${name}.yaml`), 'utf8');
  for (const [from, to] of replace) {
    if (!text.includes(from)) throw new Error(`examples/${name}.yaml has no ${JSON.stringify(from)}`);
    text = text.replace(from, to);
  }
  return parseConfig(`${text}\n${extra}`, `examples/${name}.yaml (test copy)`, [checkAws]);
}

export function synthNode(config: NodeConfig, props: Partial<MirrorNodeStackProps> = {}): { app: App; stack: MirrorNodeStack; template: Template } {
  const app = new App();
  const stack = new MirrorNodeStack(app, 'Mirror', { config, ...props });
  return { app, stack, template: Template.fromStack(stack) };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;

export function resourcesOf(template: Template, type: string): Resources[string][] {
  return Object.values(template.findResources(type) as Resources);
}

export function onlyResource(template: Template, type: string): Resources[string] {
  const all = resourcesOf(template, type);
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

/**
 * The instance's user data as CloudFormation will pass it: the Fn::Join under Fn::Base64, with
 * every deploy-time part replaced by <TOKEN>; and those parts, for asserting what they point at.
 */
export function userDataOf(template: Template): { text: string; tokens: unknown[] } {
  const ud = onlyResource(template, 'AWS::EC2::Instance').Properties!.UserData as { 'Fn::Base64': { 'Fn::Join': [string, unknown[]] } };
  const [sep, parts] = ud['Fn::Base64']['Fn::Join'];
  return { text: parts.map((p) => (typeof p === 'string' ? p : '<TOKEN>')).join(sep), tokens: parts.filter((p) => typeof p !== 'string') };
}

/** The bundle asset's S3 key, as the template names it. */
export function bundleKeyOf(template: Template): string {
  const policy = JSON.stringify(template.findResources('AWS::IAM::Policy'));
  return /\/([0-9a-f]{64}\.gz)"/.exec(policy)![1];
}

/** Replaces 64-hex asset hashes, so a snapshot does not churn on content that is tested elsewhere. */
export function scrubHashes<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replace(/[0-9a-f]{64}/g, '<hash>')) as T;
}
