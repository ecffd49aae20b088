import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ProjectStack } from '../../constructs/aws';
import { checkAws } from '../../lib/config/aws';
import { ProjectConfig, loadProjectFile, onMaster, onRedirector } from '../../lib/project/project';
import { checkMasterFirewallAws } from '../../lib/roles/master/limits';
import { scaledProject } from './support';

/* The example project with the scaled profile, synthesized as `cdk synth -c project=…` does. */
export type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };

export interface Synthesized {
  readonly app: App;
  readonly project: ProjectConfig;
  readonly stack: ProjectStack;
  readonly template: Template;
  readonly resources: Record<string, Resource>;
}

export function synthScaled(edit: (text: string) => string = (s) => s): Synthesized {
  const project = loadProjectFile(scaledProject(edit), [onMaster(checkAws), onRedirector(checkAws), checkMasterFirewallAws]);
  const app = new App();
  const stack = new ProjectStack(app, 'Project', { project });
  const template = Template.fromStack(stack);
  return { app, project, stack, template, resources: template.toJSON().Resources };
}

/** Resources of a type, by logical id, those whose id starts with `prefix`. */
export const ofType = (s: Synthesized, type: string, prefix = ''): [string, Resource][] =>
  Object.entries(s.resources).filter(([id, r]) => r.Type === type && id.startsWith(prefix));

export const only = (s: Synthesized, type: string, prefix = ''): [string, Resource] => {
  const all = ofType(s, type, prefix);
  if (all.length !== 1) throw new Error(`expected one ${type} under ${prefix || 'the stack'}, found ${all.length}`);
  return all[0];
};

/** A CloudFormation value as text: Fn::Join parts joined, every other intrinsic as <Logical.Attr> or <Ref>. */
export function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  const o = v as Record<string, any>;
  if (o['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map(asText).join(o['Fn::Join'][0]);
  if (o.Ref) return `<${o.Ref}>`;
  if (typeof o['Fn::Sub'] === 'string') return o['Fn::Sub'];
  if (o['Fn::GetAtt']) return `<${o['Fn::GetAtt'].join('.')}>`;
  return `<${JSON.stringify(o)}>`;
}

/** A container's environment as name → text. */
export const environmentOf = (container: Record<string, any>): Record<string, string> =>
  Object.fromEntries((container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, asText(e.Value)]));

/** The task definition whose logical id starts with `prefix`, its containers by name. */
export function containersOf(s: Synthesized, prefix: string): Record<string, Record<string, any>> {
  const [, def] = only(s, 'AWS::ECS::TaskDefinition', prefix);
  return Object.fromEntries((def.Properties.ContainerDefinitions as Record<string, any>[]).map((c) => [c.Name, c]));
}

/** Every statement of every inline policy attached to the role whose logical id starts with `rolePrefix`. */
export function statementsOf(s: Synthesized, rolePrefix: string): Record<string, any>[] {
  return ofType(s, 'AWS::IAM::Policy').filter(([, p]) => (p.Properties.Roles as unknown[]).some((r) => asText(r).startsWith(`<${rolePrefix}`)))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Record<string, any>[]);
}

export const actionsOf = (statements: Record<string, any>[]) => statements.flatMap((st) => [st.Action].flat() as string[]).sort();

/** The master's rsync rules whose source is a deploy-time value, by the family CloudFormation gets. */
type RsyncRule = { FromPort: number; CidrIp?: unknown; CidrIpv6?: unknown };

export function deployTimeRsyncRules(template: Template): { v4: string[]; v6: string[] } {
  const rules = Object.entries(template.findResources('AWS::EC2::SecurityGroup') as Record<string, { Properties: { SecurityGroupIngress: RsyncRule[] } }>)
    .filter(([id]) => id.startsWith('Master')).flatMap(([, g]) => g.Properties.SecurityGroupIngress)
    .filter((r) => r.FromPort === 873 && typeof (r.CidrIp ?? r.CidrIpv6) !== 'string');
  const shown = (v: unknown) => JSON.stringify(v);
  return { v4: rules.filter((r) => r.CidrIp).map((r) => shown(r.CidrIp)), v6: rules.filter((r) => r.CidrIpv6).map((r) => shown(r.CidrIpv6)) };
}

