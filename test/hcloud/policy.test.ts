/**
 * mirrorfleet's policy aspects (constructs/hcloud/policy): each one fails on a deliberately bad
 * stack, passes on ours, and an error stops `app.synth()`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, TerraformStack, Testing, Token } from 'cdktf';
import { firewall, primaryIp, provider, server, volume } from '../../constructs/hcloud';
import { HcloudMirrorStack } from '../../constructs/hcloud/mirror-stack';
import { applyMirrorPolicies, registerIngressTable } from '../../constructs/hcloud/policy';
import { listedRule, worldRule } from '../../lib/host/ingress';
import { exampleConfig, tmpDir } from '../support/fixtures';
import { errorAnnotations } from './helpers';

/** A stack with only the given resources and the policies, synthesized; its error annotations. */
function errorsOf(build: (stack: TerraformStack) => void): string[] {
  const stack = new TerraformStack(Testing.app(), 'bad');
  new provider.HcloudProvider(stack, 'hcloud', {});
  build(stack);
  applyMirrorPolicies(stack);
  Testing.synth(stack);
  return errorAnnotations(stack);
}

const tcp = (port: string, sourceIps: string[]) => ({ direction: 'in', protocol: 'tcp', port, sourceIps });
/** A mirror node's table: 80/443/873 for everyone, 874 and 22 for listed sources. */
const TABLE = [
  worldRule(80, 'http'), worldRule(443, 'https'), worldRule(873, 'rsync'),
  listedRule(874, 'acl', { field: ['acl'], values: ['2001:db8::/48'] }, 'tier-1'),
  listedRule(22, 'admin', { field: ['ssh'], values: ['203.0.113.0/24'] }, 'ssh'),
];
const TABLE_RULES = [tcp('80', ['0.0.0.0/0', '::/0']), tcp('443', ['0.0.0.0/0', '::/0']), tcp('873', ['0.0.0.0/0', '::/0']), tcp('874', ['2001:db8::/48']), tcp('22', ['203.0.113.0/24'])];
const withTable = (fw: firewall.Firewall) => {
  registerIngressTable(fw, TABLE);
  return fw;
};

describe('policy 1: a firewall opens exactly its ingress table, and only its world ports to everyone', () => {
  it('fails on SSH, a port range, ICMP and UDP open to 0.0.0.0/0 or ::/0', () => {
    expect(errorsOf((s) => withTable(new firewall.Firewall(s, 'fw', {
      name: 'fw',
      rule: [...TABLE_RULES, tcp('22', ['0.0.0.0/0']), tcp('80-443', ['::/0']), { direction: 'in', protocol: 'icmp', sourceIps: ['0.0.0.0/0', '::/0'] }, { direction: 'in', protocol: 'udp', port: '873', sourceIps: ['::0/0'] }],
    })))).toEqual([
      'bad/fw: mirrorfleet policy: tcp port 22 is open to 0.0.0.0/0; only tcp 80/443/873 may be open to the whole Internet (N22)',
      'bad/fw: mirrorfleet policy: tcp port 80-443 is open to ::/0; only tcp 80/443/873 may be open to the whole Internet (N22)',
      'bad/fw: mirrorfleet policy: icmp is open to 0.0.0.0/0 and ::/0; only tcp 80/443/873 may be open to the whole Internet (N22)',
      'bad/fw: mirrorfleet policy: udp port 873 is open to ::0/0; only tcp 80/443/873 may be open to the whole Internet (N22)',
    ]);
  });

  it('passes on exactly the table', () => {
    expect(errorsOf((s) => withTable(new firewall.Firewall(s, 'fw', { name: 'fw', rule: TABLE_RULES })))).toEqual([]);
  });

  it('fails on a listed port the table does not name, or a table rule the firewall lacks', () => {
    expect(errorsOf((s) => withTable(new firewall.Firewall(s, 'fw', { name: 'fw', rule: [...TABLE_RULES.slice(0, 4), tcp('22', ['198.51.100.0/24'])] })))).toEqual([
      'bad/fw: mirrorfleet policy: the firewall opens tcp port 22 from 198.51.100.0/24, which the ingress table does not list (N22)',
      'bad/fw: mirrorfleet policy: the firewall misses tcp port 22 from 203.0.113.0/24, which the ingress table lists',
    ]);
  });

  it('sees rules added by an override', () => {
    expect(errorsOf((s) => {
      const fw = withTable(new firewall.Firewall(s, 'fw', { name: 'fw', rule: TABLE_RULES }));
      // cdktf appends an overridden list to the rules the construct has.
      fw.addOverride('rule', [{ direction: 'in', protocol: 'tcp', port: '9100', source_ips: ['0.0.0.0/0'] }]);
    })).toEqual(['bad/fw: mirrorfleet policy: tcp port 9100 is open to 0.0.0.0/0; only tcp 80/443/873 may be open to the whole Internet (N22)']);
  });

  it('a firewall built without a table may open nothing to the whole Internet', () => {
    expect(errorsOf((s) => new firewall.Firewall(s, 'fw', { name: 'fw', rule: [tcp('80', ['0.0.0.0/0']), tcp('22', ['203.0.113.0/24'])] }))).toEqual([
      'bad/fw: mirrorfleet policy: tcp port 80 is open to 0.0.0.0/0; a firewall without an ingress table may open nothing to the whole Internet (N22)',
    ]);
  });
});

describe('policy 2: every volume has delete protection and prevent_destroy', () => {
  it('fails on a bare volume, once per missing protection', () => {
    expect(errorsOf((s) => new volume.Volume(s, 'data', { name: 'data', size: 10 }))).toEqual([
      'bad/data: mirrorfleet policy: volume without delete_protection = true; Hetzner would let anyone delete the mirror data (N20)',
      'bad/data: mirrorfleet policy: volume without lifecycle.prevent_destroy = true; a plan could destroy or replace the mirror data (N20)',
    ]);
    expect(errorsOf((s) => new volume.Volume(s, 'data', { name: 'data', size: 10, deleteProtection: true }))).toHaveLength(1);
  });

  it('passes with both, whether prevent_destroy comes from lifecycle or from addOverride', () => {
    expect(errorsOf((s) => new volume.Volume(s, 'data', { name: 'data', size: 10, deleteProtection: true, lifecycle: { preventDestroy: true } }))).toEqual([]);
    expect(errorsOf((s) => new volume.Volume(s, 'data', { name: 'data', size: 10, deleteProtection: true }).addOverride('lifecycle.prevent_destroy', true))).toEqual([]);
  });
});

describe('policy 3: every server has an assigned IPv6 primary IP', () => {
  const ipv6Error = 'mirrorfleet policy: server without an assigned IPv6 primary IP (public_net { ipv6_enabled = true, ipv6 = <primary IP id> }); every mirror serves IPv4 and IPv6 (N9)';

  it.each([
    ['no public_net (Hetzner would pick throwaway addresses)', undefined],
    ['IPv6 disabled', [{ ipv4Enabled: true, ipv6Enabled: false }]],
    ['IPv6 enabled but no primary IP of its own', [{ ipv4Enabled: true, ipv6Enabled: true }]],
  ])('fails with %s', (_what, publicNet) => {
    expect(errorsOf((s) => new server.Server(s, 'srv', { name: 'srv', serverType: 'cpx22', publicNet }))).toEqual([`bad/srv: ${ipv6Error}`]);
  });

  it('passes with the IPv6 primary IP assigned', () => {
    expect(errorsOf((s) => {
      const ip6 = new primaryIp.PrimaryIp(s, 'ip6', { type: 'ipv6', assigneeType: 'server', autoDelete: false });
      new server.Server(s, 'srv', { name: 'srv', serverType: 'cpx22', publicNet: [{ ipv6Enabled: true, ipv6: Token.asNumber(ip6.id), ipv4Enabled: false }] });
    })).toEqual([]);
  });
});

describe('the policies on the mirror stack', () => {
  it('catch an escape-hatch override that unprotects the volume or opens SSH to the world', () => {
    const stack = new HcloudMirrorStack(Testing.app(), 'mirror-example-org', { config: exampleConfig('xcp-ng') });
    stack.mirror.volume.addOverride('delete_protection', false);
    stack.mirror.firewall.addOverride('rule', [{ direction: 'in', protocol: 'tcp', port: '22', source_ips: ['0.0.0.0/0', '::/0'] }]);
    Testing.synth(stack);
    expect(errorAnnotations(stack)).toEqual([
      'mirror-example-org/mirror/Firewall: mirrorfleet policy: tcp port 22 is open to 0.0.0.0/0 and ::/0; only tcp 80/443/873 may be open to the whole Internet (N22)',
      'mirror-example-org/mirror/Data: mirrorfleet policy: volume without delete_protection = true; Hetzner would let anyone delete the mirror data (N20)',
    ]);
  });

  it('make app.synth() fail, naming the resource and the rule', () => {
    const outdir = tmpDir('cdktf-bad');
    const app = new App({ outdir });
    const stack = new HcloudMirrorStack(app, 'mirror-example-org', { config: exampleConfig('xcp-ng') });
    stack.mirror.server.addOverride('public_net.0.ipv6_enabled', false);
    try {
      expect(() => app.synth()).toThrow(
        /Encountered Annotations with level "ERROR":\n\[mirror-example-org\/mirror\/Server\] mirrorfleet policy: server without an assigned IPv6 primary IP/,
      );
      expect(fs.existsSync(path.join(outdir, 'stacks', 'mirror-example-org', 'cdk.tf.json'))).toBe(false);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
