import type { FieldPath, Problem } from '../config/problems';
import { canonicalCidr, isWholeInternet, parseCidr } from '../net/cidr';

/*
 * Who may open a connection to a host, as data: one table per role (a mirror node, a master, a
 * redirector) plus the host's own admin ports. Both clouds build their firewall from it (the AWS
 * security group, the Hetzner firewall), and both clouds' policy checks hold the synthesized
 * firewall against it, so the firewall, the checks and the docs cannot disagree.
 */

/** Every address there is, on both families (N9). */
export const WORLD_CIDRS = ['0.0.0.0/0', '::/0'] as const;

/**
 * Who a rule is for. `world`: every client (a mirror's public ports); `acl`: listed downstream or
 * upstream hosts (tier-1 rsync, a master's mirrors); `admin`: the operators (SSH); `metrics`: the
 * operator's Prometheus. Only `world` may ever hold a whole-Internet source.
 */
export type IngressAudience = 'world' | 'acl' | 'admin' | 'metrics';

/** Where the addresses of a non-world rule come from, so a bad one is reported at its field. */
export interface IngressSource {
  /** The config field holding the list, e.g. ['rsync', 'private', 'allow']. */
  readonly field: FieldPath;
  /** The values as the user wrote them (addresses or CIDRs). */
  readonly values: readonly string[];
  /** Said after a refusal, e.g. the way in without SSH on AWS. */
  readonly hint?: string;
}

export interface IngressRule {
  readonly port: number;
  readonly protocol: 'tcp';
  readonly audience: IngressAudience;
  /** Canonical CIDRs: WORLD_CIDRS for `world`, else the source's, each a whole network. */
  readonly cidrs: readonly string[];
  readonly description: string;
  /** For `acl`, `admin` and `metrics` rules: where the addresses were written. */
  readonly source?: IngressSource;
}

/** A rule for everyone on IPv4 and IPv6. */
export function worldRule(port: number, description: string): IngressRule {
  return { port, protocol: 'tcp', audience: 'world', cidrs: WORLD_CIDRS, description };
}

/**
 * A rule for listed addresses. The values must have passed the schema's CIDR check; the
 * whole-Internet check is `checkIngress`'s, so it is reported once, at its field, on every cloud.
 */
export function listedRule(port: number, audience: Exclude<IngressAudience, 'world'>, source: IngressSource, description: string): IngressRule {
  return { port, protocol: 'tcp', audience, cidrs: [...new Set(source.values.map(canonicalCidr))], description, source };
}

/** What a role or host admits, by audience. */
export const rulesFor = (rules: readonly IngressRule[], audience: IngressAudience) => rules.filter((r) => r.audience === audience);

/** The ports open to every client: the only ones a policy lets be world-open. */
export function worldPorts(rules: readonly IngressRule[]): number[] {
  return [...new Set(rulesFor(rules, 'world').map((r) => r.port))].sort((a, b) => a - b);
}

/** Why a non-world source is refused: the whole Internet, on a port meant for a few. */
const WHOLE_INTERNET_HELP: Record<Exclude<IngressAudience, 'world'>, string> = {
  acl: "the listed hosts' addresses, never the whole Internet",
  admin: 'an admin network, never the whole Internet',
  metrics: "your Prometheus server's address, never the whole Internet",
};

/**
 * Every problem with the table's listed sources, as loader problems: a whole-Internet entry in a
 * rule that is not for the world. Malformed entries are the schema's (lib/config/schema.ts).
 */
export function checkIngress(rules: readonly IngressRule[]): Problem[] {
  const problems: Problem[] = [];
  for (const r of rules) {
    if (r.audience === 'world' || !r.source) continue;
    const audience = r.audience;
    r.source.values.forEach((value, i) => {
      const p = parseCidr(value);
      if (p.ok && isWholeInternet(p.cidr)) {
        const hint = r.source!.hint ? `; ${r.source!.hint}` : '';
        problems.push({ path: [...r.source!.field, i], allowed: `${WHOLE_INTERNET_HELP[audience]}: the firewall opens port ${r.port} to these only (N22)${hint}` });
      }
    });
  }
  return problems;
}

/**
 * The invariant every firewall is built under: world-open only where the table says `world`.
 * Constructs call it before creating a firewall, so even a config that skipped the loader's
 * checks cannot open a private port to everyone.
 */
export function assertIngress(rules: readonly IngressRule[]): void {
  const bad = rules.filter((r) => r.audience !== 'world' && r.cidrs.some((c) => { const p = parseCidr(c); return p.ok && isWholeInternet(p.cidr); }));
  if (bad.length > 0) {
    throw new Error(`ingress: ${bad.map((r) => `port ${r.port} (${r.audience}: ${r.description})`).join(', ')} would be open to the whole Internet`);
  }
}
