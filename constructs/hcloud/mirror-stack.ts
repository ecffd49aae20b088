import { Construct } from 'constructs';
import { LocalBackend, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { provider } from './bindings/providers/hcloud';
import { HcloudMirrorNode } from './mirror-node';
import { applyMirrorPolicies } from './policy';
import { NodeConfig } from '../../lib/config/node-config';
import { stackName } from '../../lib/host/names';
import { nodeUrls } from '../../lib/roles/mirror-node/urls';

export interface HcloudMirrorStackProps {
  readonly config: NodeConfig;
  /**
   * Terraform state file, relative to the stack's working directory (cdktf.out/stacks/<stack>).
   * @default - `terraform.<stack>.tfstate` in the project directory, outside cdktf.out
   */
  readonly stateFile?: string;
}

/** The stack name for a node: the same on every cloud (lib/host/names.ts). */
export const hcloudStackName = (c: NodeConfig) => stackName(c.hostname);

/**
 * A mirror provider's node on Hetzner Cloud (P2), as one Terraform configuration: local state
 * with a relative path, the API token from a sensitive variable (never from a file), the node,
 * what the mirror application needs as outputs, and mirrorfleet's policies.
 */
export class HcloudMirrorStack extends TerraformStack {
  readonly mirror: HcloudMirrorNode;

  constructor(scope: Construct, id: string, props: HcloudMirrorStackProps) {
    super(scope, id);
    const c = props.config;
    // Relative, so the synthesized JSON holds no path of this machine; `../../..` leaves
    // cdktf.out (which synth rewrites) for the project directory.
    new LocalBackend(this, { path: props.stateFile ?? `../../../terraform.${id}.tfstate` });

    const token = new TerraformVariable(this, 'hcloud_token', {
      type: 'string',
      sensitive: true,
      description: 'Hetzner Cloud API token (read & write) of the project the node goes into; set TF_VAR_hcloud_token',
    });
    new provider.HcloudProvider(this, 'hcloud', { token: token.stringValue });

    this.mirror = new HcloudMirrorNode(this, 'mirror', { config: c });
    const n = this.mirror;

    const out = (name: string, value: unknown, description: string) => new TerraformOutput(this, name, { value, description });
    out('ipv4_address', n.ipv4.ipAddress, 'The node\'s IPv4 address (primary IP, kept across server rebuilds): the A record of the host name');
    out('ipv6_address', n.ipv6Address, 'The node\'s IPv6 address (::1 of its /64 primary IP): the AAAA record of the host name');
    out('ipv6_network', n.ipv6.ipNetwork, 'The /64 routed to the node');
    out('server_type', n.spec.serverType, 'The Hetzner server type');
    out('location', n.spec.location, 'The Hetzner location');
    out('volume_id', n.volume.id, 'The data volume (protected; survives the server)');
    const urls = nodeUrls(c);
    out('site_url', urls.site, 'The mirror\'s base URL, for the mirror application');
    out('tree_urls', Object.fromEntries(urls.trees.map(({ tree, ...u }) => [tree, u])), 'Per tree: the URLs to list in the mirror application (O1)');
    out('user_data_sha256', n.userDataSha256,
      'sha256 of the user data this config renders. When it changes, the running server keeps its first-boot config until it is replaced (README: Deploy on Hetzner Cloud)');

    applyMirrorPolicies(this);
  }
}

/**
 * `cdktf synth` runs the app with CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS set: the app then
 * writes cdk.tf.json despite error annotations and the CLI fails afterwards, leaving a rejected
 * configuration on disk for a later `terraform apply`. Without the variable, `app.synth()` throws
 * before writing anything. Call before the stacks are created (they read it in their constructor).
 */
export function refuseStacksWithErrors(): void {
  delete process.env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS;
}
