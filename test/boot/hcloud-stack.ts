import { Testing } from 'cdktf';
import { HcloudMirrorStack } from '../../constructs/hcloud/mirror-stack';
import { NodeConfig } from '../../lib/config/node-config';

/**
 * What Hetzner Cloud hands a mirror node, from the synthesized Terraform configuration: the
 * server's user_data as Terraform renders it (the volume's id interpolated with this test's id,
 * the template escapes `$${` and `%%{` undone) and the firewall's rules as the cloud applies them.
 * So the boot proves the stack's escaping and interpolation, not only the renderer behind it.
 */
export const TEST_HCLOUD_VOLUME_ID = '100200300';

export interface HcloudFirewallRule {
  readonly direction: string;
  readonly protocol: string;
  readonly port: string;
  readonly source_ips: readonly string[];
  readonly description: string;
}

export interface HcloudStackRender {
  readonly userData: string;
  readonly firewall: readonly HcloudFirewallRule[];
  readonly seconds: number;
}

export function synthHcloudNode(config: NodeConfig): HcloudStackRender {
  const t0 = Date.now();
  const stack = new HcloudMirrorStack(Testing.app(), 'boot-test', { config });
  const json = JSON.parse(Testing.synth(stack)) as { resource: Record<string, Record<string, Record<string, unknown>>> };
  const only = (type: string) => {
    const all = Object.entries(json.resource[type] ?? {});
    if (all.length !== 1) throw new Error(`expected one ${type} in the Terraform configuration, found ${all.length}`);
    return all[0];
  };
  const [volumeName] = only('hcloud_volume');
  const [, server] = only('hcloud_server');
  const [, firewall] = only('hcloud_firewall');
  const refs: Record<string, string> = { [`hcloud_volume.${volumeName}.id`]: TEST_HCLOUD_VOLUME_ID };
  const userData = terraformTemplate(String(server.user_data), refs);
  return { userData, firewall: firewall.rule as HcloudFirewallRule[], seconds: (Date.now() - t0) / 1000 };
}

/** A Terraform string template with plain references only: `${ref}` filled from `refs`, `$${` and `%%{` unescaped. */
export function terraformTemplate(text: string, refs: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$\{|%%\{|\$\{([^}]*)\}|%\{([^}]*)\}/g, (m, ref?: string, directive?: string) => {
    if (m === '$${') return '${';
    if (m === '%%{') return '%{';
    if (directive !== undefined) throw new Error(`the user data holds a template directive %{${directive}}`);
    const v = refs[ref!.trim()];
    if (v === undefined) throw new Error(`the user data refers to \${${ref}}, which this test does not play`);
    return v;
  });
}
