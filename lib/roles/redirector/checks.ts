import type { ProjectCheck } from '../../project/project';
import { checkScaledOnHcloud } from './scaled/checks';

/**
 * On Hetzner, each deploy copies a changed mirror list to the redirector over SSH: the redirector
 * needs an admin key and the deployer's address (redirector.hcloud.sshKeys and adminCidrs).
 */
export const checkRedirectorHcloud: ProjectCheck = (p, input) => {
  const h = p.redirector?.node.hcloud;
  if (!h || !input.redirector) return [];
  const ssh = h.sshKeys.length > 0 && h.adminCidrs.length > 0
    ? []
    : [{ path: ['redirector', 'hcloud', 'sshKeys'], shown: 'missing', allowed: 'required on Hetzner with adminCidrs: each deploy copies a changed mirrors.yaml to the redirector over SSH (set TF_VAR_admin_ssh_private_key to the private half of one of these keys)' }];
  return [...checkScaledOnHcloud(p, input), ...ssh];
};
