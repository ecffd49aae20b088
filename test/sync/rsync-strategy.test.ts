import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../support/fixtures';
import { snapshot } from '../support/rsyncd';
import { describeWith } from '../support/tools';
import { Engine, Upstream, engine, out, runFiles, runState, startUpstream, until, writeFiles } from './harness';

/*
 * Strategy rsync (the guides' rsync, made safe) with a precheck marker (N14), excludes (N18),
 * and without a marker: then every run is one dry run over the tree, and a no-change one stops
 * there without hooks.
 */
describeWith(['rsync', 'flock'], 'mirror-sync, strategy rsync with a precheck marker', () => {
  let root: string;
  let up: Upstream;
  let e: Engine;
  const mine = () => snapshot(e.tree.path, ['project', 'debug']);
  const theirs = () => snapshot(up.dir, ['debug']);

  beforeAll(async () => {
    root = tmpDir('sync-rsync');
    up = await startUpstream(root);
    writeFiles(up.dir, {
      'timestamp.txt': '1700000000\n',
      'releases/45/x86_64/os/Packages/a.rpm': 10_000,
      'releases/45/x86_64/os/Packages/c.rpm': 10_000,
      'releases/45/x86_64/os/Packages/d.rpm': 10_000,
      'releases/45/x86_64/os/Packages/e.rpm': 10_000,
      'releases/45/x86_64/os/repodata/repomd.xml': '<repomd>1</repomd>\n',
      'debug/a-debuginfo.rpm': 30_000,
    });
    // The Fedora example allows excludes; this tree leaves /debug out.
    e = engine(root, up.url, { strategy: 'rsync', precheck: 'timestamp.txt', excludes: ['/debug'] }, { example: 'fedora' });
  });

  afterAll(async () => {
    await up?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('converges from empty without the excluded directory', async () => {
    const r = await e.run();
    expect(out(r)).not.toContain('FAILED');
    expect(mine()).toEqual(theirs());
    expect(fs.existsSync(path.join(e.tree.path, 'debug'))).toBe(false);
    expect(e.hookCalls()).toHaveLength(1);
  });

  it('an unchanged marker ends the run after one request for it (N14)', async () => {
    const from = up.log().length;
    const work = runState(e);
    const r = await e.run();
    expect(r.stdout).toBe('mirror-sync[repo]: unchanged: upstream timestamp.txt is as at the last good sync; nothing walked or transferred\n');
    await until(() => up.log().slice(from).includes('total size'), 5000, 'the end of the daemon session');
    expect(up.log().slice(from).match(/rsync on \S+/g)).toEqual(['rsync on repo/timestamp.txt']);
    expect(runState(e)).toEqual(work);
    expect(e.hookCalls()).toHaveLength(1);
  });

  it('the marker is the contract: content changed without it waits; once it moves, the sync runs', async () => {
    writeFiles(up.dir, { 'releases/45/x86_64/os/Packages/b.rpm': 5_000, 'releases/45/x86_64/os/repodata/repomd.xml': '<repomd>10</repomd>\n' }); // size differs: rsync's quick check
    fs.rmSync(path.join(up.dir, 'releases/45/x86_64/os/Packages/a.rpm'));
    expect((await e.run()).stdout).toContain('unchanged: upstream timestamp.txt');
    writeFiles(e.tree.path, { 'debug/local-only.rpm': 'kept: excluded paths are not ours to delete\n' });
    // A new marker: upstream writes it at least a second later (the check compares mode, size
    // and time to the second, like rsync's quick check).
    writeFiles(up.dir, { 'timestamp.txt': '1700003600\n' }, Math.floor(Date.now() / 1000) + 5);
    const r = await e.run();
    expect(out(r)).not.toContain('FAILED');
    expect(r.stdout).toContain('deleted 1 path(s) gone upstream');
    expect(mine()).toEqual(theirs());
    expect(fs.existsSync(path.join(e.tree.path, 'debug/local-only.rpm'))).toBe(true);
    expect(e.hookCalls()).toHaveLength(2);
  });

  it('without a marker, a no-change run is one dry run over the tree and reports unchanged, no hook', async () => {
    const conf = e.variant('nomarker', { PRECHECK: "''" });
    const r = await e.run([], { conf });
    expect(r.stdout).toBe('mirror-sync[repo]: unchanged: the tree already matches upstream: nothing to transfer or delete\n');
    expect(runFiles(e)).toContain('plan.log');
    expect(runFiles(e).filter((f) => /^(stage|verify)/.test(f))).toEqual([]);
    expect(e.hookCalls()).toHaveLength(2);
    expect(e.status()).toMatchObject({ outcome: 'unchanged' });
  });
});
