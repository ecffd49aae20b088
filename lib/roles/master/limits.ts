import { awsAdminIngress } from '../../config/aws';
import { hcloudAdminIngress } from '../../config/hcloud';
import type { Problem } from '../../config/problems';
import type { IngressRule } from '../../host/ingress';
import type { ProjectCheck } from '../../project/project';
import { masterAcl } from './acl';
import { masterIngress } from './ingress';

/*
 * The cloud firewall carries the mirror list too (ADR 0026), so the list must fit the cloud's
 * limits: an AWS security group takes 60 inbound rules by default, one per source CIDR; a
 * Hetzner firewall takes 50 rules and 500 effective rules (a rule per source). A list that does
 * not fit is refused at synth, naming the count, rather than failing half-way through a deploy.
 */
export const FIREWALL_LIMITS = { awsRulesPerGroup: 60, hcloudRules: 50, hcloudEffectiveRules: 500 } as const;

const sources = (rules: readonly IngressRule[]) => rules.reduce((n, r) => n + r.cidrs.length, 0);

export const checkMasterFirewallAws: ProjectCheck = (p) => {
  const rules = [...masterIngress(p, masterAcl(p)), ...awsAdminIngress(p.master.node.aws)];
  const n = sources(rules);
  if (n <= FIREWALL_LIMITS.awsRulesPerGroup) return [];
  return [tooMany(`the master's security group would need ${n} inbound rules (one per source: ${sources(rules.filter((r) => r.source?.field[0] === 'mirrors'))} from the mirror list), above AWS's ${FIREWALL_LIMITS.awsRulesPerGroup} per group`)];
};

export const checkMasterFirewallHcloud: ProjectCheck = (p) => {
  const rules = [...masterIngress(p, masterAcl(p)), ...hcloudAdminIngress(p.master.node.hcloud)].filter((r) => r.cidrs.length > 0);
  const n = sources(rules);
  if (n <= FIREWALL_LIMITS.hcloudEffectiveRules && rules.length <= FIREWALL_LIMITS.hcloudRules) return [];
  return [tooMany(`the master's firewall would need ${n} effective rules in ${rules.length} rules, above Hetzner's ${FIREWALL_LIMITS.hcloudEffectiveRules} effective rules and ${FIREWALL_LIMITS.hcloudRules} rules per firewall`)];
};

function tooMany(why: string): Problem {
  return { path: ['mirrors'], allowed: `a mirror list the cloud firewall can hold: ${why}; list networks (CIDRs) instead of single addresses in syncFrom where mirrors share one` };
}
