/**
 * Shared helpers of the Hetzner tests: configs with an hcloud block, synthesized stacks, the
 * user data flattened with its tokens replaced, the error annotations the policies leave.
 */
import { App, TerraformStack, Testing } from 'cdktf';
import { IConstruct } from 'constructs';
import YAML from 'yaml';
import { HcloudMirrorStack } from '../../constructs/hcloud/mirror-stack';
import { checkHcloud } from '../../lib/config/hcloud';
import { parseConfig } from '../../lib/config/load';
import { NodeConfig } from '../../lib/config/node-config';
import { Example, exampleText } from '../support/fixtures';

export const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKt9bXQ0GmA1y3k0tq5cTz5QKXUSQkSg8mSRmPpgM3xS ops@example.org';

/** An example with keys set (or replaced) at the given paths, loaded with the Hetzner checks. */
export function hcloudConfigText(example: Example, set: Record<string, unknown> = {}): string {
  const doc = YAML.parseDocument(exampleText(example));
  for (const [dotted, value] of Object.entries(set)) doc.setIn(dotted.split('.'), value);
  return doc.toString();
}

export function hcloudConfig(example: Example, set: Record<string, unknown> = {}): NodeConfig {
  return parseConfig(hcloudConfigText(example, set), `examples/${example}.yaml`, [checkHcloud]);
}

/** The config's problems as the loader prints them (with "FILE" as the file name), or [] when it loads. */
export function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'FILE', [checkHcloud]);
    return [];
  } catch (e) {
    return [...((e as { lines?: string[] }).lines ?? [String(e)])];
  }
}

export function synthStack(config: NodeConfig, id = 'mirror-example-org') {
  const stack = new HcloudMirrorStack(Testing.app(), id, { config });
  const json = JSON.parse(Testing.synth(stack));
  return { stack, json };
}

/** A resource body without cdktf's "//" metadata. */
export function body(json: any, type: string, name: string): any {
  const r = json.resource?.[type]?.[name];
  if (!r) throw new Error(`no ${type}.${name} in ${Object.keys(json.resource ?? {}).join(', ')}`);
  const { ['//']: _metadata, ...rest } = r;
  return rest;
}

/**
 * The user data as the server receives it, with each Terraform reference replaced by <TOKEN>
 * and the template escapes ($${, %%{) undone: what Terraform renders, up to the reference values.
 */
export function flattenUserData(text: string): string {
  return text.replace(/(?<!\$)\$\{[^}]+\}/g, '<TOKEN>').replace(/([$%])\1\{/g, (_, sigil: string) => `${sigil}{`);
}

/** Error annotations left on any construct of the tree (after aspects have run). */
export function errorAnnotations(scope: IConstruct): string[] {
  return scope.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === '@cdktf/error').map((m) => `${c.node.path}: ${m.data}`));
}

/** A bare stack with the provider, for deliberately bad resources. */
export function bareStack(app: App = Testing.app()): TerraformStack {
  return new TerraformStack(app, 'bad');
}
