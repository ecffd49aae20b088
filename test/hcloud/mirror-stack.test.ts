/**
 * HcloudMirrorStack synthesized with cdktf's Testing helpers: one assertion per requirement of the
 * Hetzner issue (P2, N9, N20, N22, N23), the schema checks of the bindings on the whole stack,
 * and the user data compared with the renderer's output.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, TerraformStack, Testing } from 'cdktf';
import { server, volume } from '../../constructs/hcloud';
import { HcloudMirrorStack } from '../../constructs/hcloud/mirror-stack';
import { SERVER_IGNORED_CHANGES, escapeTemplate } from '../../constructs/hcloud/hcloud-host';
import { mirrorNodeHost } from '../../lib/roles/mirror-node/role';
import { HCLOUD_PROVIDER_VERSION } from '../../constructs/hcloud/provider-version';
import { USER_DATA_LIMITS } from '../../lib/host/user-data';
import { hcloudVolumeDevice, renderHcloudUserData } from '../../lib/host/hcloud/hcloud-host';
import { EXAMPLES, exampleConfig, tmpDir } from '../support/fixtures';
import { PUBLIC_KEY, body, errorAnnotations, flattenUserData, hcloudConfig, synthStack } from './helpers';
import { bodyProblems, loadSchema, unresolvedReferences } from './schema-checks';

const WORLD = ['0.0.0.0/0', '::/0'];
const ref = (type: string, name: string, attr = 'id') => `\${${type}.${name}.${attr}}`;
const schema = loadSchema();

describe('the default example (examples/xcp-ng.yaml) on Hetzner Cloud', () => {
  const config = exampleConfig('xcp-ng');
  const { stack, json } = synthStack(config);
  const server = body(json, 'hcloud_server', 'mirror');

  it('declares exactly the node\'s resources, under stable addresses', () => {
    const declared = Object.entries(json.resource).flatMap(([type, byName]) => Object.keys(byName as object).map((n) => `${type}.${n}`));
    expect(declared.sort()).toEqual([
      'hcloud_firewall.mirror', 'hcloud_primary_ip.mirror_ipv4', 'hcloud_primary_ip.mirror_ipv6', 'hcloud_rdns.mirror_ipv4',
      'hcloud_rdns.mirror_ipv6', 'hcloud_server.mirror', 'hcloud_volume.mirror_data', 'hcloud_volume_attachment.mirror_data',
    ]);
  });

  it('takes the API token from a sensitive variable without default, never from a file', () => {
    expect(json.variable).toEqual({ hcloud_token: { type: 'string', sensitive: true, description: expect.stringContaining('TF_VAR_hcloud_token') } });
    expect(json.provider.hcloud).toEqual([{ token: '${var.hcloud_token}' }]);
    expect(json.terraform.required_providers).toEqual({ hcloud: { source: 'hetznercloud/hcloud', version: HCLOUD_PROVIDER_VERSION } });
  });

  it('runs Debian 12 on the type sized for the bandwidth and workers (N23), in the chosen location', () => {
    expect(server).toMatchObject({ name: 'mirror.example.org', image: 'debian-12', server_type: 'cpx22', location: 'fsn1', backups: false, keep_disk: true, shutdown_before_deletion: true });
  });

  it('keeps the first-boot settings out of the plan: a config change never replaces the server by itself', () => {
    expect(server.lifecycle).toEqual({ ignore_changes: ['user_data', 'ssh_keys', 'image'] });
    expect(SERVER_IGNORED_CHANGES).toEqual(['user_data', 'ssh_keys', 'image']);
    expect(server.ssh_keys).toBeUndefined();
  });

  it('gives the server its own primary IPv4 and IPv6, kept across rebuilds and protected (N9)', () => {
    expect(server.public_net).toEqual([{ ipv4_enabled: true, ipv4: ref('hcloud_primary_ip', 'mirror_ipv4'), ipv6_enabled: true, ipv6: ref('hcloud_primary_ip', 'mirror_ipv6') }]);
    for (const family of ['ipv4', 'ipv6']) {
      expect(body(json, 'hcloud_primary_ip', `mirror_${family}`)).toEqual({
        name: `mirror.example.org-${family}`, type: family, location: 'fsn1', assignee_type: 'server', auto_delete: false,
        delete_protection: true, lifecycle: { prevent_destroy: true }, labels: { 'mirrorfleet/role': 'mirror-node', 'mirrorfleet/preset': 'xcp-ng' },
      });
    }
  });

  it('sets reverse DNS of both addresses to the host name, IPv6 on ::1 of the /64, the address the outputs give', () => {
    const ipv6Host = '${cidrhost(hcloud_primary_ip.mirror_ipv6.ip_network, 1)}';
    expect(body(json, 'hcloud_rdns', 'mirror_ipv4')).toEqual({ primary_ip_id: ref('hcloud_primary_ip', 'mirror_ipv4'), ip_address: ref('hcloud_primary_ip', 'mirror_ipv4', 'ip_address'), dns_ptr: 'mirror.example.org' });
    expect(body(json, 'hcloud_rdns', 'mirror_ipv6')).toEqual({ primary_ip_id: ref('hcloud_primary_ip', 'mirror_ipv6'), ip_address: ipv6Host, dns_ptr: 'mirror.example.org' });
    expect(json.output.ipv6_address.value).toBe(ipv6Host);
    expect(json.output.ipv4_address.value).toBe(ref('hcloud_primary_ip', 'mirror_ipv4', 'ip_address'));
  });

  it('keeps the data on a protected volume sized by N20, raw for cloud-init to format, attached without automount', () => {
    expect(body(json, 'hcloud_volume', 'mirror_data')).toEqual({
      name: 'mirror.example.org-data', size: config.storage.sizeGiB, location: 'fsn1', delete_protection: true,
      lifecycle: { prevent_destroy: true }, labels: { 'mirrorfleet/role': 'mirror-node', 'mirrorfleet/preset': 'xcp-ng' },
    });
    expect(config.storage.sizeGiB).toBe(90);
    expect(body(json, 'hcloud_volume_attachment', 'mirror_data')).toEqual({ volume_id: ref('hcloud_volume', 'mirror_data'), server_id: ref('hcloud_server', 'mirror'), automount: false });
  });

  it('opens 80, 443 and 873 on both families and nothing else, with the firewall attached at creation (N22)', () => {
    const fw = body(json, 'hcloud_firewall', 'mirror');
    expect(fw.rule.map((r: any) => ({ ...r, description: undefined }))).toEqual(
      ['80', '443', '873'].map((port) => ({ direction: 'in', protocol: 'tcp', port, source_ips: WORLD, description: undefined })),
    );
    expect(server.firewall_ids).toEqual([ref('hcloud_firewall', 'mirror')]);
  });

  it('stores its state with a relative path, outside cdktf.out', () => {
    expect(json.terraform.backend).toEqual({ local: { path: '../../../terraform.mirror-example-org.tfstate' } });
  });

  it('outputs what the mirror application needs', () => {
    const values = Object.fromEntries(Object.entries(json.output).map(([k, v]) => [k, (v as { value: unknown }).value]));
    expect(values).toEqual({
      ipv4_address: ref('hcloud_primary_ip', 'mirror_ipv4', 'ip_address'),
      ipv6_address: '${cidrhost(hcloud_primary_ip.mirror_ipv6.ip_network, 1)}',
      ipv6_network: ref('hcloud_primary_ip', 'mirror_ipv6', 'ip_network'),
      server_type: 'cpx22',
      location: 'fsn1',
      volume_id: ref('hcloud_volume', 'mirror_data'),
      site_url: 'https://mirror.example.org/',
      tree_urls: { 'xcp-ng': { http: 'http://mirror.example.org/xcp-ng/', https: 'https://mirror.example.org/xcp-ng/', rsync: 'rsync://mirror.example.org/xcp-ng/' } },
      user_data_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('passes mirrorfleet\'s own policies', () => {
    expect(errorAnnotations(stack)).toEqual([]);
  });
});

describe.each(EXAMPLES)('examples/%s.yaml synthesizes for Hetzner', (example) => {
  const config = exampleConfig(example);
  const { stack, json } = synthStack(config);
  const userData: string = body(json, 'hcloud_server', 'mirror').user_data;

  it('uses only schema arguments of the right types, and references that resolve', () => {
    const problems = Object.entries(json.resource).flatMap(([type, byName]) =>
      Object.entries(byName as Record<string, Record<string, unknown>>).flatMap(([name, b]) => {
        const { ['//']: _m, ...rest } = b;
        return bodyProblems(schema.resource_schemas[type].block, rest, `${type}.${name}`);
      }));
    expect(problems).toEqual([]);
    expect(unresolvedReferences(json, schema)).toEqual([]);
  });

  it('carries the renderer\'s user data, the data device naming the volume\'s id', () => {
    expect(flattenUserData(userData)).toEqual(renderHcloudUserData(mirrorNodeHost(config), config.hcloud, hcloudVolumeDevice('<TOKEN>')));
    const references = [...new Set([...userData.matchAll(/(?<!\$)\$\{([^}]+)\}/g)].map((m) => m[1]))];
    expect(references).toEqual(['hcloud_volume.mirror_data.id']);
    expect(userData).toContain(`/dev/disk/by-id/scsi-0HC_Volume_${ref('hcloud_volume', 'mirror_data')}`);
  });

  it('formats the volume with the configured file system and mounts it at the tree root (N20)', () => {
    const flat = flattenUserData(userData);
    expect(flat).toContain(`    - /dev/disk/by-id/scsi-0HC_Volume_<TOKEN>\n    - ${config.storage.filesystem}\n    - mirrordata\n    - "300"\n`);
    expect(flat).not.toContain('fs_setup');
    expect(flat).toContain(`- LABEL=mirrordata\n    - ${config.storage.mountPoint}\n    - ${config.storage.filesystem}`);
  });

  it('fits Hetzner\'s 32 KiB user-data limit with the longest volume id', () => {
    const longest = flattenUserData(userData).replace(/<TOKEN>/g, '9'.repeat(20));
    expect(Buffer.byteLength(longest)).toBeLessThanOrEqual(USER_DATA_LIMITS.hcloud);
  });

  it('passes mirrorfleet\'s own policies', () => {
    expect(errorAnnotations(stack)).toEqual([]);
  });
});

describe('settings that add resources and rules', () => {
  it('uploads public keys, names existing ones, and opens SSH to the admin addresses only', () => {
    const config = hcloudConfig('xcp-ng', { 'hcloud.sshKeys': [PUBLIC_KEY, 'ops-laptop'], 'hcloud.adminCidrs': ['203.0.113.0/24', '2001:db8:1::/48'] });
    const { json } = synthStack(config);
    expect(body(json, 'hcloud_ssh_key', 'mirror_admin_1')).toEqual({ name: 'mirror.example.org-admin-1', public_key: PUBLIC_KEY, labels: expect.any(Object) });
    expect(body(json, 'hcloud_server', 'mirror').ssh_keys).toEqual([ref('hcloud_ssh_key', 'mirror_admin_1'), 'ops-laptop']);
    expect(body(json, 'hcloud_firewall', 'mirror').rule.find((r: any) => r.port === '22')).toEqual({
      direction: 'in', protocol: 'tcp', port: '22', source_ips: ['203.0.113.0/24', '2001:db8:1::/48'], description: 'SSH from admin addresses (N22)',
    });
  });

  it('opens the tier-1 port to its ACL only (N11) and node_exporter to Prometheus only (N21)', () => {
    const { json } = synthStack(hcloudConfig('fedora', { 'hcloud.metricsCidrs': ['203.0.113.9'] }));
    const rules = body(json, 'hcloud_firewall', 'mirror').rule;
    expect(rules.map((r: any) => [r.port, r.source_ips])).toEqual([
      ['80', WORLD], ['443', WORLD], ['873', WORLD], ['874', ['198.51.100.7/32', '2001:db8:100::/64']], ['9100', ['203.0.113.9/32']],
    ]);
  });

  it('follows location, server type and image overrides', () => {
    const { json } = synthStack(hcloudConfig('gentoo', { 'hcloud.location': 'hel1', 'hcloud.serverType': 'ccx13', 'hcloud.image': 'debian-12' }));
    expect(body(json, 'hcloud_server', 'mirror')).toMatchObject({ location: 'hel1', server_type: 'ccx13', image: 'debian-12' });
    expect(body(json, 'hcloud_volume', 'mirror_data')).toMatchObject({ location: 'hel1', size: 1130 });
    expect(body(json, 'hcloud_primary_ip', 'mirror_ipv6').location).toBe('hel1');
  });

  it('warns (without failing) about small traffic allowances and types Hetzner stopped selling', () => {
    const warnings = (set: Record<string, unknown>) => {
      const { stack } = synthStack(hcloudConfig('xcp-ng', set));
      return stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === '@cdktf/warn').map((m) => m.data));
    };
    expect(warnings({})).toEqual([]);
    expect(warnings({ 'hcloud.location': 'sin', 'hcloud.serverType': 'cx33' })).toEqual([
      'sin (Singapore) includes about 1 TB of traffic per server, not 20 TB as in the EU; each further TB costs about €7.40',
      'Hetzner listed cx33 as not available on 2026-09-03: ordering it may fail; the CPX and CCX types were orderable',
    ]);
  });

  it('escapes Terraform template syntax in literal text', () => {
    expect(escapeTemplate('a ${b} %{c} $d')).toBe('a $${b} %%{c} $d');
    expect(flattenUserData(`${escapeTemplate('x ${y} %{z} ')}\${hcloud_volume.v.id}`)).toBe('x ${y} %{z} <TOKEN>');
    // cdktf passes the escapes through to the JSON untouched, next to a real reference.
    const stack = new TerraformStack(Testing.app(), 'escapes');
    const v = new volume.Volume(stack, 'v', { name: 'v', size: 10 });
    new server.Server(stack, 's', { name: 's', serverType: 'cpx22', userData: `${escapeTemplate('echo ${HOME} %{x}')} ${v.id}` });
    const synthesized = JSON.parse(Testing.synth(stack)).resource.hcloud_server.s.user_data;
    expect(synthesized).toBe('echo $${HOME} %%{x} ${hcloud_volume.v.id}');
  });
});

describe('app.synth() writes a stack with no path of this machine and no secret', () => {
  it('writes cdk.tf.json with a relative backend path and the token as a variable only', () => {
    const outdir = tmpDir('cdktf-out');
    const app = new App({ outdir, skipValidation: false });
    new HcloudMirrorStack(app, 'mirror-example-org', { config: exampleConfig('xcp-ng') });
    app.synth();
    const text = fs.readFileSync(path.join(outdir, 'stacks', 'mirror-example-org', 'cdk.tf.json'), 'utf8');
    fs.rmSync(outdir, { recursive: true, force: true });
    expect(text).not.toContain(outdir);
    expect(text).not.toContain(process.cwd());
    expect(text).not.toMatch(/"\/(work|tmp|home|root)\//);
    expect(JSON.parse(text).terraform.backend.local.path).toBe('../../../terraform.mirror-example-org.tfstate');
  });
});
