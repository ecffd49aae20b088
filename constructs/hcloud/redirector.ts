import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import { DataResource, TerraformVariable } from 'cdktf';
import { hcloudAdminIngress, hcloudNodeSpec } from '../../lib/config/hcloud';
import type { ProjectConfig } from '../../lib/project/project';
import { renderDesiredMirrors } from '../../lib/roles/redirector/desired-mirrors';
import { REDIRECTOR_LAYOUT } from '../../lib/roles/redirector/layout';
import { mirrorListPath } from '../../lib/roles/redirector/mirror-list-source';
import { redirectorHost } from '../../lib/roles/redirector/role';
import { PUSHED_BUNDLE_PATH } from '../../lib/host/hcloud/pushed-bundle';
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
 * the reconciler. Its files outgrow Hetzner's 32 KiB of user data, so the first deploy copies the
 * bundle the same way, and the user data waits for it (docs/adr/0059). The MaxMind licence key is
 * a file the operator places on the host.
 */
export class HcloudRedirector extends HcloudHost {
  readonly mirrorListPush: DataResource;
  readonly bundlePush: DataResource;

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
      bundleByDeploy: true,
    });
    const key = new TerraformVariable(this, 'admin_ssh_private_key', {
      type: 'string',
      sensitive: true,
      description: 'The private half of one of the redirector\'s hcloud.sshKeys: the deploy copies the mirror list over SSH with it (set TF_VAR_admin_ssh_private_key)',
    });
    key.overrideLogicalId('admin_ssh_private_key');
    const base = id.replace(/[^A-Za-z0-9_]/g, '_');
    const connection = { type: 'ssh' as const, host: this.ipv4.ipAddress, user: 'root', privateKey: key.stringValue };
    // Once per server: the server ignores later user-data changes (ADR 0014), so a new bundle
    // reaches it only with the server's deliberate replacement, which copies it again.
    this.bundlePush = new DataResource(this, 'Bundle', {
      triggersReplace: { server: this.server.id },
      dependsOn: [this.server],
      connection,
      provisioners: [{ type: 'file', content: this.pushedBundle!.text, destination: PUSHED_BUNDLE_PATH }],
    });
    this.bundlePush.overrideLogicalId(`${base}_bundle`);
    const text = renderDesiredMirrors(p.mirrorList);
    this.mirrorListPush = new DataResource(this, 'MirrorList', {
      triggersReplace: { sha256: createHash('sha256').update(text).digest('hex') },
      dependsOn: [this.server],
      connection,
      provisioners: [{ type: 'file', content: text, destination: mirrorListPath(REDIRECTOR_LAYOUT) }],
    });
    this.mirrorListPush.overrideLogicalId(`${base}_mirror_list`);
  }
}
