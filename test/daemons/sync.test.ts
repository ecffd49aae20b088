import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { NodeConfig } from '../../lib/config/node-config';
import { NodeLayout, syncStateDir } from '../../lib/render/layout';
import { renderNodeFiles } from '../../lib/render/node-files';
import { reportMirrorConfPath, traceRelativePath } from '../../lib/render/tree-conf';
import { exampleConfigAt, REPO, testLayout, tmpDir } from '../support/fixtures';
import { freePort } from '../support/ports';
import { RunResult, TestRsyncd, ensureMirrorAccounts, gidOf, idsOf, runAsync, snapshot, startRsyncd } from '../support/rsyncd';
import { describeWith, run } from '../support/tools';

/**
 * The end-to-end sync (N12-N16): a local rsync daemon as upstream, whose tree a master
 * publishes with mirror-publish (M2); the command the rendered mirrorfleet-sync-fedora.service
 * runs (its ExecStart=, as its User=/Group=; the Fedora preset's filelist strategy) run for real,
 * twice at once, then against a dead upstream, then after upstream changes.
 */

/** report_mirror's own config checks (fedora-infra/mirrormanager2 client/report_mirror): the
 * same ConfigParser (interpolation included) and the same required options per section. */
const PARSE_PY = `
import configparser, json, sys
def parse(path):
    conf = configparser.ConfigParser()
    if conf.read(path) == []: return {'error': 'not found'}
    required = {'global': ['enabled', 'server'], 'site': ['enabled', 'name', 'password'], 'host': ['enabled', 'name']}
    cats = [s for s in conf.sections() if s not in ('global', 'site', 'host', 'stats')]
    for s in cats: required[s] = ['enabled', 'path']
    out = {'sections': conf.sections(), 'categories': {s: conf.get(s, 'path', fallback=None) for s in cats},
           'missing': [s + '.' + o for s, opts in required.items() for o in opts if not conf.has_option(s, o)]}
    out['passwordLines'] = [l for l in open(path).read().splitlines() if 'password' in l and not l.startswith('#')]
    try: out['password'] = conf.get('site', 'password')
    except Exception as e: out['error'] = type(e).__name__ + ': ' + str(e)
    return out
`;
interface Parsed { sections: string[]; categories: Record<string, string>; missing: string[]; passwordLines: string[]; password?: string; error?: string }
interface Call { argv: string[]; mode: string; config: Parsed; exists_after?: boolean }

/** MirrorManager's real client POSTs to Fedora's server and is not packaged in Debian: this
 * stand-in on PATH records its argv, the mode of the file it got and what report_mirror would parse. */
const standIn = (calls: string) => `#!/usr/bin/python3
import json, os, stat, sys
${PARSE_PY}
argv = sys.argv[1:]
conf = argv[argv.index('-c') + 1] if '-c' in argv else None
call = {'argv': argv, 'mode': oct(stat.S_IMODE(os.stat(conf).st_mode)) if conf else None, 'config': parse(conf) if conf else None}
n = len(os.listdir(${JSON.stringify(calls)})) + 1
json.dump(call, open(os.path.join(${JSON.stringify(calls)}, 'call-%d.json' % n), 'w'))
sys.exit(1 if call['config'] is None or call['config']['missing'] or 'error' in call['config'] else 0)
`;

// A '%' is what ConfigParser's interpolation trips on; the trailing newline is the file's, not the password's.
const PASSWORD = 'c0rrect-h%rse-st@ple';

describeWith(['rsync', 'flock', 'curl', 'python3'], 'end-to-end sync: rendered sync service against a local upstream daemon', () => {
  let root: string;
  let up: string;
  let upstream: TestRsyncd | undefined;
  let upstreamConf: string;
  let config: NodeConfig;
  let layout: NodeLayout;
  let tree: string;
  let command: string[];
  let user: { uid: number; gid: number };
  let env: NodeJS.ProcessEnv;
  let webhook: http.Server | undefined;
  const hookBodies: string[] = [];
  const first: { a?: RunResult; b?: RunResult; started: number; finished: number } = { started: 0, finished: 0 };

  const p = (...parts: string[]) => path.join(root, ...parts);
  const write = (file: string, content: string | Buffer, mode = 0o644) => {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode);
  };
  const traceFile = () => path.join(tree, traceRelativePath(config));
  const metrics = () => fs.readFileSync(path.join(layout.metricsDir, 'mirrorfleet_sync_fedora.prom'), 'utf8');
  const calls = (): Call[] =>
    fs.readdirSync(p('calls')).sort().map((f) => JSON.parse(fs.readFileSync(p('calls', f), 'utf8')) as Call);
  const connections = () => (fs.existsSync(p('upstream', 'connections')) ? fs.readFileSync(p('upstream', 'connections'), 'utf8').split('\n').filter(Boolean).length : 0);
  const sync = () => runAsync(command[0], command.slice(1), { env, uid: user.uid, gid: user.gid });
  const out = (r: RunResult) => `${r.stdout}${r.stderr}`;
  /** The master's step after new content lands: the file list, then its trace (M2). */
  const publish = () => {
    const r = run(path.join(REPO, 'assets', 'mirror-publish'), [up, 'fullfiletimelist-fedora', 'project/trace/master.example.org']);
    if (r.status !== 0) throw new Error(r.stderr);
  };
  const parsePy = (file: string): Parsed => {
    const r = run('python3', ['-c', `${PARSE_PY}\nprint(json.dumps(parse(sys.argv[1])))`, file]);
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as Parsed;
  };

  beforeAll(async () => {
    ensureMirrorAccounts();
    root = tmpDir('sync');
    fs.chmodSync(root, 0o755);
    up = p('upstream', 'repo');
    const os44 = `${up}/linux/releases/44/Everything/x86_64/os`;
    write(`${os44}/repodata/repomd.xml`, '<repomd><revision>1</revision></repomd>\n');
    write(`${os44}/Packages/b/bash-5.2.26-1.fc44.x86_64.rpm`, crypto.randomBytes(60_000));
    write(`${up}/linux/releases/44/Workstation/x86_64/iso/Fedora-Workstation-Live-44.iso`, crypto.randomBytes(500_000));
    write(`${up}/linux/updates/44/x86_64/old-1.0.rpm`, crypto.randomBytes(10_000));
    fs.symlinkSync('44', `${up}/linux/releases/current`);
    write(`${up}/linux/releases/45/README`, 'Fedora 45: not released yet\n'); // staged (N17)
    fs.chmodSync(`${up}/linux/releases/45`, 0o750);
    publish();

    // Each transfer is logged, then held until the test opens the gate (at most 10 s): the
    // first sync provably holds its lock while the second one starts.
    write(p('upstream', 'gate'), `#!/bin/sh\necho "$RSYNC_HOST_ADDR" >>${p('upstream', 'connections')}\ni=0\nwhile [ ! -e ${p('upstream', 'open')} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done\n`, 0o755);
    const upstreamPort = await freePort();
    upstreamConf = `port = ${upstreamPort}\npid file = ${p('upstream', 'rsyncd.pid')}\nlog file = ${p('upstream', 'rsyncd.log')}\nuse chroot = no\n` +
      `uid = root\ngid = root\nread only = yes\n\n[repo]\n    path = ${up}\n    pre-xfer exec = ${p('upstream', 'gate')}\n`;
    upstream = await startRsyncd(p('upstream', 'rsyncd.conf'), upstreamConf);

    webhook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        hookBodies.push(body);
        res.end('ok\n');
      });
    });
    await new Promise<void>((resolve) => webhook!.listen(0, '127.0.0.1', resolve));
    const hookPort = (webhook.address() as { port: number }).port;

    config = exampleConfigAt('fedora', p('srv', 'mirror'), {
      // No retries: the dead-upstream case fails at once (test/sync/safety.test.ts covers them).
      trees: [{ name: 'fedora', presetTree: 'fedora', upstream: `rsync://127.0.0.1:${upstreamPort}/repo/`, retries: 0 }],
      reports: {
        trace: true,
        reportMirror: { site: 'Test', passwordFile: p('secrets', 'mirrormanager-password') },
        webhook: { url: `http://127.0.0.1:${hookPort}/hook` },
      },
    });
    layout = testLayout(root);
    tree = config.trees[0].path;
    for (const f of renderNodeFiles(config, layout)) if (!f.asset && f.path.startsWith(`${root}/`)) write(f.path, f.content, parseInt(f.mode, 8));

    const unit = fs.readFileSync(path.join(layout.systemdDir, 'mirrorfleet-sync-fedora.service'), 'utf8');
    const field = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(unit)?.[1] ?? '';
    command = field('ExecStart').split(' ');
    user = { uid: idsOf(field('User')).uid, gid: gidOf(field('Group')) };
    // What mirrorfleet-provision and the admin do on a node: tree, state and metrics owned by the
    // sync user; the password file readable by the sync group only.
    const mine = [tree, syncStateDir(layout, 'fedora'), layout.metricsDir, p('calls'), p('tmp')];
    for (const d of mine) {
      fs.mkdirSync(d, { recursive: true, mode: 0o755 });
      fs.chownSync(d, user.uid, user.gid);
    }
    write(p('secrets', 'mirrormanager-password'), `${PASSWORD}\n`, 0o640);
    fs.chownSync(p('secrets', 'mirrormanager-password'), 0, user.gid);
    write(p('standin', 'report_mirror'), standIn(p('calls')), 0o755);
    // A systemd-like environment: PATH with the stand-in first; TMPDIR stands for PrivateTmp=yes.
    env = { PATH: `${p('standin')}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: '/nonexistent', LANG: 'C.UTF-8', TMPDIR: p('tmp') };
  });

  afterAll(async () => {
    await upstream?.stop();
    webhook?.closeAllConnections();
    await new Promise((resolve) => (webhook ? webhook.close(resolve) : resolve(undefined)));
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('the service runs the shipped mirror-sync on the rendered tree file, as the sync user', () => {
    expect(command).toEqual([path.join(REPO, 'assets', 'mirror-sync'), path.join(layout.etcDir, 'trees', 'fedora.conf')]);
    expect(user).toEqual(idsOf('mirror'));
  });

  it('the rendered report_mirror.conf has every section and option report_mirror requires', () => {
    const parsed = parsePy(reportMirrorConfPath(layout));
    expect(parsed.missing).toEqual([]);
    expect(parsed.sections).toEqual(['global', 'site', 'host', 'stats', 'Fedora Linux']);
    expect(parsed.categories).toEqual({ 'Fedora Linux': `${tree}/linux` });
    expect(parsed.password).toBe('@MIRRORMANAGER_PASSWORD@');
  });

  it('two runs at once: one syncs, the other logs "skipped" and both exit 0 (N13)', async () => {
    first.started = Math.floor(Date.now() / 1000);
    const a = sync();
    for (const deadline = Date.now() + 10_000; connections() === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    expect(connections()).toBe(1);
    first.b = await sync(); // the first run is inside its first request, holding the lock
    expect(connections()).toBe(1); // the second run asked upstream nothing
    fs.writeFileSync(p('upstream', 'open'), '');
    first.a = await a;
    first.finished = Math.ceil(Date.now() / 1000);
    expect([first.a, first.b].map((r) => r.status)).toEqual([0, 0]);
    expect(first.b.stdout).toBe('mirror-sync[fedora]: another sync of this tree is running; skipped\n');
    expect([first.a, first.b].filter((r) => out(r).includes('skipped'))).toHaveLength(1);
    // The five files and the master's trace (project/trace/master.example.org).
    expect(first.a.stdout).toMatch(/^mirror-sync\[fedora\]: done in \d+ s: 6 files, \d+ bytes received$/m);
    expect(out(first.a)).not.toContain('FAILED');
    expect(first.a.stdout.match(/^mirror-post-sync\[fedora\]: \S+: ok$/gm)).toEqual([
      'mirror-post-sync[fedora]: trace: ok', 'mirror-post-sync[fedora]: report_mirror: ok', 'mirror-post-sync[fedora]: webhook: ok',
    ]);
  });

  it('the tree is upstream\'s, byte for byte: contents, times, modes (0750 kept), symlink', () => {
    const got = snapshot(tree, ['project']);
    expect(got).toEqual(snapshot(up, ['project']));
    expect(got['fullfiletimelist-fedora']).toMatch(/^file 0644 /); // installed last, as published
    expect(got['linux/releases/45']).toBe('dir 0750');
    expect(got['linux/releases/current']).toBe('link -> 44');
    expect(fs.readdirSync(path.join(tree, 'project', 'trace')).sort()).toEqual([config.hostname, 'master.example.org'].sort());
  });

  it('writes the trace file with the host and an Epoch inside the run', () => {
    const trace = fs.readFileSync(traceFile(), 'utf8');
    expect(trace).toContain(`Running on host: ${config.hostname}\n`);
    // Debian's trace layout: `date -u` first, then RFC 2822 dates (node-practice §2.3).
    expect(trace).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d UTC \d{4}\nDate: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000\nDate-Started: /);
    expect(trace).toContain('Upstream-mirror: 127.0.0.1\n');
    const epoch = Number(/^Epoch: (\d+)$/m.exec(trace)?.[1]);
    expect(epoch).toBeGreaterThanOrEqual(first.started);
    expect(epoch).toBeLessThanOrEqual(first.finished);
  });

  it('runs report_mirror once with a private 0600 copy holding the real password, then removes it', () => {
    const c = calls();
    expect(c).toHaveLength(1);
    expect(c[0].argv).toEqual(['-c', expect.stringMatching(new RegExp(`^${p('tmp')}/`))]);
    expect(c[0].mode).toBe('0o600');
    expect(c[0].config.missing).toEqual([]);
    expect(c[0].config.error).toBeUndefined();
    // The placeholder is gone; "%" is doubled for ConfigParser, which reads back the file's content.
    expect(c[0].config.passwordLines).toEqual([`password=${PASSWORD.replace(/%/g, '%%')}`]);
    expect(c[0].config.password).toBe(PASSWORD);
    expect(fs.existsSync(c[0].argv[1])).toBe(false);
    expect(fs.readdirSync(p('tmp'))).toEqual([]);
    expect(first.a!.stdout).toContain('mirror-post-sync[fedora]: report_mirror: ok');
  });

  it('posts one JSON webhook for the tree', () => {
    expect(hookBodies).toHaveLength(1);
    const body = JSON.parse(hookBodies[0]);
    expect(body).toMatchObject({ event: 'sync-success', node: config.hostname, tree: 'fedora' });
    expect(body.bytes).toBeGreaterThan(500_000);
  });

  it('publishes success metrics for node_exporter', () => {
    expect(metrics()).toContain('mirrorfleet_sync_success{tree="fedora"} 1\n');
    expect(metrics()).toMatch(/^mirrorfleet_sync_files_transferred\{tree="fedora"\} 6$/m);
    expect(metrics()).toContain('mirrorfleet_sync_outcome{tree="fedora",outcome="success"} 1\n');
  });

  it('a failed sync exits 1 with one FAILED line, leaves the tree and trace alone and runs no hook', async () => {
    await upstream!.stop();
    const before = { tree: snapshot(tree), trace: fs.readFileSync(traceFile(), 'utf8'), calls: calls().length, hooks: hookBodies.length };
    const r = await sync();
    expect(r.status).toBe(1);
    const failed = out(r).split('\n').filter((l) => l.includes('FAILED'));
    expect(failed).toEqual([expect.stringMatching(/^mirror-sync\[fedora\]: FAILED \(rsync exit 10\): .*Connection refused/)]);
    expect(out(r)).not.toContain('mirror-post-sync');
    expect(snapshot(tree)).toEqual(before.tree);
    expect(fs.readFileSync(traceFile(), 'utf8')).toBe(before.trace);
    expect(calls()).toHaveLength(before.calls);
    expect(hookBodies).toHaveLength(before.hooks);
    expect(metrics()).toContain('mirrorfleet_sync_success{tree="fedora"} 0\n');
  });

  it('after upstream changes (edit, delete, add, bitflip), the next run converges and reports again', async () => {
    upstream = await startRsyncd(p('upstream', 'rsyncd.conf'), upstreamConf);
    write(`${up}/linux/releases/44/Everything/x86_64/os/repodata/repomd.xml`, '<repomd><revision>2</revision></repomd>\n');
    fs.rmSync(`${up}/linux/updates/44/x86_64/old-1.0.rpm`);
    write(`${up}/linux/updates/44/x86_64/new-1.1.rpm`, crypto.randomBytes(12_000));
    fs.chmodSync(`${up}/linux/releases/45`, 0o755); // the bitflip upstream: the mirror follows
    publish();
    const r = await sync();
    expect(out(r)).not.toContain('FAILED');
    expect(r.status).toBe(0);
    expect(snapshot(tree, ['project'])).toEqual(snapshot(up, ['project']));
    expect(fs.existsSync(`${tree}/linux/updates/44/x86_64/old-1.0.rpm`)).toBe(false);
    expect(snapshot(tree)['linux/releases/45']).toBe('dir 0755');
    // Only what upstream removed was deleted: our trace file is protected from --delete.
    expect(r.stdout).toContain('mirror-sync[fedora]: deleted 1 path(s) gone upstream\n');
    expect(fs.existsSync(traceFile())).toBe(true);
    expect(fs.readFileSync(`${tree}/linux/releases/44/Everything/x86_64/os/repodata/repomd.xml`, 'utf8')).toContain('<revision>2<');
    expect(calls()).toHaveLength(2);
    expect(hookBodies).toHaveLength(2);
    expect(metrics()).toContain('mirrorfleet_sync_success{tree="fedora"} 1\n');
    expect(Number(/^Epoch: (\d+)$/m.exec(fs.readFileSync(traceFile(), 'utf8'))?.[1])).toBeGreaterThanOrEqual(first.finished - 1);
  });
  it('without the site password, report_mirror is never run and the hook fails, while the sync succeeds (N16)', async () => {
    const secret = p('secrets', 'mirrormanager-password');
    fs.renameSync(secret, `${secret}.away`);
    try {
      write(`${up}/linux/updates/44/x86_64/newer-1.2.rpm`, crypto.randomBytes(9_000));
      publish();
      const before = calls().length;
      const r = await sync();
      expect(r.status).toBe(0);
      expect(out(r)).toContain(`mirror-post-sync[fedora]: report_mirror: no site password in ${secret}`);
      expect(out(r)).toContain('mirror-post-sync[fedora]: report_mirror: FAILED');
      expect(out(r)).toContain('mirror-post-sync[fedora]: trace: ok');
      expect(calls()).toHaveLength(before);
      expect(fs.readFileSync(path.join(layout.metricsDir, 'mirrorfleet_hooks_fedora.prom'), 'utf8')).toContain('mirrorfleet_sync_hook_failures{tree="fedora"} 1\n');
      expect(metrics()).toContain('mirrorfleet_sync_success{tree="fedora"} 1\n');
    } finally {
      fs.renameSync(`${secret}.away`, secret);
    }
  });
});
