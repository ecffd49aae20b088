import { Construct } from 'constructs';
import { LocalBackend, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { provider } from './bindings/providers/hcloud';
import { HcloudMaster } from './master';
import { applyMirrorPolicies } from './policy';
import { HcloudRedirector } from './redirector';
import { stackName } from '../../lib/host/names';
import type { ProjectConfig } from '../../lib/project/project';

/** A project's stack is named after its master, the same on every cloud (lib/host/names.ts). */
export const hcloudProjectStackName = (p: ProjectConfig) => stackName(p.master.node.hostname);

/**
 * A project's own side on Hetzner Cloud as one Terraform configuration (M1, R1): its master and,
 * when project.yaml has one, its redirector, whose addresses the master's firewall (and, reading it
 * back, the master itself) admits to rsync (R2).
 */
export class HcloudProjectStack extends TerraformStack {
  readonly master: HcloudMaster;
  readonly redirector?: HcloudRedirector;

  constructor(scope: Construct, id: string, props: { readonly project: ProjectConfig; readonly stateFile?: string }) {
    super(scope, id);
    const p = props.project;
    new LocalBackend(this, { path: props.stateFile ?? `../../../terraform.${id}.tfstate` });
    const token = new TerraformVariable(this, 'hcloud_token', {
      type: 'string',
      sensitive: true,
      description: 'Hetzner Cloud API token (read & write) of the project the hosts go into; set TF_VAR_hcloud_token',
    });
    new provider.HcloudProvider(this, 'hcloud', { token: token.stringValue });
    this.redirector = p.redirector && new HcloudRedirector(this, 'redirector', { project: p });
    const r = this.redirector;
    this.master = new HcloudMaster(this, 'master', { project: p, extraRsyncSources: r ? [`${r.ipv4.ipAddress}/32`, `${r.ipv6Address}/128`] : [] });
    const m = this.master;
    const out = (name: string, value: unknown, description: string) => new TerraformOutput(this, name, { value, description });
    out('master_ipv4_address', m.ipv4.ipAddress, 'The master\'s IPv4 address: its A record');
    out('master_ipv6_address', m.ipv6Address, 'The master\'s IPv6 address: its AAAA record');
    out('master_firewall_id', m.firewall.id, 'The firewall that carries the mirror list; the master reads it with a read-only token');
    out('master_volume_id', m.volume.id, 'The master\'s data volume (protected; survives the server)');
    if (r) {
      out('redirector_ipv4_address', r.ipv4.ipAddress, 'The redirector\'s IPv4 address: the A record of the download name');
      out('redirector_ipv6_address', r.ipv6Address, 'The redirector\'s IPv6 address: its AAAA record');
      out('redirector_volume_id', r.volume.id, 'The redirector\'s data volume (protected)');
    }
    applyMirrorPolicies(this);
  }
}
