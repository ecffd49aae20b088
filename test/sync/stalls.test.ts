import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { tmpDir } from '../support/fixtures';
import { freePort } from '../support/ports';
import { snapshot } from '../support/rsyncd';
import { describeWith, run } from '../support/tools';
import { Engine, REPO_ASSETS, Upstream, engine, out, startUpstream, until, writeFiles } from './harness';

/*
 * docs/sync-guarantees.md, cases 9, 11, 12 and 13: what must not stall a mirror until an admin
 * steps in. A hook that hangs is stopped at its bound and reported; upstream's error text, control
 * characters and all, leaves status.json valid JSON; a daemon frozen mid-transfer (its kernel still
 * acknowledging) ends the run after RSYNC_TIMEOUT seconds without data, not at maxRuntimeMinutes;
 * killing mirror-sync alone (not its process group) ends the rsync it had started, so the lock is
 * free at once and the next run repairs.
 */
const lockFree = (e: Engine) => run('flock', ['-n', path.join(e.state, 'lock'), 'true']).status === 0;
/** Processes whose command line names `needle` (the run's rsync clients name the tree). */
const processesNaming = (needle: string) =>
  fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
    } catch {
      return false;
    }
  });

describeWith(['rsync', 'flock', 'timeout'], 'stalls and kills', () => {
  let root: string;
  let up: Upstream;
  let e: Engine;

  beforeAll(async () => {
    root = tmpDir('sync-stalls');
    up = await startUpstream(root);
    writeFiles(up.dir, { 'el/repodata/repomd.xml': '<repomd/>\n', 'el/Packages/a.rpm': 1000 });
    expect(up.publish().status).toBe(0);
    e = engine(root, up.url, { strategy: 'filelist', fileList: 'fullfiletimelist-repo', retries: 0 });
    expect(out(await e.run())).not.toContain('FAILED');
  });

  afterAll(async () => {
    await up?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('a hanging post-sync hook is stopped at its bound and reported as timed out; the sync stands (case 9)', async () => {
    // The real hooks, with a report_mirror that never answers.
    writeFiles(root, {
      'standin/report_mirror': '#!/bin/sh\nexec sleep 1000\n',
      'etc/report_mirror.conf': '[site]\npassword=@MIRRORMANAGER_PASSWORD@\n',
      'etc/mm-password': 'secret\n',
    });
    fs.chmodSync(path.join(root, 'standin/report_mirror'), 0o755);
    const conf = e.variant('hooks', {
      POST_SYNC: path.join(REPO_ASSETS, 'mirror-post-sync'),
      TRACE: 0,
      REPORT_MIRROR_CONF: path.join(root, 'etc/report_mirror.conf'),
      REPORT_MIRROR_PASSWORD_FILE: path.join(root, 'etc/mm-password'),
      HOOK_TIMEOUT: 2,
    });
    writeFiles(up.dir, { 'el/Packages/b.rpm': 1000 });
    expect(up.publish().status).toBe(0);
    const r = await e.run([], { conf, env: { ...process.env, PATH: `${path.join(root, 'standin')}:${process.env.PATH}` } });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('mirror-post-sync[repo]: report_mirror: TIMED OUT after 2 s (stopped)\n');
    expect(e.metrics()).toContain('mirrorfleet_sync_success{tree="repo"} 1\n');
    const hooks = fs.readFileSync(path.join(e.metricsDir, 'mirrorfleet_hooks_repo.prom'), 'utf8');
    expect(hooks).toContain('mirrorfleet_sync_hook_timeouts{tree="repo"} 1\n');
    expect(hooks).toContain('mirrorfleet_sync_hook_failures{tree="repo"} 1\n');
    expect(lockFree(e)).toBe(true);
    expect(processesNaming('sleep\u00001000')).toEqual([]);
  });

  it('upstream error text with control characters and quotes leaves status.json valid JSON (case 11)', async () => {
    // A "daemon" that greets, then refuses with text of its choosing.
    // ...and that looks like the fields the next run reads back from status.json.
    const evil = 'no \u001b[31mmodule\u001b[0m "repo"\there\u0007 "lastSuccess":9,"verify":{"lastSuccess":9,"success":1,"missedPaths":9}';
    const before = JSON.parse(fs.readFileSync(path.join(e.state, 'status.json'), 'utf8'));
    expect(before.lastSuccess).toBeGreaterThan(9);
    const server = net.createServer((s) => {
      s.write('@RSYNCD: 31.0\n');
      s.once('data', () => s.end(`@ERROR: ${evil}\n`));
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const evilConf = e.variant('evil', { UPSTREAM: `rsync://127.0.0.1:${port}/repo/`, RETRIES: 0 });
      expect((await e.run([], { conf: evilConf })).status).toBe(1);
      const r = await e.run([], { conf: evilConf });
      expect(r.status).toBe(1);
      const text = fs.readFileSync(path.join(e.state, 'status.json'), 'utf8');
      // Read back twice, the record is still the engine's own, not the text's.
      expect(JSON.parse(text)).toMatchObject({ lastSuccess: before.lastSuccess, verify: before.verify });
      expect(() => JSON.parse(text)).not.toThrow();
      expect(run('python3', ['-c', 'import json,sys; json.load(open(sys.argv[1], encoding="utf-8"))', path.join(e.state, 'status.json')]).status).toBe(0);
      expect(JSON.parse(text)).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('module') });
      expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    } finally {
      server.close();
    }
  });

  it('a daemon frozen mid-transfer ends the run after RSYNC_TIMEOUT seconds without data (case 12)', async () => {
    writeFiles(up.dir, { 'isos/big.iso': 2_000_000 });
    expect(up.publish().status).toBe(0);
    let frozen: number[] = [];
    const running = e.run([], { conf: e.variant('frozen', { RSYNC_TIMEOUT: 3, RETRIES: 0, BWLIMIT_KIBPS: 100 }) });
    try {
      await until(() => fs.existsSync(path.join(e.tree.path, 'isos')) && fs.readdirSync(path.join(e.tree.path, 'isos')).some((f) => f.startsWith('.big.iso.')), 10_000, 'the transfer to start');
      frozen = up.serving();
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
      const r = await running;
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('mirror-sync[repo]: FAILED (stalled): no data from upstream for 3 s on each of 1 tries (a frozen daemon or a dead path)\n');
      expect(lockFree(e)).toBe(true);
    } finally {
      for (const pid of frozen) process.kill(pid, 'SIGKILL');
    }
  });

  it('killing mirror-sync alone ends its rsync too: the lock is free at once, the next run repairs (case 13)', async () => {
    // Temp files an earlier run left: the one to wait for is this run's.
    for (const f of fs.readdirSync(path.join(e.tree.path, 'isos'))) if (f.startsWith('.big.iso.')) fs.rmSync(path.join(e.tree.path, 'isos', f));
    let pid = 0;
    const running = e.run([], { conf: e.variant('slow', { BWLIMIT_KIBPS: 50 }), onSpawn: (p) => (pid = p) });
    await until(() => fs.existsSync(path.join(e.tree.path, 'isos')) && fs.readdirSync(path.join(e.tree.path, 'isos')).some((f) => f.startsWith('.big.iso.')), 10_000, 'the transfer to start');
    process.kill(pid, 'SIGKILL'); // the shell only: what an OOM kill or `kill PID` does
    await until(() => lockFree(e), 8_000, 'the lock to be free');
    await until(() => processesNaming(`${e.tree.path}/`).length === 0, 8_000, 'the run\'s rsync to end');
    expect((await running).status).toBeNull();
    const next = await e.run();
    expect(out(next)).not.toContain('FAILED');
    expect(next.stdout).toContain('the last run did not finish');
    expect(snapshot(e.tree.path, ['project'])).toEqual(snapshot(up.dir, ['project']));
  });
});
