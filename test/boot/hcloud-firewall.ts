import { cleanup } from './cleanup';
import { HcloudFirewallRule } from './hcloud-stack';
import { must, sh } from './sh';
import { World } from './world';

/**
 * Hetzner's Cloud Firewall in front of the node, played by the host: the synthesized firewall's
 * inbound rules applied with nftables to what the host sends to the node over their link. As on
 * Hetzner, a connection the rules do not admit is dropped, replies to the node's own connections
 * pass (the firewall is stateful) and outbound traffic is not filtered (no outbound rules).
 * Neighbour discovery stays open: it is the link, not the firewall's business.
 */
export function applyHcloudFirewall(world: World, rules: readonly HcloudFirewallRule[]): string {
  const table = `mfboot_hcloud_${world.opts.index}`;
  const veth = world.vethHost;
  const lines = rules
    .filter((r) => r.direction === 'in')
    .flatMap((r) => {
      const v4 = r.source_ips.filter((s) => !s.includes(':'));
      const v6 = r.source_ips.filter((s) => s.includes(':'));
      const port = r.protocol === 'tcp' || r.protocol === 'udp' ? ` ${r.protocol} dport ${r.port}` : ` meta l4proto ${r.protocol}`;
      return [
        ...(v4.length ? [`    oifname "${veth}" ip saddr { ${v4.join(', ')} }${port} accept comment "${r.description.replace(/"/g, "'")}"`] : []),
        ...(v6.length ? [`    oifname "${veth}" ip6 saddr { ${v6.join(', ')} }${port} accept comment "${r.description.replace(/"/g, "'")}"`] : []),
      ];
    });
  const ruleset = `table inet ${table} {
  chain output {
    type filter hook output priority filter;
    oifname "${veth}" ct state established,related accept
    oifname "${veth}" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept
${lines.join('\n')}
    oifname "${veth}" counter drop comment "not admitted by the Hetzner firewall"
  }
}
`;
  sh('nft', ['delete', 'table', 'inet', table]);
  must('nft', ['-f', '-'], { input: ruleset });
  cleanup.add(`delete nft table ${table}`, () => {
    sh('nft', ['delete', 'table', 'inet', table]);
  });
  return ruleset;
}
