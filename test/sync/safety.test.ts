import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../support/fixtures';
import { snapshot } from '../support/rsyncd';
import { describeWith, run } from '../support/tools';
import { Engine, Upstream, engine, out, sleep, startUpstream, until, writeFiles } from './harness';

/*
 * What must never break a mirror (N13, N15, N16): a second run, a dead upstream, an upstream that
 * suddenly lists nothing, a disk too small for the update, a run past its time bound. Each stops
 * before the tree is touched, says why in one line, and runs no hook.
 */
const CONTENT = {
  'el/9/os/Packages/a/alpha-1.0.rpm': 20_000,
  'el/9/os/Packages/b/beta-1.0.rpm': 20_000,
  'el/9/os/repodata/repomd.xml': '<repomd><revision>1</revision></repomd>\n',
  README: 'hello\n',
};

describeWith(['rsync', 'flock'], 'mirror-sync safety against a real rsync daemon', () => {
  let root: string;
  let up: Upstream;
  let e: Engine;
  const failedLines = (text: string) => text.split('\n').filter((l) => l.includes('FAILED'));

  beforeAll(async () => {
    root = tmpDir('sync-safety');
    up = await startUpstream(root);
    writeFiles(up.dir, CONTENT);
    expect(up.publish().status).toBe(0);
    e = engine(root, up.url, { strategy: 'filelist', fileList: 'fullfiletimelist-repo' });
    const first = await e.run();
    expect(out(first)).not.toContain('FAILED');
  });

  afterAll(async () => {
    await up?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('a second run while one holds the lock logs "skipped", exits 0 and touches nothing (N13)', async () => {
    const status = fs.readFileSync(path.join(e.state, 'status.json'), 'utf8');
    const holder = spawn('flock', [path.join(e.state, 'lock'), 'sleep', '5'], { stdio: 'ignore', detached: true });
    try {
      await until(() => run('flock', ['-n', path.join(e.state, 'lock'), 'true']).status !== 0, 5000, 'the lock');
      const r = await e.run();
      expect(r).toEqual({ status: 0, stdout: 'mirror-sync[repo]: another sync of this tree is running; skipped\n', stderr: '' });
      expect(fs.readFileSync(path.join(e.state, 'status.json'), 'utf8')).toBe(status);
    } finally {
      process.kill(-holder.pid!, 'SIGKILL'); // flock and its sleep, which holds the lock too
      await until(() => run('flock', ['-n', path.join(e.state, 'lock'), 'true']).status === 0, 5000, 'the lock to go');
    }
  });

  it('upstream unreachable: retries with doubling waits, then one FAILED line; tree, metrics of the last success and hooks kept', async () => {
    const before = { tree: snapshot(e.tree.path), hooks: e.hookCalls().length };
    const lastSuccess = /last_success_timestamp_seconds\{tree="repo"\} (\d+)/.exec(e.metrics())![1];
    await up.stop();
    const r = await e.run([], { conf: e.variant('retry2', { RETRIES: 2 }) });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('mirror-sync[repo]: rsync exit 10; retry 1 of 2 in 1 s\nmirror-sync[repo]: rsync exit 10; retry 2 of 2 in 2 s\n');
    expect(failedLines(r.stderr)).toEqual([expect.stringMatching(/^mirror-sync\[repo\]: FAILED \(rsync exit 10\): rsync: .*Connection refused \(111\)$/)]);
    expect(snapshot(e.tree.path)).toEqual(before.tree);
    expect(e.hookCalls()).toHaveLength(before.hooks);
    expect(e.metrics()).toContain('mirrorfleet_sync_success{tree="repo"} 0\n');
    expect(e.metrics()).toContain('mirrorfleet_sync_outcome{tree="repo",outcome="failed"} 1\n');
    expect(e.metrics()).toContain(`mirrorfleet_sync_last_success_timestamp_seconds{tree="repo"} ${lastSuccess}\n`);
    expect(e.status()).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('Connection refused') });
  });

  it('an upstream back within the retries is a normal sync', async () => {
    writeFiles(up.dir, { 'el/9/os/Packages/c/gamma-1.0.rpm': 5_000 });
    expect(up.publish().status).toBe(0);
    const running = e.run([], { conf: e.variant('retry3', { RETRIES: 3 }) });
    await sleep(1500);
    await up.start();
    const r = await running;
    expect(out(r)).not.toContain('FAILED');
    expect(r.stdout).toContain('mirror-sync[repo]: rsync exit 10; retry 1 of 3 in 1 s\n');
    expect(snapshot(e.tree.path, ['project'])).toEqual(snapshot(up.dir, ['project']));
  });

  it('an upstream that suddenly lists nothing trips the delete guard: mirror untouched, no hook (N15)', async () => {
    const before = { tree: snapshot(e.tree.path), hooks: e.hookCalls().length };
    for (const f of fs.readdirSync(up.dir)) fs.rmSync(path.join(up.dir, f), { recursive: true });
    expect(up.publish().status).toBe(0); // an empty tree (but for project/), dutifully published
    const r = await e.run();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^mirror-sync\[repo\]: FAILED \(delete guard\): upstream would delete 5 of 6 files, more than 25% \(an empty or broken upstream\?\); if it really shrank: mirror-sync \S+ --force-delete\n$/,
    );
    expect(snapshot(e.tree.path)).toEqual(before.tree);
    expect(e.hookCalls()).toHaveLength(before.hooks);
    expect(e.metrics()).toContain('mirrorfleet_sync_outcome{tree="repo",outcome="guard"} 1\n');
    // The admin's way through when upstream really shrank.
    const forced = await e.run(['--force-delete']);
    expect(out(forced)).not.toContain('FAILED');
    expect(fs.existsSync(path.join(e.tree.path, 'el'))).toBe(false);
  });

  it('a run past its time bound is stopped and reported as such; the next run checks the whole tree (N13)', async () => {
    writeFiles(up.dir, { 'isos/big.iso': 300_000 });
    expect(up.publish().status).toBe(0);
    const started = Date.now();
    const r = await e.run([], { conf: e.variant('slow', { MAX_RUNTIME: 2, BWLIMIT_KIBPS: 50 }) });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.status).toBe(1);
    expect(failedLines(r.stderr)).toEqual(['mirror-sync[repo]: FAILED (runtime bound): stopped after 2 s (trees[].maxRuntimeMinutes)']);
    const next = await e.run();
    expect(next.stdout).toContain('the last run did not finish');
    expect(snapshot(e.tree.path, ['project'])).toEqual(snapshot(up.dir, ['project']));
  });
});

describeWith(['rsync', 'flock'], 'the delete guard with the rsync strategy', () => {
  let root: string;
  let up: Upstream;

  afterAll(async () => {
    await up?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('an emptied upstream module would delete everything: the dry run shows it, the guard stops it', async () => {
    root = tmpDir('sync-guard');
    up = await startUpstream(root);
    writeFiles(up.dir, CONTENT);
    const e = engine(root, up.url, { strategy: 'rsync' });
    expect(out(await e.run())).not.toContain('FAILED');
    const before = snapshot(e.tree.path);
    for (const f of fs.readdirSync(up.dir)) fs.rmSync(path.join(up.dir, f), { recursive: true });
    const r = await e.run();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/FAILED \(delete guard\): upstream would delete 4 of 4 files, more than 25%/);
    expect(snapshot(e.tree.path)).toEqual(before);
  });
});

// A data volume too small for the update: a 2 MiB tmpfs (needs root to mount).
describeWith(['rsync', 'flock', 'mount', 'umount'], 'the free-space check on a small file system', () => {
  let root: string;
  let up: Upstream;
  let mounted = false;

  afterAll(async () => {
    await up?.stop();
    if (mounted) run('umount', [path.join(root, 'small')]);
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('refuses before starting when the expected transfer does not fit (N15)', async () => {
    root = tmpDir('sync-disk');
    fs.mkdirSync(path.join(root, 'small'));
    const m = run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', path.join(root, 'small')]);
    expect(m.stderr).toBe('');
    mounted = true;
    up = await startUpstream(root);
    writeFiles(up.dir, { 'isos/a.iso': 1_000_000, 'isos/b.iso': 1_000_000, 'isos/c.iso': 1_000_000 });
    expect(up.publish().status).toBe(0);
    const e = engine(root, up.url, { strategy: 'filelist', fileList: 'fullfiletimelist-repo', minFreeMiB: 0 }, { mountPoint: path.join(root, 'small') });
    const r = await e.run();
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`mirror-sync[repo]: FAILED (disk space): the update needs 3 MiB and 0 MiB must stay free; 2 MiB available on ${e.tree.path}\n`);
    expect(fs.readdirSync(e.tree.path)).toEqual([]);
    expect(e.metrics()).toContain('mirrorfleet_sync_outcome{tree="repo",outcome="nospace"} 1\n');
    expect(e.hookCalls()).toEqual([]);
  });
});
