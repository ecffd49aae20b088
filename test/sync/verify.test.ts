import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderUnits } from '../../lib/render/systemd';
import { exampleConfig, testLayout, tmpDir } from '../support/fixtures';
import { snapshot } from '../support/rsyncd';
import { describeWith, run } from '../support/tools';
import { Engine, Upstream, engine, out, startUpstream, until, writeFiles } from './harness';

/*
 * docs/sync-guarantees.md, case 10: content that changed upstream without its marker moving is
 * skipped by every cheap run, by design (N14); a full verification run on its own slow schedule
 * (daily by default, per tree) compares the whole tree and repairs it, and its result is a
 * metric: when it last completed, and how many paths the cheap runs had missed.
 */
const gauge = (e: Engine, name: string) => Number(new RegExp(`^mirrorfleet_sync_${name}\\{tree="repo"\\} (\\d+)$`, 'm').exec(e.metrics())?.[1]);

describeWith(['rsync', 'flock'], 'the full verification run', () => {
  let root: string;
  let up: Upstream;
  let e: Engine;

  beforeAll(async () => {
    root = tmpDir('sync-verify');
    up = await startUpstream(root);
    writeFiles(up.dir, { 'timestamp.txt': '1\n', 'el/Packages/a.rpm': 1000, 'el/Packages/b.rpm': 1000, 'el/Packages/c.rpm': 1000, 'el/Packages/d.rpm': 1000, 'el/repodata/repomd.xml': '<repomd/>\n' });
    e = engine(root, up.url, { strategy: 'rsync', precheck: 'timestamp.txt' });
    expect(out(await e.run())).not.toContain('FAILED');
  });

  afterAll(async () => {
    await up?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('repairs what changed without the marker, and says how much the cheap runs missed', async () => {
    writeFiles(up.dir, { 'el/Packages/a.rpm': 1200 }); // the marker does not move
    expect((await e.run()).stdout).toContain('unchanged: upstream timestamp.txt');
    const r = await e.run(['--full']);
    expect(out(r)).not.toContain('FAILED');
    expect(snapshot(e.tree.path)).toEqual(snapshot(up.dir));
    expect(gauge(e, 'verify_success')).toBe(1);
    expect(gauge(e, 'verify_missed_paths')).toBe(1);
    expect(gauge(e, 'verify_last_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
    // A verification that finds the tree in order says so.
    expect((await e.run(['--full'])).stdout).toContain('unchanged: the tree already matches upstream');
    expect(gauge(e, 'verify_missed_paths')).toBe(0);
  });

  it('a verification started while a sync holds the lock is done by the next run instead', async () => {
    writeFiles(up.dir, { 'el/Packages/b.rpm': 1300 });
    const holder = spawn('flock', [path.join(e.state, 'lock'), 'sleep', '30'], { stdio: 'ignore', detached: true });
    try {
      await until(() => run('flock', ['-n', path.join(e.state, 'lock'), 'true']).status !== 0, 5000, 'the lock');
      const r = await e.run(['--full']);
      expect(r).toEqual({ status: 0, stdout: 'mirror-sync[repo]: another sync of this tree is running; the next run compares the whole tree\n', stderr: '' });
    } finally {
      process.kill(-holder.pid!, 'SIGKILL');
    }
    await until(() => run('flock', ['-n', path.join(e.state, 'lock'), 'true']).status === 0, 5000, 'the lock to go');
    const next = await e.run(); // a plain timer run: the marker has not moved, yet it walks
    expect(out(next)).not.toContain('FAILED');
    expect(snapshot(e.tree.path)).toEqual(snapshot(up.dir));
    expect(gauge(e, 'verify_missed_paths')).toBe(1);
    expect((await e.run()).stdout).toContain('unchanged: upstream timestamp.txt'); // done: cheap again
  });

  it('is rendered as its own timer, daily by default, running mirror-sync --full', () => {
    const config = exampleConfig('xcp-ng');
    const units = renderUnits(config, testLayout(root));
    const timer = units.find((u) => u.name === 'mirrorfleet-sync-xcp-ng-verify.timer');
    const service = units.find((u) => u.name === 'mirrorfleet-sync-xcp-ng-verify.service');
    expect(timer).toMatchObject({ enable: true, content: expect.stringContaining(`OnCalendar=*-*-* 03:00:00 ${config.timezone}\n`) });
    expect(service?.content).toMatch(/^ExecStart=\S+\/mirror-sync \S+\/trees\/xcp-ng\.conf --full$/m);
  });
});
