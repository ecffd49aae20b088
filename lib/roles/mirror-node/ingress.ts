import type { NodeConfig } from '../../config/node-config';
import { IngressRule, listedRule, worldRule } from '../../host/ingress';

/**
 * What a mirror node admits (N22): HTTP, HTTPS and public rsync from everyone on IPv4 and IPv6
 * (only the services the config turns on; 80 always, for ACME http-01 and the redirect to
 * HTTPS), the tier-1 rsync port from its ACL only (N11).
 */
export function mirrorNodeIngress(c: NodeConfig): IngressRule[] {
  return [
    worldRule(80, 'HTTP downloads and ACME http-01 (N1, N19)'),
    ...(c.https.enabled ? [worldRule(443, 'HTTPS downloads (N1)')] : []),
    ...(c.rsync.enabled ? [worldRule(873, 'public read-only rsync (N10)')] : []),
    ...(c.rsync.private
      ? [listedRule(c.rsync.private.port, 'acl', { field: ['rsync', 'private', 'allow'], values: c.rsync.private.allow }, 'tier-1 rsync, downstream mirrors only (N11)')]
      : []),
  ];
}
