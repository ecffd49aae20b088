import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';
import { PUBLISH, runAsync, runSync, writeFiles } from './harness';

/*
 * mirror-publish (M2): the master's file list in quick-fedora-mirror's fullfiletimelist format
 * (node-practice §1.2) and the trace after it. Its consumers are tested in the other files.
 */
describeWith(['find', 'sha1sum'], 'mirror-publish writes the file list, then the trace', () => {
  let root: string;
  let dir: string;
  const LIST = 'fullfiletimelist-pub';
  const TRACE = 'project/trace/master.example.org';
  const publish = () => runSync(PUBLISH, [dir, LIST, TRACE]);
  const section = (text: string, name: string) => {
    const lines = text.split('\n');
    const start = lines.indexOf(`[${name}]`);
    return lines.slice(start + 1, lines.indexOf('', start));
  };

  beforeAll(() => {
    root = tmpDir('publish');
    dir = path.join(root, 'pub');
    writeFiles(dir, {
      'el/9/repodata/repomd.xml': '<repomd/>\n',
      'el/9/Packages/a.rpm': 'a',
      'releases/45/README': 'staged\n', // pre-bitflip: 0750 directory
      'private.key': 'x', // 0600: the group cannot read it, so it is left out
      'group-only.txt': 'g', // 0640: listed, marked restricted
      '.~tmp~/partial': 'p',
    });
    fs.chmodSync(path.join(dir, 'releases/45'), 0o750);
    fs.chmodSync(path.join(dir, 'private.key'), 0o600);
    fs.chmodSync(path.join(dir, 'group-only.txt'), 0o640);
    fs.symlinkSync('9', path.join(dir, 'el/current'));
    // An mtime in the future: the list carries max(mtime, ctime).
    fs.utimesSync(path.join(dir, 'el/9/Packages/a.rpm'), 4_000_000_000, 4_000_000_000);
  });

  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('lists every readable entry as mtime, type, size, path, with restricted markers and repomd.xml checksums', () => {
    const r = publish();
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`mirror-publish: ${dir}/${LIST} and ${dir}/${TRACE} published\n`);
    const text = fs.readFileSync(path.join(dir, LIST), 'utf8');
    const files = section(text, 'Files').map((l) => l.split('\t'));
    expect(files.every((f) => f.length === 4 && /^\d+$/.test(f[0]) && /^\d+$/.test(f[2]))).toBe(true);
    const byPath = Object.fromEntries(files.map(([t, type, size, p]) => [p, { t: Number(t), type, size: Number(size) }]));
    expect(Object.keys(byPath).sort()).toEqual([
      'el', 'el/9', 'el/9/Packages', 'el/9/Packages/a.rpm', 'el/9/repodata', 'el/9/repodata/repomd.xml', 'el/current',
      'group-only.txt', 'project', 'releases', 'releases/45', 'releases/45/README',
    ]);
    expect(byPath['el/9/Packages/a.rpm']).toEqual({ t: 4_000_000_000, type: 'f', size: 1 });
    expect(byPath['el/current']).toEqual(expect.objectContaining({ type: 'l', size: 1 }));
    expect(byPath['releases/45'].type).toBe('d-');
    expect(byPath['releases/45/README'].type).toBe('f*');
    expect(byPath['group-only.txt'].type).toBe('f-');
    const st = fs.statSync(path.join(dir, 'el/9/repodata/repomd.xml'));
    expect(byPath['el/9/repodata/repomd.xml'].t).toBe(Math.floor(Math.max(st.mtimeMs, st.ctimeMs) / 1000));
    const sha1 = createHash('sha1').update('<repomd/>\n').digest('hex');
    expect(section(text, 'Checksums SHA1')).toEqual([`${sha1}\tel/9/repodata/repomd.xml`]);
    expect(section(text, 'Version')).toEqual(['3']);
    // quick-fedora-mirror's own checks (check_file_list_version; the "[End]" test).
    expect(run('awk', ['-F', '\t', '/^\\[Version/ {s=1; next} /^$/ {exit} {if (s) print $0}', path.join(dir, LIST)]).stdout).toBe('3\n');
    expect(text.split('\n').slice(-3)).toEqual(['', '[End]', '']);
    expect(fs.existsSync(path.join(dir, '.~tmp~', 'mirror-publish'))).toBe(false);
  });

  it('the trace names the list it follows', () => {
    const trace = fs.readFileSync(path.join(dir, TRACE), 'utf8');
    const sha1 = createHash('sha1').update(fs.readFileSync(path.join(dir, LIST))).digest('hex');
    expect(trace).toContain(`File-List: ${LIST}\nFile-List-SHA1: ${sha1}\n`);
    expect(trace).toMatch(/^Epoch: \d+$/m);
  });

  it('an unchanged tree leaves list and trace alone: downstreams see no change', () => {
    const before = [LIST, TRACE].map((f) => fs.statSync(path.join(dir, f)).mtimeMs);
    expect(publish().stdout).toBe(`mirror-publish: ${dir}/${LIST} unchanged\n`);
    expect([LIST, TRACE].map((f) => fs.statSync(path.join(dir, f)).mtimeMs)).toEqual(before);
  });

  it('two runs at once take turns (a master publishing from two triggers): both succeed, round after round (case 14)', async () => {
    for (let round = 0; round < 5; round++) {
      writeFiles(dir, { [`el/9/Packages/r${round}.rpm`]: `${round}` });
      const [a, b] = await Promise.all([runAsync(PUBLISH, [dir, LIST, TRACE]), runAsync(PUBLISH, [dir, LIST, TRACE])]);
      expect([a, b].map((r) => [r.status, r.stderr])).toEqual([[0, ''], [0, '']]);
      expect([a, b].map((r) => r.stdout).sort()).toEqual([`mirror-publish: ${dir}/${LIST} and ${dir}/${TRACE} published\n`, `mirror-publish: ${dir}/${LIST} unchanged\n`]);
      const text = fs.readFileSync(path.join(dir, LIST), 'utf8');
      expect(text).toContain(`\tel/9/Packages/r${round}.rpm\n`);
      expect(text.endsWith('\n[End]\n')).toBe(true);
    }
    expect(fs.existsSync(path.join(dir, '.~tmp~', 'mirror-publish'))).toBe(false);
  });

  it('a new list is always newer than the old one, even within the same second', () => {
    const old = fs.statSync(path.join(dir, LIST));
    fs.utimesSync(path.join(dir, LIST), old.atime, new Date(Date.now() + 5000)); // a list "from the future"
    const oldSeconds = Math.floor(fs.statSync(path.join(dir, LIST)).mtimeMs / 1000);
    writeFiles(dir, { 'el/9/Packages/b.rpm': 'b' });
    expect(publish().stdout).toContain('published');
    expect(Math.floor(fs.statSync(path.join(dir, LIST)).mtimeMs / 1000)).toBe(oldSeconds + 1);
    expect(fs.readFileSync(path.join(dir, LIST), 'utf8')).toContain('\tel/9/Packages/b.rpm\n');
  });
});
