import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../support/fixtures';
import { snapshot } from '../support/rsyncd';
import { describeWith } from '../support/tools';
import { engine, out, startUpstream, writeFiles } from './harness';

/*
 * docs/sync-guarantees.md, case 3: upstream truncates every file to zero bytes under the same
 * names (a full disk on the master, a botched copy) and publishes that. The names all stay, so
 * the count guard sees nothing; the byte guard sees the tree shrink by more than
 * maxDeletePercent and stops the run before a file is replaced. --force-delete lets it through.
 */
const FILES = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`el/9/os/Packages/p${i}.rpm`, 10_000]));

describe.each(['filelist', 'rsync'] as const)('strategy %s: upstream truncated to zero bytes', (strategy) => {
  describeWith(['rsync', 'flock', 'truncate'], 'the byte guard', () => {
    let root: string;
    let up: Awaited<ReturnType<typeof startUpstream>>;

    afterAll(async () => {
      await up?.stop();
      if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    it('stops the run before any file is emptied, runs no hook; --force-delete lets it through', async () => {
      root = tmpDir(`sync-bytes-${strategy}`);
      up = await startUpstream(root);
      writeFiles(up.dir, { ...FILES, 'el/9/os/repodata/repomd.xml': '<repomd/>\n' });
      expect(up.publish().status).toBe(0);
      const e = engine(root, up.url, strategy === 'filelist' ? { strategy, fileList: 'fullfiletimelist-repo' } : { strategy });
      expect(out(await e.run())).not.toContain('FAILED');
      const before = { tree: snapshot(e.tree.path), hooks: e.hookCalls().length };
      const later = Math.floor(Date.now() / 1000) + 5;
      for (const f of Object.keys(FILES)) {
        fs.truncateSync(path.join(up.dir, f), 0);
        fs.utimesSync(path.join(up.dir, f), later, later);
      }
      expect(up.publish().status).toBe(0);
      const r = await e.run();
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /^mirror-sync\[repo\]: FAILED \(delete guard\): upstream would shrink the tree from 10\d{4} to \d{1,4} bytes \(-\d+%\), more than 25% \(files emptied or truncated\?\); if it really shrank: mirror-sync \S+ --force-delete\n$/,
      );
      expect(snapshot(e.tree.path)).toEqual(before.tree);
      expect(e.hookCalls()).toHaveLength(before.hooks);
      expect(e.metrics()).toContain('mirrorfleet_sync_outcome{tree="repo",outcome="guard"} 1\n');
      const forced = await e.run(['--force-delete']);
      expect(out(forced)).not.toContain('FAILED');
      expect(fs.statSync(path.join(e.tree.path, 'el/9/os/Packages/p0.rpm')).size).toBe(0);
    });
  });
});
