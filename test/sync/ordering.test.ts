import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../support/fixtures';
import { snapshot } from '../support/rsyncd';
import { describeWith } from '../support/tools';
import { Engine, Upstream, engine, out, runAsync, startUpstream, until, writeFiles } from './harness';

/*
 * "Never a broken mirror" seen from a client (N15): a reader polls the tree during a slowed-down
 * sync and checks, every few milliseconds, that each package the visible repomd.xml names is
 * there and complete. The same reader catches a plain `rsync --delete` breaking it (the check
 * can fail). Then a sync killed mid-transfer, and the rerun that converges.
 */
const repomd = (rev: number, packages: string[]) => `<repomd rev="${rev}">\n${packages.map((p) => `  <package>${p}</package>\n`).join('')}</repomd>\n`;

interface Watch {
  violations: string[];
  /** First poll (ms since start) at which each event was seen. */
  seen: Record<string, number>;
  stop(): void;
}

/** Polls `tree` every 3 ms: the packages repomd.xml names must exist with upstream's size. */
function watch(tree: string, sizes: Record<string, number>): Watch {
  const w: Watch = { violations: [], seen: {}, stop: () => clearInterval(timer) };
  const t0 = Date.now();
  const mark = (event: string) => (w.seen[event] ??= Date.now() - t0);
  const timer = setInterval(() => {
    let meta: string;
    try {
      meta = fs.readFileSync(path.join(tree, 'el/repodata/repomd.xml'), 'utf8');
    } catch {
      w.violations.push('repomd.xml missing');
      return;
    }
    const rev = /rev="(\d+)"/.exec(meta)?.[1];
    mark(`metadata ${rev}`);
    for (const [, p] of meta.matchAll(/<package>(.*)<\/package>/g)) {
      const f = path.join(tree, 'el/Packages', p);
      const size = fs.existsSync(f) ? fs.statSync(f).size : -1;
      if (size !== sizes[p]) w.violations.push(`metadata ${rev} names ${p}, which is ${size < 0 ? 'missing' : `${size} bytes, not ${sizes[p]}`}`);
    }
    if (!fs.existsSync(path.join(tree, 'el/Packages/old-1.0.rpm'))) mark('old-1.0.rpm gone');
    if (fs.existsSync(path.join(tree, 'el/Packages/big-2.0.rpm'))) mark('big-2.0.rpm there');
  }, 3);
  return w;
}

describeWith(['rsync', 'flock'], 'metadata last, deletions after content, as a polling reader sees it', () => {
  let root: string;
  let up: Upstream;
  let e: Engine;
  const sizes: Record<string, number> = { 'old-1.0.rpm': 40_000, 'keep-1.0.rpm': 20_000, 'big-2.0.rpm': 250_000, 'new-2.0.rpm': 10_000 };

  beforeAll(async () => {
    root = tmpDir('sync-order');
    up = await startUpstream(root);
    writeFiles(up.dir, {
      'el/Packages/old-1.0.rpm': sizes['old-1.0.rpm'],
      'el/Packages/keep-1.0.rpm': sizes['keep-1.0.rpm'],
      'el/repodata/repomd.xml': repomd(1, ['old-1.0.rpm', 'keep-1.0.rpm']),
    });
    expect(up.publish().status).toBe(0);
    e = engine(root, up.url, { strategy: 'filelist', fileList: 'fullfiletimelist-repo' });
    expect(out(await e.run())).not.toContain('FAILED');
    // Revision 2 replaces old-1.0 with a big package (slow at 100 KiB/s) and a small one.
    fs.cpSync(e.tree.path, path.join(root, 'plain'), { recursive: true, preserveTimestamps: true });
    fs.rmSync(path.join(up.dir, 'el/Packages/old-1.0.rpm'));
    writeFiles(up.dir, {
      'el/Packages/big-2.0.rpm': sizes['big-2.0.rpm'],
      'el/Packages/new-2.0.rpm': sizes['new-2.0.rpm'],
      'el/repodata/repomd.xml': repomd(2, ['keep-1.0.rpm', 'big-2.0.rpm', 'new-2.0.rpm']),
    });
    expect(up.publish().status).toBe(0);
  });

  afterAll(async () => {
    await up?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('the check can fail: plain rsync --delete removes a package revision 1 still names', async () => {
    const w = watch(path.join(root, 'plain'), sizes);
    const r = await runAsync('rsync', ['-rlpt', '--delete', '--bwlimit=100', up.url, `${path.join(root, 'plain')}/`]);
    w.stop();
    expect(r.status).toBe(0);
    expect(w.violations).toContain('metadata 1 names old-1.0.rpm, which is missing');
  });

  it('mirror-sync: content first, metadata once it is complete, deletions last; never a dangling name', async () => {
    const w = watch(e.tree.path, sizes);
    const r = await e.run([], { conf: e.variant('slow', { BWLIMIT_KIBPS: 100 }) });
    w.stop();
    expect(out(r)).not.toContain('FAILED');
    expect(w.violations).toEqual([]);
    // The reader saw the window: revision 1 while the big package arrived, then revision 2.
    expect(w.seen['metadata 1']).toBeLessThan(w.seen['big-2.0.rpm there']);
    expect(w.seen['big-2.0.rpm there']).toBeLessThanOrEqual(w.seen['metadata 2']);
    expect(w.seen['metadata 2']).toBeLessThanOrEqual(w.seen['old-1.0.rpm gone']);
    expect(w.seen['metadata 2']).toBeGreaterThan(1000); // 250 kB at 100 KiB/s came first
    expect(snapshot(e.tree.path, ['project'])).toEqual(snapshot(up.dir, ['project']));
  });

  it('a sync killed mid-transfer leaves debris; the rerun checks the whole tree and converges', async () => {
    writeFiles(up.dir, { 'el/Packages/huge-3.0.rpm': 400_000, 'el/repodata/repomd.xml': repomd(3, ['keep-1.0.rpm', 'huge-3.0.rpm']) });
    expect(up.publish().status).toBe(0);
    const packages = path.join(e.tree.path, 'el/Packages');
    let pid = 0;
    const killed = e.run([], { conf: e.variant('slow', { BWLIMIT_KIBPS: 50 }), onSpawn: (p) => (pid = p) });
    // rsync writes into a temp file next to the final name: kill everything once it exists.
    await until(() => fs.readdirSync(packages).some((f) => f.startsWith('.huge-3.0.rpm.')), 10_000, 'the transfer to start');
    process.kill(-pid, 'SIGKILL');
    expect((await killed).status).toBeNull();
    expect(fs.readdirSync(packages).filter((f) => f.startsWith('.'))).toHaveLength(1);
    expect(fs.existsSync(path.join(e.state, 'dirty'))).toBe(true);

    const r = await e.run();
    expect(out(r)).not.toContain('FAILED');
    expect(r.stdout).toContain('the last run did not finish: removing its .~tmp~ directories and checking the whole tree');
    expect(snapshot(e.tree.path, ['project'])).toEqual(snapshot(up.dir, ['project']));
    expect(fs.existsSync(path.join(e.state, 'dirty'))).toBe(false);
    expect((await e.run()).stdout).toContain('unchanged: upstream');
  });
});
