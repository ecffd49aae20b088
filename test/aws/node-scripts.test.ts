import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FETCH_BUNDLE, renderAwsScript } from '../../lib/host/aws/aws-host';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';

/* The AWS node's shell parts, run for real on sample inputs. */

describeWith(['sh', 'sha256sum'], 'first-boot steps cloud-init runs with sh', () => {
  let dir: string;
  beforeEach(() => (dir = tmpDir('awsboot')));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Runs fetch-bundle with a stand-in `aws` that logs its arguments and "downloads" `content`. */
  const fetch = (content: string, sha256: string) => {
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'aws'), `#!/bin/sh\necho "$@" > "${dir}/aws.args"\nprintf %s '${content}' > "$7"\n`, { mode: 0o755 });
    const target = path.join(dir, 'node-files.tar.gz');
    const r = run('sh', ['-c', FETCH_BUNDLE, 'fetch-bundle', target, 'bucket/abc.gz', 'eu-west-3', sha256], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    return { ...r, target, args: fs.readFileSync(path.join(dir, 'aws.args'), 'utf8') };
  };
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');

  it('fetch-bundle keeps the bundle whose sha256 matches', () => {
    const r = fetch('the bundle', sha('the bundle'));
    expect(r.args).toBe(`s3 cp --only-show-errors --region eu-west-3 s3://bucket/abc.gz ${r.target}\n`);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(r.target, 'utf8')).toBe('the bundle');
  });

  it('fetch-bundle deletes any other bundle and fails, saying which it got and which it expected, so nothing stale or foreign is unpacked', () => {
    const r = fetch('another bundle', sha('the bundle'));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`mirrorfleet: s3://bucket/abc.gz is not the bundle this user data was rendered with (sha256 ${sha('another bundle')}, expected ${sha('the bundle')}): not unpacking it\n`);
    expect(fs.existsSync(r.target)).toBe(false);
  });

  it('fetch-bundle says so when S3 refuses, and leaves no partial file', () => {
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'aws'), `#!/bin/sh\nprintf partial > "$7"\necho "fatal error: An error occurred (403) when calling the HeadObject operation: Forbidden" >&2\nexit 1\n`, { mode: 0o755 });
    const target = path.join(dir, 'node-files.tar.gz');
    const r = run('sh', ['-c', FETCH_BUNDLE, 'fetch-bundle', target, 'bucket/abc.gz', 'eu-west-3', sha('x')], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('fatal error: An error occurred (403) when calling the HeadObject operation: Forbidden\nmirrorfleet: could not fetch the bundle s3://bucket/abc.gz\n');
    expect(fs.existsSync(target)).toBe(false);
  });
});

describeWith(['bash', 'awk'], 'mirrorfleet-aws metrics', () => {
  const dir = tmpDir('awsmetrics');
  const script = path.join(dir, 'mirrorfleet-aws');
  const metrics = path.join(dir, 'metrics');
  const now = Math.floor(Date.now() / 1000);
  beforeAll(() => {
    fs.writeFileSync(script, renderAwsScript(NODE_LAYOUT), { mode: 0o755 });
    fs.mkdirSync(metrics);
    // As mirror-sync, mirror-post-sync and mirrorfleet-cert-deploy write them.
    fs.writeFileSync(path.join(metrics, 'mirrorfleet_sync_xcp-ng.prom'), [
      '# HELP mirrorfleet_sync_last_success_timestamp_seconds End of the last successful sync.',
      '# TYPE mirrorfleet_sync_last_success_timestamp_seconds gauge',
      `mirrorfleet_sync_last_success_timestamp_seconds{tree="xcp-ng"} ${now - 125}`,
      'mirrorfleet_sync_duration_seconds{tree="xcp-ng"} 12',
      'mirrorfleet_sync_success{tree="xcp-ng"} 1',
      '',
    ].join('\n'));
    fs.writeFileSync(path.join(metrics, 'mirrorfleet_sync_new.prom'), 'mirrorfleet_sync_last_success_timestamp_seconds{tree="new"} 0\nmirrorfleet_sync_success{tree="new"} 0\n');
    fs.writeFileSync(path.join(metrics, 'mirrorfleet_hooks_xcp-ng.prom'), 'mirrorfleet_sync_hook_failures{tree="xcp-ng"} 2\n');
    fs.writeFileSync(path.join(metrics, 'mirrorfleet_cert.prom'), `mirrorfleet_cert_not_after_timestamp_seconds{domain="mirror.example.org"} ${now + 30 * 86400}\n`);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const expected = (age: number) =>
    [
      'mirrorfleet_cert_days_left:30.00|g',
      'mirrorfleet_sync_hook_failures:2|g|#tree:xcp-ng',
      'mirrorfleet_sync_success:0|g|#tree:new',
      `mirrorfleet_sync_age_seconds:${age}|g|#tree:xcp-ng`,
      'mirrorfleet_sync_success:1|g|#tree:xcp-ng',
    ];

  it('turns textfile metrics into StatsD gauges: sync age (only after a first success), outcome, hook failures, days left', () => {
    const r = run('bash', [script, 'gauges', metrics]);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    const age = Number(/sync_age_seconds:(\d+)/.exec(r.stdout)![1]);
    expect(age).toBeGreaterThanOrEqual(125);
    expect(age).toBeLessThan(135);
    expect(lines).toEqual(expected(age));
  });

  it('turns a redirector\'s figures into gauges: mirrors down, totals, Redis memory in percent, GeoIP age in days', () => {
    const red = path.join(dir, 'redirector');
    fs.mkdirSync(red);
    const now = Math.floor(Date.now() / 1000);
    fs.writeFileSync(path.join(red, 'mirrorfleet_redirector.prom'), [
      'mirrorfleet_redirector_requests_total 1200', 'mirrorfleet_redirector_fallbacks_total 30',
      'mirrorfleet_redirector_mirrors{state="up"} 3', 'mirrorfleet_redirector_mirrors{state="down"} 1',
      'mirrorfleet_redirector_redis_used_memory_bytes 50', 'mirrorfleet_redirector_redis_maxmemory_bytes 200',
      'mirrorfleet_redirector_reconcile_success 1', '',
    ].join('\n'));
    fs.writeFileSync(path.join(red, 'mirrorfleet_geoip.prom'), `mirrorfleet_geoip_updated_timestamp_seconds ${now - 2 * 86400}\n`);
    const r = run('bash', [script, 'gauges', red]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n').sort()).toEqual([
      'mirrorfleet_geoip_age_days:2.00|g', 'mirrorfleet_redirector_fallbacks_total:30|g', 'mirrorfleet_redirector_mirrors_down:1|g',
      'mirrorfleet_redirector_reconcile_success:1|g', 'mirrorfleet_redirector_redis_memory_percent:25.0|g', 'mirrorfleet_redirector_requests_total:1200|g',
    ]);
  });

  it('prints nothing for an empty metrics directory', () => {
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    expect(run('bash', [script, 'gauges', empty])).toMatchObject({ stdout: '', stderr: '', status: 0 });
  });

  it('sends them as UDP datagrams to the agent\'s StatsD port', async () => {
    const socket = dgram.createSocket('udp4');
    const received: string[] = [];
    socket.on('message', (m) => received.push(m.toString()));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const child = spawn('bash', [script, 'metrics', metrics], { env: { ...process.env, STATSD_PORT: String(socket.address().port) } });
    for (let i = 0; i < 50 && received.length < 5; i++) await new Promise((r) => setTimeout(r, 100));
    child.kill();
    socket.close();
    expect(received.map((m) => m.replace(/sync_age_seconds:\d+/, 'sync_age_seconds:AGE'))).toEqual(expected(0).map((l) => `${l.replace(/sync_age_seconds:\d+/, 'sync_age_seconds:AGE')}\n`));
  });

  it('prints its usage for an unknown command', () => {
    const r = run('bash', [script, 'bogus']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('usage: mirrorfleet-aws setup|metrics [DIR]|gauges DIR|reapply\n');
  });
});

describeWith(['bash', 'sha256sum'], 'mirrorfleet-aws reapply (at every boot, docs/adr/0070)', () => {
  let dir: string;
  let state: string;
  let script: string;
  beforeEach(() => {
    dir = tmpDir('awsreapply');
    state = path.join(dir, 'state');
    fs.mkdirSync(state);
    script = path.join(dir, 'mirrorfleet-aws');
    fs.writeFileSync(script, renderAwsScript({ ...NODE_LAYOUT, stateDir: state }), { mode: 0o755 });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  /**
   * Runs `reapply` with stand-ins on PATH that log their arguments: curl answers IMDSv2 with
   * `userData`, tar lists an old bundle, systemctl, rm and cloud-init only log. The stand-in
   * cloud-init's final stage records the user data as the new runcmd's setup would, unless
   * `finalFails`.
   */
  const reapply = (seen: string | undefined, userData: string, finalFails = false) => {
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    const calls = path.join(dir, 'calls');
    const stub = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/bash\necho "${name} $*" >>"${calls}"\n${body}\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'user-data'), userData);
    stub('curl', `case "$*" in *api/token*) echo token ;; *user-data*) cat "${dir}/user-data" ;; *) exit 22 ;; esac`);
    stub('tar', 'printf "%s\\n" etc/systemd/system/mirrorfleet-sync-old.timer etc/systemd/system/mirrorfleet-sync-old.service etc/systemd/system/mirrorfleet-aws-reapply.service etc/mirrorfleet/tree-old.conf usr/local/bin/mirror-sync');
    stub('systemctl', '');
    stub('rm', '');
    stub('cloud-init', finalFails ? '[ "$*" != "modules --mode final" ] || exit 1' : `[ "$*" != "modules --mode final" ] || sha256sum <"${dir}/user-data" | cut -d" " -f1 >"${state}/user-data.sha256"`);
    if (seen !== undefined) fs.writeFileSync(path.join(state, 'user-data.sha256'), `${seen}\n`);
    const r = run('bash', [script, 'reapply'], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    const log = fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : [];
    return { ...r, calls: log.filter((l) => !l.startsWith('curl ')), recorded: fs.readFileSync(path.join(state, 'user-data.sha256'), 'utf8').trim() };
  };

  it('unchanged user data: nothing is touched', () => {
    const r = reapply(sha('#cloud-config v1\n'), '#cloud-config v1\n');
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([]);
  });

  it('no record yet (setup failed at first boot): records the user data and re-applies nothing', () => {
    const r = reapply(undefined, '#cloud-config v1\n');
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([]);
    expect(r.recorded).toBe(sha('#cloud-config v1\n'));
  });

  it('changed user data: the old units stopped and removed (not itself), then cloud-init\'s stages again in this boot, no reboot', () => {
    const r = reapply(sha('#cloud-config v1\n'), '#cloud-config v2\n');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/the user data changed: re-applying it in this boot/);
    expect(r.calls).toEqual([
      'tar -tzf /var/lib/mirrorfleet/node-files.tar.gz',
      'systemctl disable --now mirrorfleet-sync-old.timer',
      'rm -f /etc/systemd/system/mirrorfleet-sync-old.timer',
      'systemctl disable --now mirrorfleet-sync-old.service',
      'rm -f /etc/systemd/system/mirrorfleet-sync-old.service',
      'rm -f /etc/mirrorfleet/tree-old.conf',
      'systemctl daemon-reload',
      'cloud-init clean --logs',
      'cloud-init init',
      'cloud-init modules --mode config',
      'cloud-init modules --mode final',
    ]);
    expect(r.recorded).toBe(sha('#cloud-config v2\n'));
  });

  it('a re-apply that fails keeps the old record, so the next boot tries again, and fails the unit', () => {
    const r = reapply(sha('#cloud-config v1\n'), '#cloud-config v2\n', true);
    expect(r.status).toBe(1);
    expect(r.calls.slice(-1)).toEqual(['cloud-init modules --mode final']);
    expect(r.recorded).toBe(sha('#cloud-config v1\n'));
  });
});
