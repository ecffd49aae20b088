import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../support/fixtures';
import { snapshot } from '../support/rsyncd';
import { describeWith } from '../support/tools';
import { Engine, Upstream, engine, out, startUpstream, writeFiles } from './harness';

/*
 * docs/sync-guarantees.md, cases 2, 7 and 8: a hostile or broken file list. A directory line
 * dropped from the list never deletes the files the list still names below it; every path the
 * list names is checked before anything reads it (inside the tree, no symlink, a regular file):
 * nothing outside the tree is hashed, so upstream cannot probe local files through the
 * checksums, and no device or pipe can hang the run; hashing counts against the run's bound.
 */
const LIST = 'fullfiletimelist-repo';
const PACKAGES = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`el/9/os/Packages/p${i}.rpm`, 500]));
const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const packagesOf = (e: Engine) => fs.readdirSync(path.join(e.tree.path, 'el/9/os/Packages')).length;

/** Publishes upstream, then edits the list as `edit` says, keeping it newer than the last one. */
function publishEdited(up: Upstream, edit: (text: string) => string, ahead: number): void {
  expect(up.publish().status).toBe(0);
  const file = path.join(up.dir, LIST);
  fs.writeFileSync(file, edit(fs.readFileSync(file, 'utf8')));
  const t = Math.floor(Date.now() / 1000) + ahead;
  fs.utimesSync(file, t, t);
}
const addSum = (line: string) => (text: string) => text.replace('\n\n[End]', `\n${line}\n\n[End]`);

describeWith(['rsync', 'flock', 'sha1sum', 'mkfifo', 'truncate'], 'a hostile or broken file list', () => {
  let root: string;
  let up: Upstream;
  let e: Engine;

  beforeAll(async () => {
    root = tmpDir('sync-lists');
    up = await startUpstream(root);
    writeFiles(up.dir, { ...PACKAGES, 'el/9/os/repodata/repomd.xml': '<repomd>1</repomd>\n', README: 'hello\n' });
    expect(up.publish().status).toBe(0);
    e = engine(root, up.url, { strategy: 'filelist', fileList: LIST });
    expect(out(await e.run())).not.toContain('FAILED');
  });

  afterAll(async () => {
    await up?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('a list that drops a directory line keeps every file it still names below it (case 2)', async () => {
    writeFiles(up.dir, { 'el/9/os/Packages/p40.rpm': 500 });
    publishEdited(up, (t) => t.replace(/^\d+\td\t\d+\tel\/9\/os\/Packages\n/m, ''), 2);
    expect(fs.readFileSync(path.join(up.dir, LIST), 'utf8')).not.toMatch(/\tel\/9\/os\/Packages\n/);
    const r = await e.run();
    expect(out(r)).not.toContain('FAILED');
    expect(r.stdout).toContain('kept 1 path(s) the new list still names below');
    expect(packagesOf(e)).toBe(41);
  });

  it('the delete guard counts the files a directory takes with it, not one path', async () => {
    const before = snapshot(e.tree.path);
    // The directory and all its files gone from the list (upstream unchanged): 41 of 43 files.
    publishEdited(up, (t) => t.replace(/^\d+\t[df]\t\d+\tel\/9\/os\/Packages(\/.*)?\n/gm, ''), 4);
    const r = await e.run();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/FAILED \(delete guard\): upstream would delete 41 of 4[34] files, more than 25%/);
    expect(snapshot(e.tree.path)).toEqual(before);
  });

  it('checksums of paths outside the tree are never computed, and never sent upstream (case 7)', async () => {
    writeFiles(root, { 'secret/mirrormanager-password': 'hunter2\n' });
    const secret = path.join(root, 'secret/mirrormanager-password');
    const guess = sha1('not-the-password\n'); // a wrong guess: a mismatch would be fetched "again"
    for (const [i, p] of [path.relative(e.tree.path, secret), secret].entries()) {
      const before = snapshot(e.tree.path);
      publishEdited(up, addSum(`${guess}\t${p}`), 6 + 2 * i);
      const from = up.log().length;
      const r = await e.run();
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^mirror-sync\[repo\]: FAILED \(file list\): fullfiletimelist-repo line \d+: path \S+ is not a canonical relative path; the list is refused\n$/);
      expect(up.log().slice(from)).not.toContain('mirrormanager-password');
      expect(snapshot(e.tree.path)).toEqual(before);
    }
  });

  it('a checksum naming a path through a symlink in the tree is never hashed nor fetched (case 7)', async () => {
    // A canonical path, but `el/outside` is a local link out of the tree (an admin's, say):
    // hashing through it would let upstream test a guess of the secret's content.
    writeFiles(root, { 'secret/mirrormanager-password': 'hunter2\n' });
    const secret = path.join(root, 'secret/mirrormanager-password');
    const link = path.join(e.tree.path, 'el/outside');
    fs.symlinkSync(path.dirname(secret), link);
    publishEdited(up, addSum(`${sha1('not-the-password\n')}\tel/outside/mirrormanager-password`), 9);
    const from = up.log().length;
    const r = await e.run();
    expect(out(r)).not.toContain('FAILED');
    expect(up.log().slice(from)).not.toContain('mirrormanager-password');
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(secret, 'utf8')).toBe('hunter2\n');
    fs.rmSync(link);
  });

  it('a list naming /dev/zero under its checksums is refused at once instead of hashing for ever (case 8)', async () => {
    publishEdited(up, addSum(`${sha1('')}\t/dev/zero`), 10);
    const r = await e.run();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('path /dev/zero is not a canonical relative path; the list is refused');
  });

  it('only regular files of the tree are hashed: a pipe where repomd.xml was is replaced, not read', async () => {
    expect(up.publish().status).toBe(0); // a good list again
    expect(out(await e.run())).not.toContain('FAILED');
    const repomd = path.join(e.tree.path, 'el/9/os/repodata/repomd.xml');
    fs.rmSync(repomd);
    expect(spawnSync('mkfifo', [repomd]).status).toBe(0);
    writeFiles(up.dir, { 'el/9/os/repodata/repomd.xml': '<repomd>2</repomd>\n' });
    publishEdited(up, (t) => t, 12);
    const r = await e.run();
    expect(out(r)).not.toContain('FAILED');
    expect(fs.lstatSync(repomd).isFile()).toBe(true); // (reading a pipe would block this test)
    expect(fs.readFileSync(repomd, 'utf8')).toBe('<repomd>2</repomd>\n');
  });

  it('hashing counts against the run\'s time bound (maxRuntimeMinutes covers the whole run)', async () => {
    // A huge sparse file in the tree whose checksum the new list changes: hashing it takes
    // minutes, and the run stops at its bound like any other step.
    const iso = path.join(e.tree.path, 'isos/huge.iso');
    fs.mkdirSync(path.dirname(iso), { recursive: true });
    expect(spawnSync('truncate', ['-s', '200G', iso]).status).toBe(0);
    publishEdited(up, addSum(`${sha1('x')}\tisos/huge.iso`), 14);
    const r = await e.run([], { conf: e.variant('bounded', { MAX_RUNTIME: 2 }) });
    expect(r.status).toBe(1);
    // (A process the bound stopped may have its shell's "Terminated" on stderr too.)
    expect(r.stderr.split('\n').filter((l) => l.includes('FAILED'))).toEqual(['mirror-sync[repo]: FAILED (runtime bound): stopped after 2 s (trees[].maxRuntimeMinutes)']);
    fs.rmSync(iso);
  });
});
