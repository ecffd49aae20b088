import * as fs from 'node:fs';
import { CfnResource, IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport, PolicyViolation, Stack } from 'aws-cdk-lib';
import { WORLD_CIDRS } from '../../lib/host/ingress';
import { HostFirewall } from './host-firewall';

/*
 * The AWS side of "ingress as data" (lib/host/ingress.ts): a validation plugin, registered like
 * cdk-nag's packs, that reads the synthesized templates (escape hatches and overrides included)
 * and holds every security group against the table it was built from. A host's group must open
 * exactly its table; any other group in the app may open nothing to the whole Internet.
 */

type Template = { Resources?: Record<string, { Type: string; Properties?: Record<string, any> }> };

/** One ingress permission as a comparable line: "tcp 874 from 192.0.2.0/24". */
function describe(p: Record<string, any>): string {
  const proto = String(p.IpProtocol);
  const ports = p.FromPort === p.ToPort ? String(p.FromPort) : `${p.FromPort ?? 'any'}-${p.ToPort ?? 'any'}`;
  const from = p.CidrIp ?? p.CidrIpv6 ?? p.SourceSecurityGroupId ?? p.SourcePrefixListId ?? 'an unresolved source';
  return `${proto === '-1' ? 'all traffic' : `${proto} ${ports}`} from ${typeof from === 'string' ? from : JSON.stringify(from)}`;
}

/** A group's ingress: inline on the group and as separate SecurityGroupIngress resources. */
function ingressOf(template: Template, groupId: string): string[] {
  const resources = template.Resources ?? {};
  const inline = (resources[groupId]?.Properties?.SecurityGroupIngress ?? []) as Record<string, any>[];
  const separate = Object.values(resources)
    .filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress' && JSON.stringify(r.Properties?.GroupId ?? '').includes(`"${groupId}"`))
    .map((r) => r.Properties ?? {});
  return [...inline, ...separate].map(describe).sort();
}

const isWorld = (line: string) => WORLD_CIDRS.some((w) => line.endsWith(` from ${w}`));

export class IngressPolicy implements IPolicyValidationPlugin {
  readonly name = 'mirrorfleet-ingress';
  readonly ruleIds = ['IngressMatchesTable', 'NothingElseWorldOpen'];

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const violations: PolicyViolation[] = [];
    const firewalls = context.appConstruct.node.findAll().filter((n): n is HostFirewall => n instanceof HostFirewall);
    for (const st of context.stackTemplates) {
      const template = JSON.parse(fs.readFileSync(st.templatePath, 'utf8')) as Template;
      const expected = new Map<string, string[]>();
      for (const fw of firewalls.filter((f) => Stack.of(f).node.path === st.stackConstructPath)) {
        const cfn = fw.securityGroup.node.defaultChild as CfnResource;
        // Deploy-time sources (another host's address) are compared as the template holds them.
        const shown = (c: string) => { const v = Stack.of(fw).resolve(c); return typeof v === 'string' ? v : JSON.stringify(v); };
        const lines = fw.ingress.flatMap((r) => r.cidrs.map((c) => `tcp ${r.port} from ${shown(c)}`)).sort();
        expected.set(Stack.of(fw).resolve(cfn.logicalId) as string, lines);
      }
      for (const [id, r] of Object.entries(template.Resources ?? {})) {
        if (r.Type !== 'AWS::EC2::SecurityGroup') continue;
        const actual = ingressOf(template, id);
        const want = expected.get(id);
        const problems = want
          ? [...actual.filter((l) => !want.includes(l)).map((l) => `opens ${l}, which the ingress table does not list`), ...want.filter((l) => !actual.includes(l)).map((l) => `misses ${l}, which the ingress table lists`)]
          : actual.filter(isWorld).map((l) => `opens ${l} outside any host's ingress table`);
        if (problems.length === 0) continue;
        violations.push({
          ruleName: want ? 'IngressMatchesTable' : 'NothingElseWorldOpen',
          description: `security group ${id} ${problems.join('; ')}`,
          fix: 'Change the ingress table (lib/host/ingress.ts and the role\'s table), not the security group: the firewall, the checks and the docs read the same table.',
          violatingResources: [{ resourceLogicalId: id, templatePath: st.templatePath, locations: ['Properties.SecurityGroupIngress'] }],
        });
      }
    }
    return { success: violations.length === 0, violations };
  }
}
