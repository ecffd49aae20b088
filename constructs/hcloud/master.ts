import { Construct } from 'constructs';
import { hcloudAdminIngress, hcloudNodeSpec } from '../../lib/config/hcloud';
import type { ProjectConfig } from '../../lib/project/project';
import { masterHost } from '../../lib/roles/master/role';
import { HcloudHost } from './hcloud-host';

export interface HcloudMasterProps {
  /** The project (`loadProjectFile(file, [onMaster(checkHcloud), checkMasterFirewallHcloud])`). */
  readonly project: ProjectConfig;
  /** More sources for the public rsync module, such as the redirector's addresses (R2). */
  readonly extraRsyncSources?: readonly string[];
}

/** Where the operator places a read-only Hetzner API token, for the host to read its firewall (ADR 0026). */
export const HCLOUD_READ_TOKEN_FILE = '/etc/mirrorfleet/secrets/hcloud-read-token';

/**
 * The project's master on Hetzner Cloud (M1, M2): the master role on a Hetzner host. Its firewall
 * carries the mirror list, updated in place by every deploy; the host reads it back every minute
 * with a read-only token the operator places, so its own ACL follows (ADR 0026).
 */
export class HcloudMaster extends HcloudHost {
  constructor(scope: Construct, id: string, props: HcloudMasterProps) {
    const p = props.project;
    const m = p.master.node;
    super(scope, id, {
      host: masterHost(p, { aclSource: { kind: 'hcloud-firewall', tokenFile: HCLOUD_READ_TOKEN_FILE } }),
      spec: hcloudNodeSpec(m),
      // Sources known only at deploy (the redirector's addresses) go to the firewall, which the
      // host reads back; the bundle cannot hold them.
      adminIngress: [
        ...hcloudAdminIngress(m.hcloud),
        ...((props.extraRsyncSources ?? []).length > 0 ? [{ port: 873, protocol: 'tcp' as const, audience: 'acl' as const, cidrs: props.extraRsyncSources!, description: 'rsync for the project\'s redirector (R2)' }] : []),
      ],
      monitoring: { metricsCidrs: m.hcloud.metricsCidrs },
      labels: { 'mirrorfleet/preset': p.preset.id },
      firewallIdOnHost: true,
    });
  }
}
