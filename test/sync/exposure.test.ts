import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { renderNodeUserData } from '../../lib/roles/mirror-node/role';
import { exampleConfig, tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';
import { engine, out, startUpstream, writeFiles } from './harness';

/*
 * docs/sync-guarantees.md, case 6: rsync:// is plaintext, so "upstream" includes anyone on the
 * path. Modes are kept (0750 pre-bitflip content must stay private, N17) but never setuid,
 * setgid or writable by group or others, and devices and pipes are never created; the data
 * volume is mounted nosuid, nodev, noexec, so nothing planted there runs or becomes a device.
 */
const mode = (f: string) => (fs.lstatSync(f).mode & 0o7777).toString(8).padStart(4, '0');

describe.each(['filelist', 'rsync'] as const)('strategy %s', (strategy) => {
  describeWith(['rsync', 'flock', 'mkfifo'], 'modes from a hostile upstream', () => {
    let root: string;
    let up: Awaited<ReturnType<typeof startUpstream>>;

    afterAll(async () => {
      await up?.stop();
      if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    it('strips setuid, setgid and group/world write, keeps the rest, and creates no pipe', async () => {
      root = tmpDir(`sync-modes-${strategy}`);
      up = await startUpstream(root);
      writeFiles(up.dir, { 'bin/suid': '#!/bin/sh\nid\n', 'bin/sgid': 'x', 'pub/world-writable.txt': 'w', 'staged/README': 'pre-bitflip\n', 'pub/open/file': 'o' });
      const modes: Record<string, number> = { 'bin/suid': 0o4755, 'bin/sgid': 0o2755, 'pub/world-writable.txt': 0o666, 'pub/open': 0o777, staged: 0o750 };
      for (const [f, m] of Object.entries(modes)) fs.chmodSync(path.join(up.dir, f), m);
      expect(spawnSync('mkfifo', [path.join(up.dir, 'pub/pipe')]).status).toBe(0);
      expect(up.publish().status).toBe(0);
      const e = engine(root, up.url, strategy === 'filelist' ? { strategy, fileList: 'fullfiletimelist-repo', preBitflip: true } : { strategy });
      const r = await e.run();
      expect(out(r)).not.toContain('FAILED');
      const t = (f: string) => path.join(e.tree.path, f);
      expect(['bin/suid', 'bin/sgid', 'pub/world-writable.txt', 'pub/open', 'staged'].map((f) => `${f} ${mode(t(f))}`)).toEqual([
        'bin/suid 0755', 'bin/sgid 0755', 'pub/world-writable.txt 0644', 'pub/open 0755', 'staged 0750',
      ]);
      expect(fs.existsSync(t('pub/pipe'))).toBe(false);
    });
  });
});

describeWith(['mount', 'umount', 'findmnt'], 'the data volume mount options (the real mount and kernel)', () => {
  let dir: string;
  let mounted = false;

  afterAll(() => {
    if (mounted) run('umount', [dir]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the rendered fstab entry mounts the volume nosuid, nodev, noexec: a planted program does not run', () => {
    const doc = parse(renderNodeUserData(exampleConfig('fedora'), { dataDevice: '/dev/vdb' }));
    const options: string = doc.mounts[0][3];
    dir = tmpDir('mount-options');
    // The same options on a tmpfs (x-systemd.* are for systemd's fstab generator; mount(8) passes them over).
    const m = run('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
    expect(m.stderr).toBe('');
    mounted = true;
    expect(run('findmnt', ['-n', '-o', 'OPTIONS', dir]).stdout.split(',')).toEqual(expect.arrayContaining(['nosuid', 'nodev', 'noexec']));
    fs.writeFileSync(path.join(dir, 'planted'), '#!/bin/sh\necho ran\n', { mode: 0o4755 });
    const r = spawnSync(path.join(dir, 'planted'), { encoding: 'utf8' });
    expect(r.error).toMatchObject({ code: 'EACCES' });
  });
});
