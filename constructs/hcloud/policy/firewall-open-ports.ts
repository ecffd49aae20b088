import { Annotations, IAspect } from 'cdktf';
import { IConstruct } from 'constructs';
import { isWholeInternet, synthesizedBody } from './synthesized';

/** What a mirror serves to everyone (N1, N10): the only ports open to the whole Internet. */
export const PUBLIC_TCP_PORTS = ['80', '443', '873'] as const;

/**
 * Policy 1 (N22): a firewall rule open to 0.0.0.0/0 or ::/0 is inbound TCP on 80, 443 or 873.
 * Anything else (SSH, the tier-1 rsync port, node_exporter, ICMP, a port range) must name its sources.
 */
export class OnlyMirrorPortsOpenToWorld implements IAspect {
  visit(node: IConstruct): void {
    const body = synthesizedBody(node, 'hcloud_firewall');
    if (!body) return;
    for (const rule of (body.rule ?? []) as Record<string, unknown>[]) {
      const world = ((rule.source_ips ?? []) as unknown[]).filter(isWholeInternet);
      if (rule.direction !== 'in' || world.length === 0) continue;
      if (rule.protocol === 'tcp' && (PUBLIC_TCP_PORTS as readonly string[]).includes(String(rule.port))) continue;
      const what = rule.protocol === 'tcp' || rule.protocol === 'udp' ? `${rule.protocol} port ${rule.port ?? 'any'}` : String(rule.protocol);
      Annotations.of(node).addError(
        `mirrorfleet policy: ${what} is open to ${world.join(' and ')}; only tcp ${PUBLIC_TCP_PORTS.join('/')} may be open to the whole Internet (N22)`,
      );
    }
  }
}
