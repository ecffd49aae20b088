import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { USER_DATA_LIMITS, renderUserData as renderHostUserData } from '../../lib/host/user-data';
import { loadProjectFile } from '../../lib/project/project';
import { masterHost } from '../../lib/roles/master/role';
import { redirectorHost } from '../../lib/roles/redirector/role';
import { mirrorNodeFiles, renderNodeUserData as renderUserData } from '../../lib/roles/mirror-node/role';
import { PREPARE_DATA_VOLUME } from '../../lib/host/data-volume';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { EXAMPLES, exampleConfig, tmpDir } from '../support/fixtures';
import { extractInlineBundle } from '../support/bundle';
import { describeWith, run } from '../support/tools';

describe.each(EXAMPLES)('user data for examples/%s.yaml', (example) => {
  const config = exampleConfig(example);
  const userData = renderUserData(config, { dataDevice: '/dev/disk/by-id/virtio-mirror-data' });

  // With the bundle inline (Hetzner, bare metal); on AWS the bundle comes from S3 (test/aws).
  it(`fits Hetzner's user-data limit (${USER_DATA_LIMITS.hcloud} bytes) with every node file inline`, () => {
    expect(Buffer.byteLength(userData)).toBeLessThanOrEqual(USER_DATA_LIMITS.hcloud);
  });

  it('prepares the data volume itself at every boot (no fs_setup), mounts it by label at the tree root', () => {
    const doc = parse(userData);
    expect(doc.fs_setup).toBeUndefined();
    expect(doc.bootcmd).toEqual([['sh', '-c', PREPARE_DATA_VOLUME, 'mirrorfleet-data-volume', '/dev/disk/by-id/virtio-mirror-data', config.storage.filesystem, 'mirrordata', '30']]);
    expect(doc.mounts[0].slice(0, 3)).toEqual(['LABEL=mirrordata', config.storage.mountPoint, config.storage.filesystem]);
    expect(doc.mounts[0][3]).toContain('nofail');
  });

  it('sets the time zone explicitly and creates the sync user outside the web and rsync users (N17)', () => {
    const doc = parse(userData);
    expect(doc.timezone).toBe(config.timezone);
    const mirror = doc.users.find((u: { name?: string }) => u.name === 'mirror');
    expect(mirror).toMatchObject({ primary_group: 'mirror', system: true, shell: '/usr/sbin/nologin' });
    expect(doc.users.map((u: { name?: string } | string) => (typeof u === 'string' ? u : u.name))).not.toContain('www-data');
  });

  it('installs the packages the node runs and finishes with mirrorfleet-provision', () => {
    const doc = parse(userData);
    expect(doc.packages).toEqual(expect.arrayContaining(['apache2', 'rsync', 'certbot', 'unattended-upgrades']));
    expect(doc.runcmd[doc.runcmd.length - 1]).toEqual(['/usr/local/bin/mirrorfleet-provision']);
  });

  it('holds no secret (N22): the only password line in any node file is the run-time placeholder', () => {
    const texts = [userData, ...mirrorNodeFiles(config, NODE_LAYOUT).filter((f) => !f.asset).map((f) => f.content)];
    const passwordLines = texts.flatMap((t) => t.split('\n')).filter((line) => /^\s*password\s*[:=]/i.test(line));
    expect(passwordLines).toEqual(config.reports.reportMirror ? ['password=@MIRRORMANAGER_PASSWORD@'] : []);
  });
});

describe('the users every host\'s user data creates', () => {
  const project = loadProjectFile('examples/project.yaml');
  it.each([
    ...EXAMPLES.map((e) => [`examples/${e}.yaml`, renderUserData(exampleConfig(e))] as const),
    ['the project\'s master', renderHostUserData(masterHost(project))] as const,
    ['the project\'s redirector', renderHostUserData(redirectorHost(project))] as const,
  ])('%s: each user\'s primary group is in `groups` (cloud-init creates those first, never a named primary group)', (_, userData) => {
    const doc = parse(userData);
    const users = (doc.users as ({ name: string; primary_group?: string } | string)[]).filter((u): u is { name: string; primary_group?: string } => typeof u !== 'string');
    expect(users.length).toBeGreaterThan(0);
    const missing = users.filter((u) => u.primary_group && !(doc.groups ?? []).includes(u.primary_group)).map((u) => `${u.name}: ${u.primary_group}`);
    expect(missing).toEqual([]);
  });
});

describeWith(['cloud-init', 'tar', 'python3'], 'user data checked by the real programs', () => {
  it.each(EXAMPLES)('examples/%s.yaml passes `cloud-init schema`', (example) => {
    const dir = tmpDir('ud');
    const file = path.join(dir, 'user-data.yaml');
    fs.writeFileSync(file, renderUserData(exampleConfig(example)));
    const r = run('cloud-init', ['schema', '--config-file', file]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Valid cloud-config');
    expect(r.status).toBe(0);
  });

  it('rejects a broken cloud-config (the check can fail)', () => {
    const dir = tmpDir('ud');
    const file = path.join(dir, 'user-data.yaml');
    fs.writeFileSync(file, '#cloud-config\nwrite_files:\n  - path: /x\n    contnet: y\n');
    const r = run('cloud-init', ['schema', '--config-file', file]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/contnet/);
  });

  it.each(EXAMPLES)('examples/%s.yaml: python3 decodes the inline bundle and GNU tar extracts exactly the rendered node files', (example) => {
    // GIVEN the encoded bundle cloud-init writes
    const config = exampleConfig(example);
    const doc = parse(renderUserData(config));
    const dir = tmpDir('bundle');
    // WHEN the runcmd's first two commands run: python3 decodes it, tar extracts it (into a scratch root instead of /)
    const root = extractInlineBundle(doc, dir);
    // THEN every node file is there with its content and mode, and nothing else
    const expected = mirrorNodeFiles(config, NODE_LAYOUT);
    for (const f of expected) {
      const out = path.join(root, f.path);
      expect(fs.readFileSync(out, 'utf8')).toEqual(f.content);
      expect((fs.statSync(out).mode & 0o777).toString(8).padStart(4, '0')).toBe(f.mode);
    }
    const listed = run('tar', ['--list', '--file', path.join(dir, 'bundle.tar')]).stdout.trim().split('\n');
    expect(listed.sort()).toEqual(expected.map((f) => f.path.slice(1)).sort());
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
