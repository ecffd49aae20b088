import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import { DataResource, TerraformVariable } from 'cdktf';
import { hcloudAdminIngress, hcloudNodeSpec } from '../../lib/config/hcloud';
import type { ProjectConfig } from '../../lib/project/project';
import { renderDesiredMirrors } from '../../lib/roles/redirector/desired-mirrors';
import { REDIRECTOR_LAYOUT } from '../../lib/roles/redirector/layout';
import { mirrorListPath } from '../../lib/roles/redirector/mirror-list-source';
import { redirectorHost } from '../../lib/roles/redirector/role';
import { HcloudHost } from './hcloud-host';

export interface HcloudRedirectorProps {
  /** The project, with a redirector block (checked with onRedirector(checkHcloud), checkRedirectorHcloud). */
  readonly project: ProjectConfig;
}

/**
 * The project's central redirector on Hetzner Cloud (R1–R4, R6, R7): the redirector role on a
 * Hetzner host. A server's user data is read once, so each deploy that changes mirrors.yaml copies
 * the new list to the redirector over SSH (a terraform_data resource with a file provisioner,
 * as root with the admin key from TF_VAR_admin_ssh_private_key); the list's path unit then runs
 * the reconciler. The MaxMind licence key is a file the operator places on the host.
 */
export class HcloudRedirector extends HcloudHost {
  readonly mirrorListPush: DataResource;

  constructor(scope: Construct, id: string, props: HcloudRedirectorProps) {
    const p = props.project;
    const r = p.redirector!;
    const spec = hcloudNodeSpec(r.node);
    super(scope, id, {
      host: redirectorHost(p, { geoip: { kind: 'file' }, mirrorList: { kind: 'file' }, memoryGiB: spec.serverTypeInfo?.memoryGiB }),
      spec,
      adminIngress: hcloudAdminIngress(r.node.hcloud),
      monitoring: { metricsCidrs: r.node.hcloud.metricsCidrs },
      labels: { 'mirrorfleet/preset': p.preset.id },
    });
    const key = new TerraformVariable(this, 'admin_ssh_private_key', {
      type: 'string',
      sensitive: true,
      description: 'The private half of one of the redirector\'s hcloud.sshKeys: the deploy copies the mirror list over SSH with it (set TF_VAR_admin_ssh_private_key)',
    });
    key.overrideLogicalId('admin_ssh_private_key');
    const text = renderDesiredMirrors(p.mirrorList);
    this.mirrorListPush = new DataResource(this, 'MirrorList', {
      triggersReplace: { sha256: createHash('sha256').update(text).digest('hex') },
      dependsOn: [this.server],
      connection: { type: 'ssh', host: this.ipv4.ipAddress, user: 'root', privateKey: key.stringValue },
      provisioners: [{ type: 'file', content: text, destination: mirrorListPath(REDIRECTOR_LAYOUT) }],
    });
    this.mirrorListPush.overrideLogicalId(`${id.replace(/[^A-Za-z0-9_]/g, '_')}_mirror_list`);
  }
}
