import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../support/fixtures';
import { snapshot } from '../support/rsyncd';
import { describeWith } from '../support/tools';
import { Engine, Upstream, engine, out, startUpstream, writeFiles } from './harness';

/*
 * docs/sync-guarantees.md, case 1: a name the file list cannot carry (a newline, a tab) is never
 * split into a shorter name. The publisher leaves it out and says so; the engine refuses a list
 * whose lines do not parse, and neither strategy ever mirrors such a name, so nothing of its
 * prefix is deleted. Names the format can carry (unicode, a backslash before "#") arrive intact
 * and are deleted when upstream deletes them.
 */
const PACKAGES = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`el/9/os/Packages/p${i}.rpm`, 500]));
const BASE = { ...PACKAGES, 'el/9/os/repodata/repomd.xml': '<repomd/>\n', README: 'hello\n' };
const LIST = 'fullfiletimelist-repo';
const packagesOf = (e: Engine) => fs.readdirSync(path.join(e.tree.path, 'el/9/os/Packages')).filter((f) => f.endsWith('.rpm')).length;
const later = (up: Upstream, rel: string, seconds: number) => {
  const t = Math.floor(Date.now() / 1000) + seconds;
  fs.utimesSync(path.join(up.dir, rel), t, t);
};

describeWith(['rsync', 'flock', 'find'], 'names the file list cannot carry, strategy filelist', () => {
  let root: string;
  let up: Upstream;
  let e: Engine;

  beforeAll(async () => {
    root = tmpDir('sync-names');
    up = await startUpstream(root);
    writeFiles(up.dir, BASE);
    expect(up.publish().status).toBe(0);
    e = engine(root, up.url, { strategy: 'filelist', fileList: LIST });
    expect(out(await e.run())).not.toContain('FAILED');
    expect(packagesOf(e)).toBe(40);
  });

  afterAll(async () => {
    await up?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('mirror-publish leaves a name with a newline or a tab out of the list and says so; every line still parses', () => {
    writeFiles(up.dir, { 'el/9/os/Packages\nREADME': 'x', 'el/9/os/Packages\tTAB': 'y', 'el/9/os/Packages/café-1.0.rpm': 'u' });
    const r = up.publish();
    expect(r.status).toBe(0);
    expect(r.stderr.split('\n').filter(Boolean).sort()).toEqual([
      "mirror-publish: left out of the list (a name it cannot carry): $'el/9/os/Packages\\nREADME'",
      "mirror-publish: left out of the list (a name it cannot carry): $'el/9/os/Packages\\tTAB'",
    ]);
    const text = fs.readFileSync(path.join(up.dir, LIST), 'utf8');
    const files = text.slice(text.indexOf('[Files]\n') + 8, text.indexOf('\n\n[Checksums')).split('\n');
    expect(files.every((l) => l.split('\t').length === 4)).toBe(true);
    expect(files.some((l) => l.endsWith('\tel/9/os/Packages/café-1.0.rpm'))).toBe(true);
  });

  it('the engine mirrors the rest and keeps every package: nothing is cut at the newline', async () => {
    const r = await e.run();
    expect(out(r)).not.toContain('FAILED');
    expect(packagesOf(e)).toBe(41);
    expect(fs.readFileSync(path.join(e.tree.path, 'el/9/os/Packages/café-1.0.rpm'), 'utf8')).toBe('u');
    expect(fs.readdirSync(path.join(e.tree.path, 'el/9/os')).sort()).toEqual(['Packages', 'repodata']);
  });

  it('a list split by a newline (as an older publisher wrote it) is refused whole: tree kept, no hook', async () => {
    const before = { tree: snapshot(e.tree.path), hooks: e.hookCalls().length };
    // The old publisher's output for "el/9/os/Packages<newline>README": a line naming the
    // directory as a file, then "README" alone. Newer than the last list, as a new list would be.
    const file = path.join(up.dir, LIST);
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.replace('\n\n[Checksums SHA1]', `\n${Math.floor(Date.now() / 1000)}\tf\t1\tel/9/os/Packages\nREADME\n\n[Checksums SHA1]`));
    later(up, LIST, 2);
    const r = await e.run();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^mirror-sync\[repo\]: FAILED \(file list\): fullfiletimelist-repo line \d+ of \[Files\] is not TIME<tab>TYPE<tab>SIZE<tab>PATH; the list is refused\n$/);
    expect(snapshot(e.tree.path)).toEqual(before.tree);
    expect(e.hookCalls()).toHaveLength(before.hooks);
    // Upstream drops the odd name and publishes a good list: the split line ("el/9/os/Packages"
    // as a file) was never taken, so its disappearance deletes nothing.
    fs.rmSync(path.join(up.dir, 'el/9/os/Packages\nREADME'));
    expect(up.publish().status).toBe(0);
    later(up, LIST, 3);
    const next = await e.run();
    expect(out(next)).not.toContain('FAILED');
    expect(packagesOf(e)).toBe(41);
  });

  it('a list naming a path with a tab in it (five fields) is refused the same way', async () => {
    const file = path.join(up.dir, LIST);
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.replace('\n\n[Checksums SHA1]', `\n${Math.floor(Date.now() / 1000)}\tf\t1\tel/9/os/Packages\tTAB\n\n[Checksums SHA1]`));
    later(up, LIST, 5);
    const r = await e.run();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('of [Files] is not TIME<tab>TYPE<tab>SIZE<tab>PATH; the list is refused');
    expect(packagesOf(e)).toBe(41);
  });
});

describeWith(['rsync', 'flock'], 'names with a newline or a tab, strategy rsync', () => {
  let root: string;
  let up: Upstream;
  let e: Engine;

  beforeAll(async () => {
    root = tmpDir('sync-names-rsync');
    up = await startUpstream(root);
    writeFiles(up.dir, BASE);
    e = engine(root, up.url, { strategy: 'rsync' });
    expect(out(await e.run())).not.toContain('FAILED');
  });

  afterAll(async () => {
    await up?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('never mirrors them, mirrors the names rsync escapes (\\#ooo) intact, and deletes those when upstream does', async () => {
    const odd = ['café-1.0.rpm', 'back\\#134slash.rpm', 'ünïcødé.rpm'];
    writeFiles(up.dir, { 'el/9/os/Packages\nREADME': 'x', 'el/9/os/Packages\tTAB': 'y', ...Object.fromEntries(odd.map((n) => [`el/9/os/Packages/${n}`, n])) });
    const r = await e.run();
    expect(out(r)).not.toContain('FAILED');
    expect(fs.readdirSync(path.join(e.tree.path, 'el/9/os')).sort()).toEqual(['Packages', 'repodata']);
    for (const n of odd) expect(fs.readFileSync(path.join(e.tree.path, 'el/9/os/Packages', n), 'utf8')).toBe(n);
    expect(packagesOf(e)).toBe(43);
    // Upstream removes them: the plan names them as rsync escapes them; the engine decodes the
    // escapes, so each is deleted (with the escaped name, `rm` would miss it and say nothing).
    for (const n of odd) fs.rmSync(path.join(up.dir, 'el/9/os/Packages', n));
    fs.rmSync(path.join(up.dir, 'el/9/os/Packages\nREADME'));
    const next = await e.run();
    expect(out(next)).not.toContain('FAILED');
    expect(next.stdout).toContain('deleted 3 path(s) gone upstream');
    expect(snapshot(e.tree.path)).toEqual(snapshot(up.dir, ['el/9/os/Packages\tTAB']));
  });
});
