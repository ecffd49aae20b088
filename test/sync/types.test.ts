import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../support/fixtures';
import { snapshot } from '../support/rsyncd';
import { describeWith } from '../support/tools';
import { Engine, Upstream, engine, out, startUpstream, writeFiles } from './harness';

/*
 * docs/sync-guarantees.md, case 5: an entry that changes type upstream (a release directory
 * replaced by a symlink, el/9 -> 9.5, as at every point release; and back; a file that becomes
 * a directory and the reverse) converges in one run, metadata inside included, and the next run
 * has nothing to do. The old directory goes with the deletions, after the new entry is in place.
 */
const LIST = 'fullfiletimelist-repo';
const STABLE = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`other/p${i}.rpm`, 2000]));

describe.each(['filelist', 'rsync'] as const)('strategy %s', (strategy) => {
  describeWith(['rsync', 'flock'], 'type changes converge in one run', () => {
    let root: string;
    let up: Upstream;
    let e: Engine;
    const same = () => expect(snapshot(e.tree.path, ['project', LIST])).toEqual(snapshot(up.dir, ['project', LIST]));
    /** Upstream changes, publishes a list newer than the last one; one run converges, the next has nothing to do. */
    const converges = async (change: () => void) => {
      change();
      expect(up.publish().status).toBe(0);
      const r = await e.run();
      expect(out(r)).not.toContain('FAILED');
      expect(r.status).toBe(0);
      same();
      expect((await e.run()).stdout).toMatch(/unchanged: /);
    };

    beforeAll(async () => {
      root = tmpDir(`sync-types-${strategy}`);
      up = await startUpstream(root);
      writeFiles(up.dir, { ...STABLE, 'el/9/os/Packages/a-1.rpm': 2000, 'el/9/os/repodata/repomd.xml': '<repomd>9.4</repomd>\n', 'el/README': 'read me\n' });
      expect(up.publish().status).toBe(0);
      e = engine(root, up.url, strategy === 'filelist' ? { strategy, fileList: LIST } : { strategy });
      expect(out(await e.run())).not.toContain('FAILED');
      same();
    });

    afterAll(async () => {
      await up?.stop();
      if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    it('a directory replaced by a symlink (el/9 -> 9.5), repodata inside', async () => {
      await converges(() => {
        fs.renameSync(path.join(up.dir, 'el/9'), path.join(up.dir, 'el/9.5'));
        writeFiles(up.dir, { 'el/9.5/os/repodata/repomd.xml': '<repomd>9.5</repomd>\n', 'el/9.5/os/Packages/a-2.rpm': 2000 });
        fs.symlinkSync('9.5', path.join(up.dir, 'el/9'));
      });
      expect(fs.readlinkSync(path.join(e.tree.path, 'el/9'))).toBe('9.5');
    });

    it('the symlink replaced by a directory again', async () => {
      await converges(() => {
        fs.rmSync(path.join(up.dir, 'el/9'));
        writeFiles(up.dir, { 'el/9/os/Packages/a-3.rpm': 2000, 'el/9/os/repodata/repomd.xml': '<repomd>9.6</repomd>\n' });
      });
      expect(fs.lstatSync(path.join(e.tree.path, 'el/9')).isDirectory()).toBe(true);
    });

    it('a file replaced by a directory, and a directory by a file', async () => {
      await converges(() => {
        fs.rmSync(path.join(up.dir, 'el/README'));
        writeFiles(up.dir, { 'el/README/index.txt': 'now a directory\n' });
        fs.rmSync(path.join(up.dir, 'el/9.5'), { recursive: true });
        writeFiles(up.dir, { 'el/9.5': 'now a file\n' });
      });
    });
  });
});
