import { IngressRule, listedRule, worldRule } from '../../host/ingress';
import type { ProjectConfig } from '../../project/project';
import { MasterAcl } from './acl';

/**
 * What a master admits (M1, N22): HTTP and HTTPS from everyone (it is also the redirector's
 * fallback), rsync only from the mirror list (the tier-1 port only from tier-1 mirrors), SSH only
 * from the build hosts that upload new content. The cloud firewall carries the lists too, so no
 * private port is ever open to the world at any layer.
 */
export function masterIngress(p: ProjectConfig, acl: MasterAcl): IngressRule[] {
  const m = p.master;
  return [
    worldRule(80, 'HTTP downloads and ACME http-01 (N1, N19)'),
    ...(m.node.https.enabled ? [worldRule(443, 'HTTPS downloads (N1)')] : []),
    listedRule(873, 'acl', { field: ['mirrors'], values: acl.public }, 'rsync for listed mirrors (M1)'),
    ...(m.tier1 ? [listedRule(m.tier1Port, 'acl', { field: ['mirrors'], values: acl.tier1 }, 'tier-1 rsync for listed tier-1 mirrors (M1, N11)')] : []),
    listedRule(22, 'acl', { field: ['master', 'incoming', 'from'], values: m.incoming.from }, 'uploads from the build hosts, rsync over SSH (M1)'),
  ];
}
