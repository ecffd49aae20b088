import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../support/fixtures';
import { snapshot } from '../support/rsyncd';
import { describeWith } from '../support/tools';
import { Engine, Upstream, engine, out, runFiles, runState, startUpstream, until, writeFiles } from './harness';

/*
 * Strategy filelist (N12, N14, N15) against a real rsync daemon whose tree is published with
 * mirror-publish: convergence from empty, no-change runs that ask upstream one question and walk
 * nothing, incremental runs that move exactly the changed paths, and --full healing.
 */
describeWith(['rsync', 'flock'], 'mirror-sync, strategy filelist, against a real rsync daemon', () => {
  let root: string;
  let up: Upstream;
  let e: Engine;
  const LIST = 'fullfiletimelist-repo';
  const tree = () => e.tree.path;
  const same = () => expect(snapshot(tree(), ['project'])).toEqual(snapshot(up.dir, ['project']));
  /** The mtimes of directories `dirs` below the tree and below upstream's, to the second (as rsync compares them). */
  const dirTimes = (dirs: string[]) => [tree(), up.dir].map((top) => dirs.map((d) => `${d} ${Math.floor(fs.statSync(path.join(top, d)).mtimeMs / 1000)}`));
  /** The daemon's log lines since `from` that start a request: "rsync on MODULE/PATH from ...". */
  const requests = (from: number) => up.log().slice(from).split('\n').filter((l) => / rsync on /.test(l)).map((l) => l.replace(/^.*\] rsync on (\S+) from.*$/, '$1'));

  beforeAll(async () => {
    root = tmpDir('sync-filelist');
    up = await startUpstream(root);
    writeFiles(up.dir, {
      'el/9/os/Packages/a/alpha-1.0-1.el9.x86_64.rpm': 30_000,
      'el/9/os/Packages/b/beta-2.1-1.el9.x86_64.rpm': 20_000,
      'el/9/os/repodata/repomd.xml': '<repomd><revision>1</revision></repomd>\n',
      'el/9/os/repodata/0a1b-primary.xml.zst': 3_000,
      'isos/9/SHA256SUMS': 'abc  boot.iso\n',
      'isos/9/boot.iso': 20_000,
      README: 'hello\n',
    });
    fs.symlinkSync('9', path.join(up.dir, 'el', 'current'));
    expect(up.publish().status).toBe(0);
    e = engine(root, up.url, { strategy: 'filelist', fileList: LIST });
  });

  afterAll(async () => {
    await up?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('converges from empty: upstream\'s tree byte for byte, the list installed, hooks once', async () => {
    const r = await e.run();
    expect(out(r)).not.toContain('FAILED');
    expect(r.status).toBe(0);
    same();
    expect(fs.readFileSync(path.join(tree(), LIST))).toEqual(fs.readFileSync(path.join(up.dir, LIST)));
    // No list to compare with yet: the first plan is an rsync dry run over the tree.
    expect(runFiles(e)).toEqual(expect.arrayContaining(['plan.log', 'stage1.1.log']));
    // Seven files and upstream's own trace (project/trace/master.example.org).
    expect(r.stdout).toMatch(/^mirror-sync\[repo\]: done in \d+ s: 8 files, \d+ bytes received$/m);
    expect(e.status()).toMatchObject({ outcome: 'success', files: 8, deleted: 0 });
    expect(e.hookCalls()).toHaveLength(1);
    expect(e.metrics()).toContain('mirrorfleet_sync_outcome{tree="repo",outcome="success"} 1\n');
  });

  it('a no-change run asks upstream about the list only: no walk on either side, no hook (N14)', async () => {
    const from = up.log().length;
    const work = runState(e);
    const r = await e.run();
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`mirror-sync[repo]: unchanged: upstream ${LIST} is as at the last good sync; nothing walked or transferred\n`);
    // One request, for the list: the daemon built a file list of that one file ("total size" is
    // the list's), and the engine made no dry run, no transfer: its work directory is untouched.
    expect(requests(from)).toEqual([`repo/${LIST}`]);
    await until(() => up.log().slice(from).includes('total size'), 5000, 'the end of the daemon session');
    expect(up.log().slice(from)).toContain(`total size ${fs.statSync(path.join(up.dir, LIST)).size}\n`);
    expect(runState(e)).toEqual(work);
    expect(e.hookCalls()).toHaveLength(1);
    expect(e.status()).toMatchObject({ outcome: 'unchanged', files: 0 });
    expect(e.metrics()).toContain('mirrorfleet_sync_success{tree="repo"} 1\n');
    expect(e.metrics()).toContain('mirrorfleet_sync_outcome{tree="repo",outcome="unchanged"} 1\n');
  });

  it('incremental: the list diff moves exactly the changed paths and deletes what vanished', async () => {
    fs.rmSync(path.join(up.dir, 'el/9/os/Packages/a/alpha-1.0-1.el9.x86_64.rpm'));
    writeFiles(up.dir, {
      'el/9/os/Packages/a/alpha-1.1-1.el9.x86_64.rpm': 31_000,
      'el/9/os/Packages/g/gamma-0.1-1.el9.x86_64.rpm': 5_000,
      'el/9/os/repodata/repomd.xml': '<repomd><revision>2</revision></repomd>\n',
    });
    fs.chmodSync(path.join(up.dir, 'isos/9/boot.iso'), 0o600); // group cannot read: unlisted
    // Upstream's directories an hour old: a run that left its own times would show.
    const hourAgo = Date.now() / 1000 - 3600;
    for (const d of ['el/9/os/Packages/a', 'el/9/os/repodata', 'isos/9']) fs.utimesSync(path.join(up.dir, d), hourAgo, hourAgo);
    expect(up.publish().status).toBe(0);
    const from = up.log().length;
    const r = await e.run();
    expect(out(r)).not.toContain('FAILED');
    expect(r.stdout).toContain('mirror-sync[repo]: deleted 2 path(s) gone upstream\n');
    expect(r.stdout).toMatch(/: done in \d+ s: 3 files, \d+ bytes received$/m);
    // Directories whose entries the run renamed in or deleted: upstream's times again.
    const [mine, upstream] = dirTimes(['el/9/os/Packages/a', 'el/9/os/repodata', 'isos/9']);
    expect(mine).toEqual(upstream);
    fs.rmSync(path.join(up.dir, 'isos/9/boot.iso'));
    same();
    // The planned paths, from the two lists: the new and changed files (and directories whose
    // times changed), nothing else.
    const planned = fs.readFileSync(path.join(e.state, 'run', 'xfer'), 'utf8').split('\n').filter(Boolean);
    expect(planned.filter((p) => fs.statSync(path.join(tree(), p)).isFile()).sort()).toEqual([
      'el/9/os/Packages/a/alpha-1.1-1.el9.x86_64.rpm',
      'el/9/os/Packages/g/gamma-0.1-1.el9.x86_64.rpm',
      'el/9/os/repodata/repomd.xml',
    ]);
    // Two transfers (content, then metadata into staging) and the directories' times, each
    // naming its paths (--files-from): no walk.
    expect(requests(from)).toEqual([`repo/${LIST}`, `repo/${LIST}`, 'repo/', 'repo/', 'repo/']); // check, fetch, stage 1, stage 2, dir times
    expect(runFiles(e)).not.toContain('plan.log');
    expect(e.hookCalls()).toHaveLength(2);
  });

  it('a directory gone upstream goes with its files in one rm (never one below another), all of them counted', async () => {
    const fillers = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`el/9/os/Packages/f/filler-${i}-1.el9.x86_64.rpm`, 700]));
    writeFiles(up.dir, { ...fillers, 'extras/9/x86_64/one-1.rpm': 900, 'extras/9/x86_64/two-1.rpm': 900 });
    expect(up.publish().status).toBe(0);
    expect(out(await e.run())).not.toContain('FAILED');
    fs.rmSync(path.join(up.dir, 'extras'), { recursive: true });
    expect(up.publish().status).toBe(0);
    const r = await e.run();
    expect(out(r)).not.toContain('FAILED');
    // extras, extras/9, extras/9/x86_64 and the two packages: five paths, one of which is removed.
    expect(r.stdout).toContain('mirror-sync[repo]: deleted 5 path(s) gone upstream\n');
    expect(fs.readFileSync(path.join(e.state, 'run', 'del'), 'utf8').split('\n').filter(Boolean)).toHaveLength(5);
    expect(fs.readFileSync(path.join(e.state, 'run', 'rm'), 'utf8')).toBe('extras\n');
    same();
  });

  it('--full compares the whole tree and heals local damage the list diff cannot see', async () => {
    fs.rmSync(path.join(tree(), 'el/9/os/Packages/b/beta-2.1-1.el9.x86_64.rpm'));
    writeFiles(tree(), { 'el/9/stray.tmp': 'left behind\n' });
    expect((await e.run()).stdout).toContain('unchanged: upstream'); // the list did not change
    const r = await e.run(['--full']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('deleted 1 path(s) gone upstream');
    same();
    expect(runFiles(e)).toContain('plan.log');
  });

  it('a truncated list is refused before anything is touched', async () => {
    const before = snapshot(tree());
    const hooks = e.hookCalls().length;
    writeFiles(up.dir, { 'el/9/os/Packages/d/delta-1-1.el9.x86_64.rpm': 1_000 });
    expect(up.publish().status).toBe(0);
    const listFile = path.join(up.dir, LIST);
    const text = fs.readFileSync(listFile, 'utf8');
    fs.writeFileSync(listFile, text.slice(0, text.indexOf('[Checksums')));
    const r = await e.run();
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`mirror-sync[repo]: FAILED (file list): ${LIST} has no [End] line: truncated or corrupt\n`);
    expect(snapshot(tree())).toEqual(before);
    expect(e.status()).toMatchObject({ outcome: 'failed' });
    expect(e.hookCalls()).toHaveLength(hooks);
  });
});
