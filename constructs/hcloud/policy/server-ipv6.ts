import { Annotations, IAspect } from 'cdktf';
import { IConstruct } from 'constructs';
import { synthesizedBody } from './synthesized';

/**
 * Policy 3 (N9): every server has IPv6, from a primary IP of its own (public_net with
 * ipv6_enabled = true and ipv6 set), so the address survives a rebuild and keeps its reverse DNS.
 */
export class ServersHaveIpv6 implements IAspect {
  visit(node: IConstruct): void {
    const body = synthesizedBody(node, 'hcloud_server');
    if (!body) return;
    const nets = (body.public_net ?? []) as Record<string, unknown>[];
    const ok = nets.length === 1 && nets[0].ipv6_enabled === true && nets[0].ipv6 !== undefined && nets[0].ipv6 !== null;
    if (!ok) {
      Annotations.of(node).addError('mirrorfleet policy: server without an assigned IPv6 primary IP (public_net { ipv6_enabled = true, ipv6 = <primary IP id> }); every mirror serves IPv4 and IPv6 (N9)');
    }
  }
}
