import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../support/fixtures';
import { describeWith } from '../support/tools';
import { Engine, PUBLISH, Upstream, engine, out, startUpstream, writeFiles } from './harness';

/*
 * docs/sync-guarantees.md, case 4: metadata after the files it names (N15) whatever upstream does
 * during the run. The upstream daemon runs a gate before each request it serves; armed with K,
 * the gate makes upstream publish its next revision (a new package, the oldest one deleted,
 * repomd.xml rewritten; with or without a new file list) just before serving request K. K runs
 * over every request of a sync, so upstream moves between each two steps of the engine. A
 * reader polls the mirror all along: every package the served repomd.xml names must be there.
 * A run that exits 0 ran its hook and left consistent metadata; one that could not get there
 * exits 1, runs no hook and leaves the previous metadata.
 */
const repomd = (dir: string) => fs.readFileSync(path.join(dir, 'el/repodata/repomd.xml'), 'utf8');
const named = (meta: string) => [...meta.matchAll(/<package>(.*)<\/package>/g)].map((m) => m[1]);
const missing = (dir: string) => named(repomd(dir)).filter((p) => !fs.existsSync(path.join(dir, 'el/Packages', p)));

/** Polls `dir` every 3 ms: a served repomd.xml naming a missing package is a bad read. */
function reader(dir: string) {
  const bad: string[] = [];
  let reads = 0;
  const timer = setInterval(() => {
    try {
      reads++;
      for (const p of missing(dir)) bad.push(`${/rev="(\d+)"/.exec(repomd(dir))?.[1]}: ${p}`);
    } catch {
      bad.push('no repomd.xml');
    }
  }, 3);
  return { bad, reads: () => reads, stop: () => clearInterval(timer) };
}

interface Gate {
  /** Publish the next revision before request K of the next run (counting from 1). */
  arm(k: number, withList: boolean): void;
  disarm(): void;
  /** Upstream's next revision now, as its master would publish it. */
  next(withList: boolean): void;
}

function gate(root: string, up: () => Upstream): Gate & { script: string } {
  const st = path.join(root, 'gate');
  fs.mkdirSync(st, { recursive: true });
  const up0 = path.join(root, 'upstream', 'repo');
  writeFiles(st, {
    rev: '1\n',
    // The master's publication: content, then metadata, then (unless mid-publish) the list.
    'next.sh': `#!/bin/sh
set -e
r=$(cat ${st}/rev); n=$((r + 1)); echo $n > ${st}/rev
head -c 3000 /dev/urandom > ${up0}/el/Packages/pkg-$n.rpm
rm -f ${up0}/el/Packages/pkg-$((r - 1)).rpm
{ echo "<repomd rev=\\"$n\\">"; for f in $(ls ${up0}/el/Packages); do echo "  <package>$f</package>"; done; echo "</repomd>"; } > ${up0}/el/repodata/.new
touch -d @$((1700000000 + n)) ${up0}/el/repodata/.new
mv ${up0}/el/repodata/.new ${up0}/el/repodata/repomd.xml
if [ "$1" = list ]; then ${PUBLISH} ${up0} fullfiletimelist-repo project/trace/master.example.org >/dev/null; fi
`,
    'gate.sh': `#!/bin/sh
n=$(($(cat ${st}/count 2>/dev/null || echo 0) + 1)); echo $n > ${st}/count
if [ -e ${st}/armed ] && [ "$n" = "$(cat ${st}/armed)" ]; then ${st}/next.sh "$(cat ${st}/with)"; fi
exit 0
`,
  });
  fs.chmodSync(path.join(st, 'next.sh'), 0o755);
  fs.chmodSync(path.join(st, 'gate.sh'), 0o755);
  return {
    script: path.join(st, 'gate.sh'),
    arm: (k, withList) => {
      fs.writeFileSync(path.join(st, 'count'), '0\n');
      fs.writeFileSync(path.join(st, 'with'), withList ? 'list\n' : 'none\n');
      fs.writeFileSync(path.join(st, 'armed'), `${k}\n`);
    },
    disarm: () => fs.rmSync(path.join(st, 'armed'), { force: true }),
    next: (withList) => {
      const r = require('node:child_process').spawnSync(path.join(st, 'next.sh'), [withList ? 'list' : 'none'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      void up;
    },
  };
}

const CASES = [
  { strategy: 'rsync', withList: false, title: 'strategy rsync, upstream publishing' },
  { strategy: 'filelist', withList: true, title: 'strategy filelist, upstream publishing content, metadata, then its list' },
  { strategy: 'filelist', withList: false, title: 'strategy filelist, upstream caught between its metadata and its list' },
] as const;

describe.each(CASES)('$title', ({ strategy, withList }) => {
  describeWith(['rsync', 'flock'], 'metadata last whatever upstream does during the run (N15)', () => {
    let root: string;
    let up: Upstream;
    let e: Engine;
    let g: ReturnType<typeof gate>;

    beforeAll(async () => {
      root = tmpDir(`sync-consistency-${strategy}`);
      g = gate(root, () => up);
      up = await startUpstream(root, 'repo', { preXfer: g.script });
      // Packages that stay, so that the one deleted per revision stays under the delete guard.
      const stable = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`el/Packages/base-${i}.rpm`, 3000]));
      writeFiles(up.dir, { ...stable, 'el/Packages/pkg-0.rpm': 3000, 'el/Packages/pkg-1.rpm': 3000, 'el/repodata/repomd.xml': '<repomd rev="1">\n  <package>pkg-0.rpm</package>\n  <package>pkg-1.rpm</package>\n</repomd>\n' });
      expect(up.publish().status).toBe(0);
      e = engine(root, up.url, strategy === 'filelist' ? { strategy, fileList: 'fullfiletimelist-repo', retries: 2 } : { strategy, retries: 2 });
      expect(out(await e.run())).not.toContain('FAILED');
    });

    afterAll(async () => {
      await up?.stop();
      if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    it.each([1, 2, 3, 4, 5, 6])('upstream moves just before request %i: no bad read, exit 0 only with consistent metadata', async (k) => {
      g.next(true); // a change to sync: the revision before the one published mid-run
      const hooks = e.hookCalls().length;
      g.arm(k, withList);
      const before = repomd(e.tree.path);
      const w = reader(e.tree.path);
      const r = await e.run();
      w.stop();
      g.disarm();
      expect(w.bad).toEqual([]);
      expect(w.reads()).toBeGreaterThan(0);
      expect(missing(e.tree.path)).toEqual([]);
      if (r.status === 0) {
        expect(out(r)).not.toContain('FAILED');
        expect(e.hookCalls().length).toBeGreaterThanOrEqual(hooks);
      } else {
        expect(r.stderr).toMatch(/FAILED \(inconsistent upstream\): .*; the previous metadata is kept\n$/);
        expect(e.hookCalls()).toHaveLength(hooks);
        expect(repomd(e.tree.path)).toBe(before);
      }
      // Once upstream has published its list, the next run converges.
      if (!withList) expect(up.publish().status).toBe(0);
      const next = await e.run();
      expect(out(next)).not.toContain('FAILED');
      expect(repomd(e.tree.path)).toBe(repomd(up.dir));
      expect(missing(e.tree.path)).toEqual([]);
    });
  });
});

describeWith(['rsync', 'flock'], 'a stale file list (a lagging or restored upstream)', () => {
  let root: string;
  let up: Upstream;
  let e: Engine;
  const LIST = 'fullfiletimelist-repo';

  afterAll(async () => {
    await up?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('an older list is refused; an old list with a new time fails on its metadata; nothing upstream still has is deleted', async () => {
    root = tmpDir('sync-stale');
    up = await startUpstream(root);
    const others = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`el/Packages/other-${i}.rpm`, 3000]));
    writeFiles(up.dir, { ...others, 'el/Packages/pkg-0.rpm': 3000, 'el/repodata/repomd.xml': '<repomd rev="1">\n  <package>pkg-0.rpm</package>\n</repomd>\n' });
    expect(up.publish().status).toBe(0);
    e = engine(root, up.url, { strategy: 'filelist', fileList: LIST, retries: 1 });
    expect(out(await e.run())).not.toContain('FAILED');
    const stale = fs.readFileSync(path.join(up.dir, LIST));
    const staleTime = fs.statSync(path.join(up.dir, LIST)).mtime;
    writeFiles(up.dir, { 'el/Packages/pkg-1.rpm': 3000, 'el/repodata/repomd.xml': '<repomd rev="2">\n  <package>pkg-0.rpm</package>\n  <package>pkg-1.rpm</package>\n</repomd>\n' });
    expect(up.publish().status).toBe(0);
    expect(out(await e.run())).not.toContain('FAILED');
    expect(missing(e.tree.path)).toEqual([]);
    // The old list back, with its old time: refused before anything is planned.
    fs.writeFileSync(path.join(up.dir, LIST), stale);
    fs.utimesSync(path.join(up.dir, LIST), staleTime, staleTime);
    const r = await e.run();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/FAILED \(file list\): fullfiletimelist-repo is older than the last good one .*: a stale upstream\?/);
    // The old list with a new time (a restored copy): its diff would delete pkg-1, which upstream
    // still has and the served metadata names; the metadata check fails the run first.
    const t = Math.floor(Date.now() / 1000) + 30;
    fs.utimesSync(path.join(up.dir, LIST), t, t);
    const r2 = await e.run();
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/FAILED \(inconsistent upstream\): el\/repodata\/repomd.xml .*the previous metadata is kept\n$/);
    expect(fs.existsSync(path.join(e.tree.path, 'el/Packages/pkg-1.rpm'))).toBe(true);
    expect(missing(e.tree.path)).toEqual([]);
  });
});
