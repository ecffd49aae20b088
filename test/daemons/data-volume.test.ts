import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { renderNodeUserData } from '../../lib/roles/mirror-node/role';
import { PREPARE_DATA_VOLUME } from '../../lib/host/data-volume';
import { exampleConfig, exampleConfigAt, tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';

/*
 * The data volume's first-boot step, run as the user data ships it (its bootcmd entry) against
 * real loop devices with Debian's mkfs and blkid: a blank disk is formatted once, our file system
 * is kept with its content across any number of first boots, anything else is never touched.
 */
const isRoot = process.getuid?.() === 0;

describeWith(['losetup', 'blkid', 'mkfs.ext4', 'mkfs.xfs', 'mount', 'sfdisk', 'shellcheck'], 'data volume preparation at boot', () => {
  const dir = tmpDir('volume');
  const loops: string[] = [];
  afterAll(() => {
    for (const d of loops) run('losetup', ['-d', d]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh sparse disk on a loop device. */
  const disk = (name: string): string => {
    const file = path.join(dir, `${name}.img`);
    fs.writeFileSync(file, '');
    fs.truncateSync(file, 320 * 1024 * 1024); // xfs wants 300 MB
    const r = run('losetup', ['--find', '--show', file]);
    if (r.status !== 0) throw new Error(`losetup: ${r.stderr}`);
    loops.push(r.stdout.trim());
    return r.stdout.trim();
  };
  /** The bootcmd entry of the rendered user data, with the device swapped for `device`. */
  const bootcmd = (device: string, filesystem: 'ext4' | 'xfs' = 'ext4', wait = '30'): string[] => {
    const config = filesystem === 'ext4' ? exampleConfig('xcp-ng') : exampleConfigAt('xcp-ng', '/srv/mirror', { storage: { filesystem: 'xfs' } });
    const cmd: string[] = parse(renderNodeUserData(config, { dataDevice: '/dev/disk/by-id/test' })).bootcmd.at(-1);
    expect(cmd.slice(0, 4)).toEqual(['sh', '-c', PREPARE_DATA_VOLUME, 'mirrorfleet-data-volume']);
    return [...cmd.slice(0, 4), device, cmd[5], cmd[6], wait];
  };
  const prepare = (cmd: string[]) => run(cmd[0], cmd.slice(1), { timeoutMs: 120_000 });
  const probe = (device: string) => {
    const out = run('blkid', ['-p', '-o', 'export', device]).stdout;
    return Object.fromEntries(out.trim().split('\n').filter(Boolean).map((l) => l.split('=', 2))) as Record<string, string>;
  };

  it('runs as root (loop devices)', () => expect(isRoot).toBe(true));

  it('formats a blank disk once, then keeps it and its content on every later first boot', () => {
    const dev = disk('blank');
    const first = prepare(bootcmd(dev));
    expect(first.stderr).toContain(`formatting the empty ${dev} as ext4 labelled mirrordata`);
    expect(first.status).toBe(0);
    const fsInfo = probe(dev);
    expect(fsInfo).toMatchObject({ TYPE: 'ext4', LABEL: 'mirrordata' });

    const mnt = path.join(dir, 'mnt');
    fs.mkdirSync(mnt);
    expect(run('mount', [dev, mnt]).status).toBe(0);
    fs.writeFileSync(path.join(mnt, 'mirrored.iso'), 'the mirror');
    expect(run('umount', [mnt]).status).toBe(0);

    for (let boot = 0; boot < 2; boot++) {
      const again = prepare(bootcmd(dev));
      expect(again.stderr).toContain(`keeping the ext4 file system labelled mirrordata on ${dev}`);
      expect(again.status).toBe(0);
      expect(probe(dev).UUID).toBe(fsInfo.UUID);
    }
    expect(run('mount', [dev, mnt]).status).toBe(0);
    const content = fs.readFileSync(path.join(mnt, 'mirrored.iso'), 'utf8');
    expect(run('umount', [mnt]).status).toBe(0);
    expect(content).toBe('the mirror');
  });

  it.each([
    ['a file system with another label', (dev: string) => run('mkfs.ext4', ['-q', '-L', 'backups', dev]), 'LABEL=backups'],
    ['another file system type', (dev: string) => run('mkfs.xfs', ['-q', '-L', 'mirrordata', dev]), 'TYPE=xfs'],
    ['a partition table', (dev: string) => run('sfdisk', ['--quiet', dev], { input: 'label: gpt\n,,L\n' }), 'PTTYPE=gpt'],
  ])('refuses %s and leaves the disk as it was', (_what, make, shown) => {
    const dev = disk(`foreign-${shown.replace(/\W/g, '')}`);
    expect(make(dev).status).toBe(0);
    const before = run('blkid', ['-p', '-o', 'export', dev]).stdout;
    const r = prepare(bootcmd(dev));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`refusing to format ${dev}: it holds`);
    expect(r.stderr).toContain(shown);
    expect(run('blkid', ['-p', '-o', 'export', dev]).stdout).toBe(before);
  });

  it('formats xfs when the config asks for it', () => {
    const dev = disk('xfs');
    const r = prepare(bootcmd(dev, 'xfs'));
    expect(r.status).toBe(0);
    expect(probe(dev)).toMatchObject({ TYPE: 'xfs', LABEL: 'mirrordata' });
    expect(prepare(bootcmd(dev, 'xfs')).stderr).toContain('keeping the xfs file system');
  });

  it('waits for a volume the cloud attaches late, and gives up loudly when none comes', async () => {
    const dev = disk('late');
    const link = path.join(dir, 'by-id-late');
    const cmd = bootcmd(link);
    const child = spawn(cmd[0], cmd.slice(1));
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise((r) => setTimeout(r, 1500));
    expect(child.exitCode).toBeNull();
    fs.symlinkSync(dev, link);
    expect(await new Promise((r) => child.on('exit', r))).toBe(0);
    expect(stderr).toContain('formatting the empty');

    const none = prepare(bootcmd(path.join(dir, 'never-attached'), 'ext4', '1'));
    expect(none.status).toBe(1);
    expect(none.stderr).toContain(`no data volume at ${path.join(dir, 'never-attached')} after 1 s`);
    const notBlock = prepare(bootcmd('/dev/null', 'ext4', '1')); // a character device is no volume
    expect(notBlock.status).toBe(1);
    expect(notBlock.stderr).toContain('no data volume at /dev/null after 1 s');
  });

  it('is shellcheck-clean as POSIX sh (cloud-init runs bootcmd with sh)', () => {
    const file = path.join(dir, 'prepare-data-volume.sh');
    fs.writeFileSync(file, `#!/bin/sh\n${PREPARE_DATA_VOLUME}\n`);
    const r = run('shellcheck', ['--format=gcc', '--shell=sh', file]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
