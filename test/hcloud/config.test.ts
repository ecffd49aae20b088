/**
 * Hetzner rules on the config (lib/config/hcloud.ts): server type (N23), volume limits (N20),
 * SSH and firewall sources (N22), and the exact message of each bad input.
 */
import {
  AUTO_SERVER_TYPES, HCLOUD_DEFAULTS, HCLOUD_LOCATION_NAMES, HCLOUD_SERVER_TYPES, chooseServerType,
  hcloudAdminIngress, hcloudNodeSpec, isPublicKey, vcpuNeed,
} from '../../lib/config/hcloud';
import { mirrorNodeIngress } from '../../lib/roles/mirror-node/ingress';
import { EXAMPLES, exampleConfig, docSection } from '../support/fixtures';
import { PUBLIC_KEY, hcloudConfig, problemsOf } from './helpers';

describe('Hetzner defaults and sizing', () => {
  it('applies the documented defaults to a config without an hcloud block', () => {
    expect(exampleConfig('xcp-ng').hcloud).toEqual({ location: 'fsn1', serverType: 'auto', image: 'debian-12', sshKeys: [], adminCidrs: [], metricsCidrs: [] });
    expect(HCLOUD_DEFAULTS.location).toBe('fsn1');
  });

  it('the README\'s hcloud defaults table says the same', () => {
    const text = docSection('docs/hetzner.md', 'Deploy on Hetzner Cloud');
    const defaultOf = (key: string) => text.split('\n').find((l) => l.startsWith(`| \`${key}\``))?.split('|')[2].trim();
    expect(defaultOf('hcloud.location')).toBe(`\`${HCLOUD_DEFAULTS.location}\``);
    expect(defaultOf('hcloud.serverType')).toBe(`\`${HCLOUD_DEFAULTS.serverType}\``);
    expect(defaultOf('hcloud.image')).toBe(`\`${HCLOUD_DEFAULTS.image}\``);
    for (const key of ['sshKeys', 'adminCidrs', 'metricsCidrs'] as const) {
      expect(HCLOUD_DEFAULTS[key]).toEqual([]);
      expect(defaultOf(`hcloud.${key}`)).toBe('none');
    }
  });

  it('knows Hetzner\'s six locations', () => {
    expect(HCLOUD_LOCATION_NAMES).toEqual(['fsn1', 'nbg1', 'hel1', 'ash', 'hil', 'sin']);
  });

  it.each(EXAMPLES)('examples/%s.yaml (1000 Mbit/s, 500 workers) gets cpx22: 2 vCPUs, 4 GiB', (example) => {
    const c = exampleConfig(example);
    expect(vcpuNeed(c.bandwidthMbps)).toBe(2);
    expect(chooseServerType(c)).toBe('cpx22');
  });

  it.each([
    [100, 'auto', 'cpx22'], [1000, 'auto', 'cpx22'], [1001, 'auto', 'cpx32'], [2000, 'auto', 'cpx32'],
    [4000, 'auto', 'cpx42'], [6000, 'auto', 'cpx52'], [8000, 'auto', 'cpx62'], [1000, 4000, 'cpx42'],
  ])('%d Mbit/s with maxRequestWorkers %s picks %s', (mbps, workers, expected) => {
    const c = hcloudConfig('xcp-ng', { bandwidthMbps: mbps, 'http.maxRequestWorkers': workers });
    expect(chooseServerType(c)).toBe(expected);
  });

  it('chooses only orderable types automatically, cheapest first', () => {
    const auto = AUTO_SERVER_TYPES.map((n) => HCLOUD_SERVER_TYPES.find((t) => t.name === n)!);
    expect(auto.every((t) => t.orderable)).toBe(true);
    expect(auto.map((t) => t.eurPerMonth)).toEqual([...auto.map((t) => t.eurPerMonth)].sort((a, b) => a - b));
  });

  it('keeps an override, including a well-formed type it does not know', () => {
    expect(hcloudNodeSpec(hcloudConfig('xcp-ng', { 'hcloud.serverType': 'ccx13' })).serverType).toBe('ccx13');
    const future = hcloudNodeSpec(hcloudConfig('xcp-ng', { 'hcloud.serverType': 'cpx72' }));
    expect(future.serverType).toBe('cpx72');
    expect(future.serverTypeInfo).toBeUndefined();
  });

  it('tells public keys from names of keys already in the project', () => {
    expect(isPublicKey(PUBLIC_KEY)).toBe(true);
    expect(isPublicKey('ops-laptop')).toBe(false);
    const spec = hcloudNodeSpec(hcloudConfig('xcp-ng', { 'hcloud.sshKeys': [PUBLIC_KEY, 'ops-laptop'], 'hcloud.adminCidrs': ['203.0.113.0/24'] }));
    expect(spec.sshPublicKeys).toEqual([PUBLIC_KEY]);
    expect(spec.sshKeyNames).toEqual(['ops-laptop']);
  });

  it('opens 80/443/873 to everyone and every other port only to its sources (N22)', () => {
    const c = hcloudConfig('fedora', { 'hcloud.sshKeys': ['ops'], 'hcloud.adminCidrs': ['203.0.113.5'], 'hcloud.metricsCidrs': ['2001:db8:9::9'] });
    expect([...mirrorNodeIngress(c), ...hcloudAdminIngress(c.hcloud)].map((r) => [r.port, r.audience, r.cidrs])).toEqual([
      [80, 'world', ['0.0.0.0/0', '::/0']],
      [443, 'world', ['0.0.0.0/0', '::/0']],
      [873, 'world', ['0.0.0.0/0', '::/0']],
      [874, 'acl', ['198.51.100.7/32', '2001:db8:100::/64']],
      [22, 'admin', ['203.0.113.5/32']],
      [9100, 'metrics', ['2001:db8:9::9/128']],
    ]);
  });
});

describe('bad Hetzner settings fail with one clear message each', () => {
  // A small config of our own, so the positions in the messages do not move with the examples.
  const BASE = `preset: xcp-ng
hostname: mirror.example.org
admin: { name: Example, email: admin@example.org }
site: { city: Paris, country: FR }
bandwidthMbps: 1000
`;
  const fails = (yaml: string, preset = 'xcp-ng') => problemsOf(BASE.replace('xcp-ng', preset) + yaml);
  const hcloud = (...lines: string[]) => fails(`hcloud:\n${lines.map((l) => `  ${l}\n`).join('')}`);

  it('loads the base config', () => {
    expect(fails('')).toEqual([]);
  });

  it('fails on an unknown location, with a guess', () => {
    expect(hcloud('location: fsn2')).toEqual([
      'FILE:7:13 hcloud.location: "fsn2" — did you mean "fsn1"? a Hetzner Cloud location: fsn1, nbg1, hel1, ash, hil, sin',
    ]);
  });

  it('fails on a malformed location or server type (schema)', () => {
    expect(hcloud('location: Falkenstein')).toEqual([
      'FILE:7:13 hcloud.location: "Falkenstein" — a Hetzner location such as fsn1, nbg1, hel1, ash, hil or sin',
    ]);
    expect(hcloud('serverType: CPX22')).toEqual([
      'FILE:7:15 hcloud.serverType: "CPX22" — "auto" or a Hetzner server type such as cpx22, cpx32, ccx13 or cx33',
    ]);
  });

  it('fails on a server type too small for the bandwidth and workers (N23)', () => {
    expect(hcloud('serverType: cpx12')).toEqual([
      'FILE:7:15 hcloud.serverType: "cpx12" — a type with 2 vCPUs for bandwidthMbps 1000 (one per 500 Mbit/s, at least 2) and 2.0 GiB of memory for http.maxRequestWorkers 500 (1 GiB + 2 MiB per worker): cpx12 has 1 vCPUs and 2 GiB; "auto" picks cpx22',
    ]);
    expect(fails('http: { maxRequestWorkers: 2000 }\nhcloud: { serverType: cx23 }\n')).toEqual([
      'FILE:7:23 hcloud.serverType: "cx23" — a type with 2 vCPUs for bandwidthMbps 1000 (one per 500 Mbit/s, at least 2) and 4.9 GiB of memory for http.maxRequestWorkers 2000 (1 GiB + 2 MiB per worker): cx23 has 2 vCPUs and 4 GiB; "auto" picks cpx32',
    ]);
  });

  it('fails on a type Hetzner removed, naming its successor', () => {
    expect(hcloud('serverType: cx22')).toEqual([
      'FILE:7:15 hcloud.serverType: "cx22" — a type Hetzner still sells: cx22 was removed (deprecated 2024-06-06 or 2025-10-16), its successor is cx23; "auto" picks cpx22',
    ]);
  });

  it('fails on a volume above Hetzner\'s 10 TB', () => {
    expect(fails('storage: { sizeGiB: 20000 }\n')).toEqual([
      'FILE:6:21 storage.sizeGiB: 20000 — at most 10240 on Hetzner Cloud: its largest volume is 10 TB (10240 GB)',
    ]);
  });

  it('fails on a volume below the preset\'s minimum (the prerequisites check)', () => {
    expect(fails('storage: { sizeGiB: 500 }\n', 'gentoo')).toEqual([
      'FILE:6:21 storage.sizeGiB: 500 — at least 800: Gentoo source mirror guide (wiki.gentoo.org/wiki/Project:Mirrors/Source_mirrors) requires: "Hosting a mirror requires a minimum of 800 GiB available disk space."',
    ]);
  });

  it('fails on SSH keys without admin addresses, and on admin addresses without keys (N22)', () => {
    expect(hcloud(`sshKeys: ["${PUBLIC_KEY}"]`)).toEqual([
      'FILE:7:3 hcloud.adminCidrs: missing — required with hcloud.sshKeys: the admin addresses or CIDRs allowed to SSH in; the firewall opens port 22 to nobody else (N22)',
    ]);
    expect(hcloud('adminCidrs: [203.0.113.0/24]')).toEqual([
      'FILE:7:3 hcloud.sshKeys: missing — required with hcloud.adminCidrs: without a key nobody can log in over SSH; leave both out for a node without SSH (N22)',
    ]);
  });

  it('fails on the whole Internet as an SSH, metrics or tier-1 source', () => {
    expect(hcloud('sshKeys: [ops]', 'adminCidrs: ["::/0"]', 'metricsCidrs: [0.0.0.0/0]')).toEqual([
      'FILE:8:16 hcloud.adminCidrs[0]: "::/0" — an admin network, never the whole Internet: the firewall opens port 22 to these only (N22)',
      'FILE:9:18 hcloud.metricsCidrs[0]: "0.0.0.0/0" — your Prometheus server\'s address, never the whole Internet: the firewall opens port 9100 to these only (N22)',
    ]);
    expect(fails('rsync: { private: { allow: [0.0.0.0/0] } }\n')).toEqual([
      'FILE:6:29 rsync.private.allow[0]: "0.0.0.0/0" — the listed hosts\' addresses, never the whole Internet: the firewall opens port 874 to these only (N22)',
    ]);
  });

  it('fails on a truncated public key', () => {
    expect(hcloud('sshKeys: ["ssh-ed25519 AAAAC3Nza"]', 'adminCidrs: [203.0.113.0/24]')).toEqual([
      'FILE:7:13 hcloud.sshKeys[0]: "ssh-ed25519 AAAAC3Nza..." — a whole OpenSSH public key line ("ssh-ed25519 AAAA... comment") or the name of a key already in the Hetzner project',
    ]);
  });

  it('reports every problem at once', () => {
    expect(fails('storage: { sizeGiB: 11000 }\nhcloud: { location: hel2, serverType: cpx12, sshKeys: [ops] }\n')).toHaveLength(4);
  });

  it('the construct refuses a config that skipped the Hetzner checks', () => {
    const c = { ...exampleConfig('xcp-ng') };
    const bad = { ...c, hcloud: { ...c.hcloud, location: 'mars1' } };
    expect(() => hcloudNodeSpec(bad)).toThrow(/^mirror node mirror\.example\.org cannot run on Hetzner Cloud:\nhcloud\.location: a Hetzner Cloud location: fsn1, nbg1, hel1, ash, hil, sin$/);
  });
});
