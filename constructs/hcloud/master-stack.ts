import { Construct } from 'constructs';
import { LocalBackend, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { provider } from './bindings/providers/hcloud';
import { HcloudMaster } from './master';
import { applyMirrorPolicies } from './policy';
import { stackName } from '../../lib/host/names';
import type { ProjectConfig } from '../../lib/project/project';

/** The stack name for a project's master: the same on every cloud (lib/host/names.ts). */
export const hcloudMasterStackName = (p: ProjectConfig) => stackName(p.master.node.hostname);

/** A project's master on Hetzner Cloud as one Terraform configuration, like a node's (mirror-stack.ts). */
export class HcloudMasterStack extends TerraformStack {
  readonly master: HcloudMaster;

  constructor(scope: Construct, id: string, props: { readonly project: ProjectConfig; readonly stateFile?: string }) {
    super(scope, id);
    new LocalBackend(this, { path: props.stateFile ?? `../../../terraform.${id}.tfstate` });
    const token = new TerraformVariable(this, 'hcloud_token', {
      type: 'string',
      sensitive: true,
      description: 'Hetzner Cloud API token (read & write) of the project the master goes into; set TF_VAR_hcloud_token',
    });
    new provider.HcloudProvider(this, 'hcloud', { token: token.stringValue });
    this.master = new HcloudMaster(this, 'master', { project: props.project });
    const m = this.master;
    const out = (name: string, value: unknown, description: string) => new TerraformOutput(this, name, { value, description });
    out('ipv4_address', m.ipv4.ipAddress, 'The master\'s IPv4 address: the A record');
    out('ipv6_address', m.ipv6Address, 'The master\'s IPv6 address: the AAAA record');
    out('firewall_id', m.firewall.id, 'The firewall that carries the mirror list; the host reads it with a read-only token');
    out('volume_id', m.volume.id, 'The data volume (protected; survives the server)');
    out('user_data_sha256', m.userDataSha256, 'sha256 of the user data this config renders');
    applyMirrorPolicies(this);
  }
}
