import { Construct } from 'constructs';
import { hcloudAdminIngress, hcloudNodeSpec } from '../../lib/config/hcloud';
import { NodeConfig } from '../../lib/config/node-config';
import { mirrorNodeHost } from '../../lib/roles/mirror-node/role';
import { HcloudHost } from './hcloud-host';

export interface HcloudMirrorNodeProps {
  /** A loaded and validated mirror.yaml (lib/config/load.ts), checked with checkHcloud. */
  readonly config: NodeConfig;
}

/**
 * One mirror node on Hetzner Cloud (P2): the mirror node role (lib/roles/mirror-node) on a Hetzner
 * host sized from the config (N23), with the same user data as on AWS but for the cloud's own
 * additions (the volume's device path, node_exporter).
 */
export class HcloudMirrorNode extends HcloudHost {
  constructor(scope: Construct, id: string, props: HcloudMirrorNodeProps) {
    const c = props.config;
    super(scope, id, {
      host: mirrorNodeHost(c),
      spec: hcloudNodeSpec(c),
      adminIngress: hcloudAdminIngress(c.hcloud),
      monitoring: { metricsCidrs: c.hcloud.metricsCidrs },
      labels: { 'mirrorfleet/preset': c.preset.id },
    });
  }
}
