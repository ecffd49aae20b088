/**
 * The hand-made hcloud bindings (constructs/hcloud) synthesize the Terraform configuration the
 * hetznercloud/hcloud provider expects: snake_case argument names, numbers where the provider's
 * schema says number, references to declared resources, the pinned provider version.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Fn, TerraformStack, TerraformVariable, Testing, Token } from 'cdktf';
import * as hcloud from '../../constructs/hcloud';
import {
  firewall, firewallAttachment, primaryIp, provider, rdns, server, sshKey, volume, volumeAttachment,
} from '../../constructs/hcloud';
import { diffDirs, generate, listFiles } from '../../constructs/hcloud/schema/generate';
import {
  bodyProblems, camelCase, hclResourceBlock, loadSchema, requiredArguments, sampleValue, unresolvedReferences,
} from './schema-checks';

const PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKt9bXQ0GmA1y3k0tq5cTz5QKXUSQkSg8mSRmPpgM3xS ops@example.org';

/** One mirror node: everything the Hetzner side of mirrorfleet creates. */
function mirrorNodeStack() {
  const stack = new TerraformStack(Testing.app(), 'hcloud-node');
  const token = new TerraformVariable(stack, 'hcloud_token', { type: 'string', sensitive: true });
  new provider.HcloudProvider(stack, 'hcloud', { token: token.stringValue, pollInterval: '1s', pollFunction: 'exponential' });
  const labels = { 'mirrorfleet/role': 'mirror' };
  const key = new sshKey.SshKey(stack, 'ops', { name: 'ops', publicKey: PUBLIC_KEY, labels });
  const base = new firewall.Firewall(stack, 'base', {
    name: 'mirror-base',
    rule: [{ direction: 'in', protocol: 'icmp', sourceIps: ['0.0.0.0/0', '::/0'], description: 'ping' }],
  });
  const web = new firewall.Firewall(stack, 'web', {
    name: 'mirror-web',
    labels,
    rule: ['80', '443', '873'].map((port) => ({ direction: 'in', protocol: 'tcp', port, sourceIps: ['0.0.0.0/0', '::/0'] })),
  });
  const ip4 = new primaryIp.PrimaryIp(stack, 'ipv4', { name: 'mirror-v4', type: 'ipv4', location: 'fsn1', assigneeType: 'server', autoDelete: false, labels });
  const ip6 = new primaryIp.PrimaryIp(stack, 'ipv6', { name: 'mirror-v6', type: 'ipv6', location: 'fsn1', assigneeType: 'server', autoDelete: false, deleteProtection: true });
  const node = new server.Server(stack, 'node', {
    name: 'mirror-fsn1-1',
    serverType: 'cx23',
    image: 'debian-12',
    location: 'fsn1',
    userData: '#cloud-config\npackage_update: true\n',
    sshKeys: [key.id],
    labels,
    firewallIds: [Token.asNumber(base.id)],
    backups: false,
    deleteProtection: true,
    rebuildProtection: true,
    shutdownBeforeDeletion: true,
    publicNet: [{ ipv4Enabled: true, ipv4: Token.asNumber(ip4.id), ipv6Enabled: true, ipv6: Token.asNumber(ip6.id) }],
  });
  const data = new volume.Volume(stack, 'data', { name: 'mirror-data', size: 50, location: 'fsn1', format: 'ext4', deleteProtection: true, labels });
  new volumeAttachment.VolumeAttachment(stack, 'data_attachment', { volumeId: Token.asNumber(data.id), serverId: Token.asNumber(node.id), automount: true });
  new firewallAttachment.FirewallAttachment(stack, 'web_attachment', {
    firewallId: Token.asNumber(web.id),
    serverIds: [Token.asNumber(node.id)],
    labelSelectors: ['mirrorfleet/role=mirror'],
  });
  new rdns.Rdns(stack, 'ptr_v4', { primaryIpId: Token.asNumber(ip4.id), ipAddress: ip4.ipAddress, dnsPtr: 'mirror.example.org' });
  new rdns.Rdns(stack, 'ptr_v6', { primaryIpId: Token.asNumber(ip6.id), ipAddress: Fn.cidrhost(ip6.ipNetwork, 1), dnsPtr: 'mirror.example.org' });
  return stack;
}

const schema = loadSchema();
const stack = mirrorNodeStack();
const synthesized = JSON.parse(Testing.synth(stack));
const ref = (type: string, name: string, attr = 'id') => `\${${type}.${name}.${attr}}`;
const labels = { 'mirrorfleet/role': 'mirror' };

describe('hcloud bindings: a full mirror node synthesizes what the provider expects', () => {
  it('pins the provider source and version constraint', () => {
    expect(synthesized.terraform.required_providers).toEqual({
      hcloud: { source: 'hetznercloud/hcloud', version: hcloud.HCLOUD_PROVIDER_VERSION },
    });
    expect(hcloud.HCLOUD_PROVIDER_VERSION).toBe('~> 1.58.0');
    expect(synthesized.provider.hcloud).toEqual([{ token: '${var.hcloud_token}', poll_interval: '1s', poll_function: 'exponential' }]);
    expect(synthesized.variable.hcloud_token).toEqual({ type: 'string', sensitive: true });
  });

  it('declares exactly the resources of the node', () => {
    const declared = Object.entries(synthesized.resource).flatMap(([type, byName]) => Object.keys(byName as object).map((n) => `${type}.${n}`));
    expect(declared.sort()).toEqual([
      'hcloud_firewall.base', 'hcloud_firewall.web', 'hcloud_firewall_attachment.web_attachment',
      'hcloud_primary_ip.ipv4', 'hcloud_primary_ip.ipv6', 'hcloud_rdns.ptr_v4', 'hcloud_rdns.ptr_v6',
      'hcloud_server.node', 'hcloud_ssh_key.ops', 'hcloud_volume.data', 'hcloud_volume_attachment.data_attachment',
    ]);
  });

  it('renders every resource with snake_case names and the schema types', () => {
    const r = synthesized.resource;
    expect(r.hcloud_server.node).toEqual({
      name: 'mirror-fsn1-1', server_type: 'cx23', image: 'debian-12', location: 'fsn1',
      user_data: '#cloud-config\npackage_update: true\n', ssh_keys: [ref('hcloud_ssh_key', 'ops')], labels,
      firewall_ids: [ref('hcloud_firewall', 'base')], backups: false, delete_protection: true,
      rebuild_protection: true, shutdown_before_deletion: true,
      public_net: [{ ipv4_enabled: true, ipv4: ref('hcloud_primary_ip', 'ipv4'), ipv6_enabled: true, ipv6: ref('hcloud_primary_ip', 'ipv6') }],
    });
    expect(r.hcloud_primary_ip).toEqual({
      ipv4: { name: 'mirror-v4', type: 'ipv4', location: 'fsn1', assignee_type: 'server', auto_delete: false, labels },
      ipv6: { name: 'mirror-v6', type: 'ipv6', location: 'fsn1', assignee_type: 'server', auto_delete: false, delete_protection: true },
    });
    expect(r.hcloud_volume.data).toEqual({ name: 'mirror-data', size: 50, location: 'fsn1', format: 'ext4', delete_protection: true, labels });
    expect(typeof r.hcloud_volume.data.size).toBe('number');
    expect(r.hcloud_volume_attachment.data_attachment).toEqual({
      volume_id: ref('hcloud_volume', 'data'), server_id: ref('hcloud_server', 'node'), automount: true,
    });
    expect(r.hcloud_firewall.base).toEqual({
      name: 'mirror-base',
      rule: [{ direction: 'in', protocol: 'icmp', source_ips: ['0.0.0.0/0', '::/0'], description: 'ping' }],
    });
    expect(r.hcloud_firewall.web.rule.map((x: { port: unknown }) => x.port)).toEqual(['80', '443', '873']);
    expect(r.hcloud_firewall.web.rule[0]).toEqual({ direction: 'in', protocol: 'tcp', port: '80', source_ips: ['0.0.0.0/0', '::/0'] });
    expect(r.hcloud_firewall_attachment.web_attachment).toEqual({
      firewall_id: ref('hcloud_firewall', 'web'), server_ids: [ref('hcloud_server', 'node')], label_selectors: ['mirrorfleet/role=mirror'],
    });
    expect(r.hcloud_rdns).toEqual({
      ptr_v4: { primary_ip_id: ref('hcloud_primary_ip', 'ipv4'), ip_address: ref('hcloud_primary_ip', 'ipv4', 'ip_address'), dns_ptr: 'mirror.example.org' },
      ptr_v6: { primary_ip_id: ref('hcloud_primary_ip', 'ipv6'), ip_address: '${cidrhost(hcloud_primary_ip.ipv6.ip_network, 1)}', dns_ptr: 'mirror.example.org' },
    });
    expect(r.hcloud_ssh_key.ops).toEqual({ name: 'ops', public_key: PUBLIC_KEY, labels });
  });

  it('uses only arguments the schema declares, with its types, and sets every required one', () => {
    const problems = Object.entries(synthesized.resource).flatMap(([type, byName]) =>
      Object.entries(byName as Record<string, Record<string, unknown>>).flatMap(([name, body]) =>
        bodyProblems(schema.resource_schemas[type].block, body, `${type}.${name}`)));
    problems.push(...bodyProblems(schema.provider.block, synthesized.provider.hcloud[0], 'provider.hcloud'));
    expect(problems).toEqual([]);
  });

  it('references only declared resources, attributes and variables', () => {
    expect(unresolvedReferences(synthesized, schema)).toEqual([]);
    expect(unresolvedReferences({ resource: {}, x: ref('hcloud_server', 'gone') }, schema)).toEqual(['hcloud_server.gone.id: no resource hcloud_server.gone']);
  });

  it('renders the same arguments as HCL (Testing.synthHcl)', () => {
    const hcl: string = Testing.synthHcl(stack);
    expect(hcl).toMatch(/required_providers \{\s*hcloud = \{[^}]*version = "~> 1\.58\.0"[^}]*source = "hetznercloud\/hcloud"/);
    for (const [type, byName] of Object.entries(synthesized.resource)) {
      for (const [name, body] of Object.entries(byName as Record<string, Record<string, unknown>>)) {
        const block = hclResourceBlock(hcl, type, name);
        const blockTypes = schema.resource_schemas[type].block.block_types ?? {};
        for (const key of Object.keys(body)) {
          expect(block).toMatch(new RegExp(key in blockTypes ? `\\n${key} \\{` : `\\n${key} = `));
        }
      }
    }
    const node = hclResourceBlock(hcl, 'hcloud_server', 'node');
    expect(node).toContain('server_type = "cx23"');
    expect(node).toContain('shutdown_before_deletion = true');
    expect(node).toMatch(/firewall_ids = \[\s*\$\{hcloud_firewall\.base\.id\}\s*\]/);
    expect(hclResourceBlock(hcl, 'hcloud_volume', 'data')).toContain('size = 50');
    expect(hclResourceBlock(hcl, 'hcloud_primary_ip', 'ipv6')).toContain('auto_delete = false');
  });
});

describe('hcloud bindings: generic checks driven by the schema', () => {
  const bindingClasses = Object.values(hcloud)
    .flatMap((ns) => (ns && typeof ns === 'object' ? Object.values(ns) : []))
    .filter((c): c is { tfResourceType: string } & (new (...args: any[]) => any) => typeof c === 'function' && 'tfResourceType' in c);
  const classFor = (type: string) => bindingClasses.find((c) => c.tfResourceType === type);

  it('lists the required arguments of every resource', () => {
    const required = Object.fromEntries(Object.entries(schema.resource_schemas).map(([t, r]) => [t, requiredArguments(r.block)]));
    expect(required).toEqual({
      hcloud_firewall: ['name'],
      hcloud_firewall_attachment: ['firewall_id'],
      hcloud_primary_ip: ['assignee_type', 'auto_delete', 'type'],
      hcloud_rdns: ['dns_ptr', 'ip_address'],
      hcloud_server: ['name', 'server_type'],
      hcloud_ssh_key: ['name', 'public_key'],
      hcloud_volume: ['name', 'size'],
      hcloud_volume_attachment: ['server_id', 'volume_id'],
    });
    expect(requiredArguments(schema.provider.block)).toEqual([]);
  });

  it('has one binding class per schema resource, and no other', () => {
    const resourceTypes = bindingClasses.map((c) => c.tfResourceType).filter((t) => t !== 'hcloud').sort();
    expect(resourceTypes).toEqual(Object.keys(schema.resource_schemas).sort());
  });

  it.each(Object.keys(loadSchema().resource_schemas))('%s: a minimal instance synthesizes every required argument', (type) => {
    const block = schema.resource_schemas[type].block;
    const config = Object.fromEntries(requiredArguments(block).map((n) => [camelCase(n), sampleValue(block.attributes![n].type)]));
    const minimal = new TerraformStack(Testing.app(), 'minimal');
    new provider.HcloudProvider(minimal, 'hcloud', {});
    new (classFor(type)!)(minimal, 'it', config);
    const body = JSON.parse(Testing.synth(minimal)).resource[type].it;
    const expected = Object.fromEntries(requiredArguments(block).map((n) => [n, sampleValue(block.attributes![n].type)]));
    expect(body).toEqual(expected);
    expect(bodyProblems(block, body, type)).toEqual([]);
  });

  it('detects a missing required argument and a wrongly typed value', () => {
    const block = schema.resource_schemas.hcloud_volume_attachment.block;
    expect(bodyProblems(block, { volume_id: '12', server_id: 3, serverId: 3 }, 'va')).toEqual([
      'va.volume_id: "12" is not a "number"', 'va.serverId: not in the schema',
    ]);
    expect(bodyProblems(block, { volume_id: 1 }, 'va')).toEqual(['va: missing required server_id']);
  });

  it('the committed bindings are exactly what generate.ts produces from the schema', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'hcloud-bindings-test-'));
    try {
      await generate(out);
      const committed = path.join(__dirname, '../../constructs/hcloud/bindings');
      expect(listFiles(out)).toContain('providers/hcloud/server/index.ts');
      expect(diffDirs(out, committed)).toEqual([]);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

// Compile-time checks, enforced by `tsc --noEmit` (the tests themselves only transpile):
// the bindings type ids as the provider does, numbers for `*_id` arguments.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
export const bindingTypeChecks: [
  Equal<volumeAttachment.VolumeAttachmentConfig['serverId'], number>,
  Equal<volumeAttachment.VolumeAttachmentConfig['volumeId'], number>,
  Equal<firewallAttachment.FirewallAttachmentConfig['firewallId'], number>,
  Equal<firewallAttachment.FirewallAttachmentConfig['serverIds'], number[] | undefined>,
  Equal<server.ServerConfig['firewallIds'], number[] | undefined>,
  Equal<server.ServerPublicNet['ipv4'], number | undefined>,
  Equal<primaryIp.PrimaryIpConfig['assigneeId'], number | undefined>,
  Equal<rdns.RdnsConfig['serverId'], number | undefined>,
  Equal<volume.VolumeConfig['size'], number>,
  Equal<firewall.FirewallRule['port'], string | undefined>,
  Equal<server.ServerConfig['labels'], { [key: string]: string } | undefined>,
] = [true, true, true, true, true, true, true, true, true, true, true];
