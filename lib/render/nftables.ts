import { NodeConfig } from '../config/node-config';
import { NodeLayout } from './layout';

/**
 * Per-source connection caps on HTTP and HTTPS (N5): the firewall equivalent of the Fedora
 * guide's "MaxConnPerIP 6" (mod_limitipconn is not packaged in Debian 12). IPv6 clients are
 * counted per /64, the smallest block a provider hands out. A table of its own: the node's
 * other rules (and Debian's /etc/nftables.conf) are left alone.
 *
 * A SYN over the cap is dropped, not reset: the kernel's per-source count forgets closed (and
 * refused) connections lazily, so a client within the cap is sometimes counted over it for a
 * few milliseconds. Dropped, its SYN is retried ~1 s later and gets in; reset, the download
 * fails (docs/adr/0004). An abuser's extra connections still wait until one of its own closes.
 */
export function renderNftables(c: NodeConfig, l: NodeLayout): string | undefined {
  const cap = c.http.perIpConnectionLimit;
  if (cap === undefined) return undefined;
  const ports = [...l.httpListen, ...(c.https.enabled ? l.httpsListen : [])].map((a) => a.replace(/^.*:/, ''));
  const portSet = [...new Set(ports)].join(', ');
  return `# mirrorfleet: at most ${cap} concurrent connections per source address (N5);
# a SYN over the cap is dropped (the client retries it), never reset (docs/adr/0004).
# Loaded by mirrorfleet-nftables.service. Written by mirrorfleet.
table inet mirrorfleet
delete table inet mirrorfleet

table inet mirrorfleet {
    set conn_v4 { type ipv4_addr; size 65535; flags dynamic; }
    set conn_v6 { type ipv6_addr; size 65535; flags dynamic; }

    chain input {
        type filter hook input priority filter - 10; policy accept;
        meta nfproto ipv4 tcp dport { ${portSet} } ct state new add @conn_v4 { ip saddr ct count over ${cap} } counter drop
        meta nfproto ipv6 tcp dport { ${portSet} } ct state new add @conn_v6 { ip6 saddr & ffff:ffff:ffff:ffff:: ct count over ${cap} } counter drop
    }
}
`;
}
