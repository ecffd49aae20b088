import { Annotations, IAspect, TerraformStack } from 'cdktf';
import { IConstruct } from 'constructs';
// cdktf 0.21 resolves tokens for a scope only through this module; the import stays in this folder.
import { resolve as resolveTokens } from 'cdktf/lib/_tokens';
import { IngressRule, worldPorts } from '../../../lib/host/ingress';
import { isWholeInternetText } from '../../../lib/net/cidr';
import { synthesizedBody } from './synthesized';

/** The ingress table each firewall was built from, registered by the construct that built it. */
const TABLES = new WeakMap<IConstruct, readonly IngressRule[]>();

export function registerIngressTable(firewall: IConstruct, rules: readonly IngressRule[]): void {
  TABLES.set(firewall, rules);
}

type Rule = Record<string, unknown>;
const what = (r: Rule) => (r.protocol === 'tcp' || r.protocol === 'udp' ? `${r.protocol} port ${r.port ?? 'any'}` : String(r.protocol));
/** One inbound permission per source, as a comparable line. */
const lines = (rules: readonly Rule[]) =>
  rules.filter((r) => r.direction === 'in').flatMap((r) => ((r.source_ips ?? []) as string[]).map((s) => `${what(r)} from ${s}`)).sort();

/**
 * Policy 1 (N22): a firewall opens exactly the ingress table it was built from (lib/host/ingress.ts),
 * so an escape-hatch override cannot open a port the table does not list; and whatever the table,
 * only its world ports may be open to 0.0.0.0/0 or ::/0. A firewall built without a table may
 * open nothing to the whole Internet.
 */
export class FirewallMatchesIngress implements IAspect {
  visit(node: IConstruct): void {
    const body = synthesizedBody(node, 'hcloud_firewall');
    if (!body) return;
    const table = TABLES.get(node);
    const allowed = table ? worldPorts(table) : [];
    const rules = (body.rule ?? []) as Rule[];
    for (const rule of rules) {
      const world = ((rule.source_ips ?? []) as unknown[]).filter((s): s is string => typeof s === 'string' && isWholeInternetText(s));
      if (rule.direction !== 'in' || world.length === 0) continue;
      if (rule.protocol === 'tcp' && allowed.map(String).includes(String(rule.port))) continue;
      const rule2 = table ? `only tcp ${allowed.join('/')} may be open to the whole Internet` : 'a firewall without an ingress table may open nothing to the whole Internet';
      Annotations.of(node).addError(`mirrorfleet policy: ${what(rule)} is open to ${world.join(' and ')}; ${rule2} (N22)`);
    }
    if (!table) return;
    const actual = lines(rules);
    // Deploy-time sources (another host's address) as Terraform will read them.
    const resolved = (c: string) => String(resolveTokens(TerraformStack.of(node), c));
    const want = lines(table.map((r) => ({ direction: 'in', protocol: r.protocol, port: String(r.port), source_ips: r.cidrs.map(resolved) })));
    for (const l of actual.filter((x) => !want.includes(x) && !isWholeInternetText(x.replace(/^.* from /, '')))) {
      Annotations.of(node).addError(`mirrorfleet policy: the firewall opens ${l}, which the ingress table does not list (N22)`);
    }
    for (const l of want.filter((x) => !actual.includes(x))) {
      Annotations.of(node).addError(`mirrorfleet policy: the firewall misses ${l}, which the ingress table lists`);
    }
  }
}
