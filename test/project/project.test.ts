import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkAws } from '../../lib/config/aws';
import { checkHcloud } from '../../lib/config/hcloud';
import { MirrorConfigError } from '../../lib/config/problems';
import { parseMirrorList } from '../../lib/project/mirrors';
import { ProjectCheck, loadProjectFile, onMaster } from '../../lib/project/project';
import { masterAcl, renderAclFile } from '../../lib/roles/master/acl';
import { checkMasterFirewallAws, checkMasterFirewallHcloud } from '../../lib/roles/master/limits';
import { REPO, tmpDir } from '../support/fixtures';

/* project.yaml and mirrors.yaml: the files a project's infra team keeps in git (M1, R3). */
const EXAMPLE = path.join(REPO, 'examples', 'project.yaml');

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (e) {
    if (e instanceof MirrorConfigError) return [...e.lines];
    throw e;
  }
  return [];
}

/** A project directory with the example's files, edited. */
function projectWith(edit: { project?: (s: string) => string; mirrors?: (s: string) => string }): string {
  const dir = tmpDir('project');
  fs.writeFileSync(path.join(dir, 'project.yaml'), (edit.project ?? ((s) => s))(fs.readFileSync(EXAMPLE, 'utf8')));
  fs.writeFileSync(path.join(dir, 'mirrors.yaml'), (edit.mirrors ?? ((s) => s))(fs.readFileSync(path.join(REPO, 'examples', 'mirrors.yaml'), 'utf8')));
  return path.join(dir, 'project.yaml');
}

describe('examples/project.yaml', () => {
  const p = loadProjectFile(EXAMPLE, [onMaster(checkAws), onMaster(checkHcloud), checkMasterFirewallAws, checkMasterFirewallHcloud]);

  it('resolves the master from the preset and the keys it shares with mirror.yaml', () => {
    expect(p.preset.id).toBe('xcp-ng');
    expect(p.master.node.hostname).toBe('master.example.org');
    expect(p.master.node.trees.map((t) => [t.name, t.path])).toEqual([['xcp-ng', '/srv/mirror/xcp-ng']]);
    expect(p.master.node.storage.sizeGiB).toBe(90);
    expect(p.master.tier1).toBe(false);
    expect(p.master.incoming.from).toEqual(['203.0.113.10', '2001:db8:10::/64']);
  });

  it('admits the enabled mirrors\' addresses, each once, and nobody to a tier-1 module it does not run', () => {
    expect(p.mirrorList.mirrors.map((m) => [m.name, m.enabled, m.tier1])).toEqual([
      ['mirror.example.org', true, false], ['xcp.mirror.example.net', true, false], ['us-east.example.com', true, false], ['retired.example.org', false, false],
    ]);
    const acl = masterAcl(p, ['198.51.100.7', '192.0.2.99/32']);
    expect(acl.public).toEqual(['192.0.2.20/32', '192.0.2.99/32', '198.51.100.7/32', '2001:db8:100::/64', '2001:db8:77::/48', '203.0.113.77/32']);
    expect(acl.public).not.toContain('198.51.100.200/32');
    expect(renderAclFile(masterAcl(p))).toBe('# mirrorfleet: who may sync from this master (mirrors.yaml). Lines: public|tier1 CIDR.\npublic 192.0.2.20/32\npublic 198.51.100.7/32\npublic 2001:db8:100::/64\npublic 2001:db8:77::/48\npublic 203.0.113.77/32\n');
  });

  it('a tier-1 mirror reads the tier-1 module of a master that runs one', () => {
    const file = projectWith({
      project: (s) => s.replace('  storage:', '  rsync: { tier1: true }\n  storage:'),
      mirrors: (s) => s.replace('    syncFrom: [192.0.2.20]', '    tier1: true\n    syncFrom: [192.0.2.20]'),
    });
    const acl = masterAcl(loadProjectFile(file));
    expect(acl.tier1).toEqual(['192.0.2.20/32']);
    expect(acl.public).toContain('192.0.2.20/32');
  });
});

describe('a custom project\'s master', () => {
  const custom = (trees: string) => projectWith({
    project: (s) => s.replace('preset: xcp-ng', 'preset: custom').replace(/\n# The central redirector[\s\S]*$/, '\n')
      .replace('  storage:', `  trees:\n${trees}\n  storage:`),
  });

  it('sizes an automatic volume from its trees\' sizes and growth (was refused: trees[].sizeGiB was not a master key)', () => {
    const p = loadProjectFile(custom('    - { name: alma, sizeGiB: 400, growthGiBPerYear: 50 }\n    - { name: rocky, sizeGiB: 300 }'));
    expect(p.master.node.trees.map((t) => t.name)).toEqual(['alma', 'rocky']);
    // Both trees count: more than either alone with its growth.
    expect(p.master.node.storage.sizeGiB).toBeGreaterThan(750);
  });

  it('keeps a tree\'s path out of "." and ".." (was accepted: /srv/mirror/../../etc)', () => {
    const file = custom('    - { name: alma, sizeGiB: 400, path: /srv/mirror/../../etc }');
    expect(problems(() => loadProjectFile(file))).toEqual([
      expect.stringMatching(/master\.trees\[0\]\.path: "\/srv\/mirror\/\.\.\/\.\.\/etc" — an absolute path such as \/srv\/mirror\/fedora, without "\." or "\.\." components$/),
    ]);
  });
});

describe('bad project files get every problem at once, with positions', () => {
  it('project.yaml: typos, a bad key, a missing incoming block, a bad CIDR, a mirror list that is not there', () => {
    const file = projectWith({
      project: (s) => s.replace('preset: xcp-ng', 'preset: xcpng').replace('  hostname: master.example.org', '  hostnme: master.example.org')
        .replace('from: [203.0.113.10, "2001:db8:10::/64"]', 'from: [203.0.113.10/8]').replace('      - ssh-ed25519', '      - ssh-dss'),
    });
    expect(problems(() => loadProjectFile(file)).map((l) => l.replace(file, 'FILE'))).toEqual([
      'FILE:3:9 preset: "xcpng" — one of xcp-ng, fedora, gentoo, custom (did you mean "xcp-ng"?)',
      'FILE:10:3 master.hostname: missing — required: a fully qualified host name such as mirror.example.org',
      'FILE:10:3 master.hostnme: unknown key — did you mean "hostname"? allowed keys here: hostname, admin, site, timezone, bandwidthMbps, http, https, tls, storage, bitflips, aws, hcloud, trees, rsync, incoming',
      expect.stringMatching(/^FILE:24:9 master\.incoming\.keys\[0\]: "ssh-dss AAAA.*" — an OpenSSH public key line/),
      'FILE:25:12 master.incoming.from[0]: "203.0.113.10/8" — a network without host bits: did you mean 203.0.0.0/8 (or the single address 203.0.113.10)?',
    ]);
  });

  it('names the mirror list it cannot read', () => {
    const file = projectWith({ project: (s) => s.replace('mirrors: mirrors.yaml', 'mirrors: mirors.yaml') });
    expect(problems(() => loadProjectFile(file))).toEqual([`${path.join(path.dirname(file), 'mirors.yaml')}: cannot read: no such file`]);
  });

  it('runs the cloud\'s rules on the master, at master.…', () => {
    const file = projectWith({ project: (s) => s.replace('  bandwidthMbps: 1000', '  bandwidthMbps: 1000\n  aws: { instanceType: m7g.large }') });
    expect(problems(() => loadProjectFile(file, [onMaster(checkAws)])).map((l) => l.replace(file, 'FILE'))).toEqual([
      'FILE:19:24 master.aws.instanceType: "m7g.large" — a type that sustains bandwidthMbps 1000 (N23): m7g.large\'s baseline is 937 Mbit/s ("up to" figures are bursts); "auto" picks c6gn.large',
    ]);
  });
});

describe('mirrors.yaml', () => {
  const base = (name: string, extra = '') => `  - name: ${name}\n    admin: { name: A, email: a@example.org }\n    https: https://${name}/\n    countries: [FR]\n    continent: EU\n${extra}`;

  it('refuses a name contained in another (mirrorbits matches names by substring) and a duplicate', () => {
    const text = `mirrors:\n${base('mirror-se')}${base('mirror-se2')}${base('mirror-se2')}`;
    expect(problems(() => parseMirrorList(text, 'M'))).toEqual([
      'M:2:11 mirrors[0].name: "mirror-se" — a name not contained in another mirror\'s: "mirror-se2" (mirrors[1]) contains it, and mirrorbits finds mirrors by substring',
      'M:12:11 mirrors[2].name: "mirror-se2" — a name no other mirror has: mirrors[1] is also "mirror-se2"',
    ]);
  });

  it('checks each entry: URLs, codes, continent, score, CIDRs, a tier-1 mirror without addresses, a mirror without a web URL', () => {
    const text = `mirrors:
  - name: Bad_Name
    admin: { name: A, email: a@example.org }
    http: ftp://x.example.org/
    countries: [fr]
    continent: Europe
    score: 1000
    syncFrom: [10.0.0.1/8]
  - name: ok.example.org
    admin: { name: A, email: a@example.org }
    rsync: rsync://ok.example.org/x/
    countries: [FR]
    continent: EU
    tier1: true
    sponsr: { name: S }
`;
    expect(problems(() => parseMirrorList(text, 'M'))).toEqual([
      'M:2:11 mirrors[0].name: "Bad_Name" — a short name: lower-case letters, digits, "." and "-", such as mirror-fr.example.org',
      'M:4:11 mirrors[0].http: "ftp://x.example.org/" — a http:// URL such as http://mirror.example.org/xcp-ng/',
      'M:5:17 mirrors[0].countries[0]: "fr" — an upper-case ISO 3166 alpha-2 country code such as FR',
      'M:6:16 mirrors[0].continent: "Europe" — AF, AN, AS, EU, NA, OC, SA',
      'M:7:12 mirrors[0].score: 1000 — at most 100',
      'M:8:16 mirrors[0].syncFrom[0]: "10.0.0.1/8" — a network without host bits: did you mean 10.0.0.0/8 (or the single address 10.0.0.1)?',
      'M:15:5 mirrors[1].sponsr: unknown key — did you mean "sponsor"? allowed keys here: name, sponsor, admin, http, https, rsync, countries, continent, asn, countryOnly, asOnly, score, enabled, tier1, syncFrom, comment',
    ]);
    const second = `mirrors:\n${base('a.example.org').replace(/    https: .*\n/, '')}    tier1: true\n`;
    expect(problems(() => parseMirrorList(second, 'M'))).toEqual([
      'M:2:5 mirrors[0]: no http or https — an http or https URL (or both): the redirector sends clients there',
      'M:6:12 mirrors[0].tier1: true — false, or list syncFrom: a tier-1 mirror syncs from the master, which admits only listed addresses',
    ]);
  });
});

describe('the cloud firewall must hold the list (ADR 0026)', () => {
  const many = (n: number) => `mirrors:\n${Array.from({ length: n }, (_, i) => `  - name: m${i}.example.org\n    admin: { name: A, email: a@example.org }\n    https: https://m${i}.example.org/\n    countries: [FR]\n    continent: EU\n    syncFrom: [198.51.${Math.floor(i / 250)}.${i % 250}]\n`).join('')}`;
  const run = (n: number, check: ProjectCheck) => {
    const file = projectWith({ mirrors: () => many(n) });
    return problems(() => loadProjectFile(file, [check])).map((l) => l.replace(file, 'FILE'));
  };

  it('AWS: 60 inbound rules per security group, counting the world ports and the build hosts', () => {
    expect(run(54, checkMasterFirewallAws)).toEqual([]);
    expect(run(55, checkMasterFirewallAws)).toEqual([
      'FILE:6:10 mirrors: "mirrors.yaml" — a mirror list the cloud firewall can hold: the master\'s security group would need 61 inbound rules (one per source: 55 from the mirror list), above AWS\'s 60 per group; list networks (CIDRs) instead of single addresses in syncFrom where mirrors share one',
    ]);
  });

  it('Hetzner: 500 effective rules per firewall', () => {
    expect(run(494, checkMasterFirewallHcloud)).toEqual([]);
    expect(run(495, checkMasterFirewallHcloud)).toHaveLength(1);
  });
});
