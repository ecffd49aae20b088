import { ChildProcess, spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { renderAwsScript } from '../../lib/host/aws/aws-host';
import { parseMirrorList } from '../../lib/project/mirrors';
import { loadProjectFile } from '../../lib/project/project';
import { renderDesiredMirrors } from '../../lib/roles/redirector/desired-mirrors';
import { RedirectorLayout } from '../../lib/roles/redirector/layout';
import { REDIS_ADDRESS, scaledFiles } from '../../lib/roles/redirector/scaled/files';
import { SCALED_LAYOUT, geoipStampDir } from '../../lib/roles/redirector/scaled/layout';
import { scaledTasks } from '../../lib/roles/redirector/scaled/tasks';
import { REPO, testLayout, tmpDir } from '../support/fixtures';
import { freePort, waitForPort } from '../support/ports';
import { TestRsyncd, startRsyncd } from '../support/rsyncd';
import { describeWith, run } from '../support/tools';
import { scaledProject } from './support';

/*
 * assets/mirrorfleet-task, the program every container of ours starts, run here as ECS runs it:
 * the environment the task definitions carry (lib/roles/redirector/scaled/tasks.ts), the single
 * machine's real scripts on PATH (mirror-sync against a real rsync daemon, mirrorfleet-repo-refresh,
 * mirrorfleet-redirector-metrics, mirrorfleet-geoip against a MaxMind stand-in), and what cannot
 * run here stood in for: mirrorbits (no binary ships with the repo) by a small daemon that opens
 * its RPC port and records each CLI call, the AWS CLI by a script that records its arguments.
 */
const GEOIP = path.join(REPO, 'test', 'redirector', 'geoip');
const STANDIN = path.join(REPO, 'test', 'redirector', 'standin', 'mirrorbits');
const KEY = 'the-licence-key';

describeWith(['rsync', 'flock', 'python3', 'curl', 'redis-server', 'redis-cli'], 'mirrorfleet-task: the steps of the scaled redirector\'s tasks (R2–R4)', () => {
  let root: string;
  let rl: RedirectorLayout;
  let upstream: TestRsyncd | undefined;
  let maxmind: http.Server;
  let redis: ChildProcess | undefined;
  let redisPort: number;
  let env: Record<'sync' | 'geoip' | 'reconcile' | 'service', NodeJS.ProcessEnv>;
  const p = (...parts: string[]) => path.join(root, ...parts);
  const calls = () => (fs.existsSync(p('calls')) ? fs.readFileSync(p('calls'), 'utf8').trim().split('\n') : []);

  const step = (name: string, extra: NodeJS.ProcessEnv = {}) => new Promise<{ status: number; out: string; err: string; report: Record<string, number | string> }>((resolve) => {
    const child = spawn(path.join(REPO, 'assets', 'mirrorfleet-task'), [name], { env: { ...env[name as keyof typeof env], ...extra } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (status) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      resolve({ status: status ?? -1, out, err, report: last.startsWith('{') ? JSON.parse(last) : {} });
    });
  });

  beforeAll(async () => {
    root = tmpDir('scaled-steps');
    fs.chmodSync(root, 0o755);
    const project = loadProjectFile(scaledProject((s) => s.replace('  repoSync: every 5 minutes', `  repoSync: every 5 minutes\n  storage: { mountPoint: ${root}/efs/repository }`)));
    rl = {
      ...SCALED_LAYOUT,
      host: { ...testLayout(root), etcDir: p('run'), metricsDir: p('run', 'metrics'), stateDir: p('efs', 'state') },
      mirrorbitsDir: p('opt', 'mirrorbits'),
      mirrorbitsConf: p('run', 'mirrorbits.conf'),
      mirrorbitsRpc: `127.0.0.1:${await freePort()}`,
      geoipDir: p('efs', 'geoip'),
      etcDir: p('run', 'redirector'),
    };
    // Upstream: the master's public module, with the trace the sync checks first.
    fs.mkdirSync(p('master', 'project', 'trace'), { recursive: true });
    fs.mkdirSync(p('master', '8.3'), { recursive: true });
    fs.writeFileSync(p('master', '8.3', 'repomd.xml'), 'v1\n');
    fs.writeFileSync(p('master', 'project', 'trace', 'master.example.org'), '1\n');
    const port = await freePort();
    upstream = await startRsyncd(p('rsyncd', 'rsyncd.conf'), `port = ${port}\npid file = ${p('rsyncd', 'pid')}\nuse chroot = no\nuid = root\ngid = root\nread only = yes\n\n[xcp-ng]\n    path = ${p('master')}\n`);

    // MaxMind, as redirector-parts.test.ts stands it in: the test databases, their sha256.
    const archives: Record<string, Buffer> = {};
    for (const edition of ['GeoLite2-City', 'GeoLite2-ASN']) {
      fs.mkdirSync(p('mm', `${edition}_20261201`), { recursive: true });
      fs.copyFileSync(path.join(GEOIP, `${edition}.mmdb`), p('mm', `${edition}_20261201`, `${edition}.mmdb`));
      run('tar', ['-czf', p('mm', `${edition}.tar.gz`), '-C', p('mm'), `${edition}_20261201`]);
      archives[edition] = fs.readFileSync(p('mm', `${edition}.tar.gz`));
    }
    const mmPort = await freePort();
    maxmind = http.createServer((req, res) => {
      const m = /^\/(GeoLite2-(?:City|ASN))\/download\?suffix=tar\.gz(\.sha256)?$/.exec(req.url!);
      if (!m || req.headers.authorization !== `Basic ${Buffer.from(`123456:${KEY}`).toString('base64')}`) { res.writeHead(401); res.end(); return; }
      res.end(m[2] ? `${crypto.createHash('sha256').update(archives[m[1]]).digest('hex')}  x.tar.gz\n` : archives[m[1]]);
    });
    await new Promise<void>((r) => maxmind.listen(mmPort, '127.0.0.1', r));

    // ElastiCache's place: Debian's redis-server, for the reconcile step's mirrorbits.
    redisPort = await freePort();
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitForPort(redisPort);

    // The stand-ins and the rendered mirrorfleet-aws, on PATH before the repository's assets.
    fs.mkdirSync(p('bin'), { recursive: true });
    fs.mkdirSync(rl.mirrorbitsDir, { recursive: true });
    fs.writeFileSync(`${rl.mirrorbitsDir}/mirrorbits`, MIRRORBITS_STAND_IN(p('calls')), { mode: 0o755 });
    fs.writeFileSync(p('bin', 'aws'), `#!/bin/bash\necho "aws $*" >>${p('calls')}\nif [ "$1 $2" = "s3 cp" ]; then cp ${p('mirrors.json')} "\${*: -1}"; fi\n`, { mode: 0o755 });
    fs.writeFileSync(p('bin', 'mirrorfleet-aws'), renderAwsScript(rl.host), { mode: 0o755 });
    fs.writeFileSync(p('mirrors.json'), renderDesiredMirrors(parseMirrorList('mirrors:\n  - name: mirror-fr\n    admin: { name: Mirror Team, email: mirror@example.org }\n    http: "http://127.0.0.1/fr"\n    countries: [FR]\n    continent: EU\n', 'mirrors.yaml')));

    // The environment of each task definition, as lib/ declares it, the master's and MaxMind's addresses here.
    const files = scaledFiles(project, ['127.0.0.1/32'], rl);
    const local = (f: Record<string, string>) => JSON.stringify(Object.fromEntries(Object.entries(f).map(([k, v]) => [k, v
      .replace('UPSTREAM=rsync://master.example.org/xcp-ng/', `UPSTREAM=rsync://127.0.0.1:${port}/xcp-ng/`)
      .replace('GEOIP_URL=https://download.maxmind.com/geoip/databases', `GEOIP_URL=http://127.0.0.1:${mmPort}`)
      .replace('GEOIP_KEY_FILE=/etc/mirrorfleet/secrets/maxmind-license-key', `GEOIP_KEY_FILE=${p('secrets', 'maxmind-license-key')}`)
      .split(REDIS_ADDRESS).join(`127.0.0.1:${redisPort}`)])));
    const base = { PATH: `${p('bin')}:${path.join(REPO, 'assets')}:${process.env.PATH}`, HOME: root };
    const declared = Object.fromEntries(scaledTasks(project, files, rl).map((t) => [t.step, t.environment]));
    const forStep = (s: 'sync' | 'geoip' | 'reconcile') => ({ ...base, ...declared[s], MIRRORBITS_BIN: `${rl.mirrorbitsDir}/mirrorbits`, MIRRORFLEET_FILES: local(files[s]) });
    env = {
      sync: forStep('sync'),
      geoip: { ...forStep('geoip'), ECS_CLUSTER: 'the-cluster', ECS_SERVICE: 'the-service', MAXMIND_LICENSE_KEY: KEY },
      reconcile: { ...forStep('reconcile'), MIRRORBITS_BIN: STANDIN, MIRROR_LIST_URL: 's3://assets/list.json', MIRROR_LIST_SHA256: crypto.createHash('sha256').update(fs.readFileSync(p('mirrors.json'))).digest('hex') },
      service: { ...base, MIRRORFLEET_FILES: JSON.stringify(Object.fromEntries(Object.entries(files.service).map(([k, v]) => [p('service', path.basename(k)), v]))) },
    };
  }, 60_000);

  afterAll(async () => {
    redis?.kill('SIGTERM');
    await upstream?.stop();
    await new Promise((r) => maxmind.close(r));
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('files: writes what the task definition carries, readable by the image\'s other users, and nothing else', async () => {
    const r = await step('files', env.service);
    expect(r.status).toBe(0);
    expect(r.out).toBe('');
    const carried = JSON.parse(env.service.MIRRORFLEET_FILES!) as Record<string, string>;
    expect(fs.readdirSync(p('service')).sort()).toEqual(['mirrorbits.conf', 'nginx.conf']);
    for (const [file, content] of Object.entries(carried)) {
      expect(fs.readFileSync(file, 'utf8')).toBe(content);
      expect(fs.statSync(file).mode & 0o777).toBe(0o644);
    }
  });

  it('sync: the copy from the master, then its own mirrorbits indexes it and reports the mirrors, and the step\'s line of gauges', async () => {
    fs.mkdirSync(geoipStampDir(rl), { recursive: true });
    fs.writeFileSync(`${geoipStampDir(rl)}/mirrorfleet_geoip.prom`, `mirrorfleet_geoip_updated_timestamp_seconds ${Math.floor(Date.now() / 1000) - 3 * 86400}\n`);
    const r = await step('sync');
    expect(r.status).toBe(0);
    expect(fs.readFileSync(p('efs', 'repository', 'xcp-ng', '8.3', 'repomd.xml'), 'utf8')).toBe('v1\n');
    expect(calls()).toEqual([`daemon -monitor=false -config ${rl.mirrorbitsConf}`, 'refresh', 'list -state', 'stopped by QUIT']);
    expect(r.report).toMatchObject({ mirrorfleet_task: 'sync', success: 1, mirrorfleet_sync_success: 1, mirrorfleet_redirector_mirrors_down: 1 });
    expect(r.report.mirrorfleet_geoip_age_days).toBeCloseTo(3, 1);
    expect(Object.keys(r.report).filter((k) => /requests_total|fallbacks_total|reconcile_success/.test(k))).toEqual([]);
  });

  it('sync: an unchanged copy is not indexed again', async () => {
    fs.rmSync(p('calls'), { force: true });
    const r = await step('sync');
    expect(r.status).toBe(0);
    expect(calls()).not.toContain('refresh');
    expect(r.report.success).toBe(1);
  });

  it('sync: a failed index is retried by the next run, even when that run changes nothing', async () => {
    fs.writeFileSync(p('master', '8.3', 'repomd.xml'), 'v2\n');
    fs.writeFileSync(p('master', 'project', 'trace', 'master.example.org'), '2\n');
    fs.rmSync(p('calls'), { force: true });
    const failed = await step('sync', { STAND_IN_FAIL_REFRESH: '1' });
    expect(failed.status).toBe(1);
    expect(failed.report).toMatchObject({ mirrorfleet_task: 'sync', success: 0, mirrorfleet_sync_success: 1 });
    expect(fs.existsSync(p('efs', 'state', 'sync', 'xcp-ng', 'refresh-pending'))).toBe(true);
    fs.rmSync(p('calls'), { force: true });
    const next = await step('sync');
    expect(next.status).toBe(0);
    expect(calls().filter((c) => c === 'refresh')).toEqual(['refresh']);
    expect(fs.existsSync(p('efs', 'state', 'sync', 'xcp-ng', 'refresh-pending'))).toBe(false);
  });

  it('geoip: the key from the task\'s secret into a private file, the databases swapped in, their timestamp kept, the service rolled', async () => {
    fs.rmSync(p('calls'), { force: true });
    const r = await step('geoip');
    expect(r.status).toBe(0);
    for (const e of ['GeoLite2-City', 'GeoLite2-ASN']) expect(fs.readFileSync(p('efs', 'geoip', `${e}.mmdb`)).equals(fs.readFileSync(path.join(GEOIP, `${e}.mmdb`)))).toBe(true);
    expect(fs.readFileSync(p('secrets', 'maxmind-license-key'), 'utf8')).toBe(`${KEY}\n`);
    expect(fs.statSync(p('secrets', 'maxmind-license-key')).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(`${geoipStampDir(rl)}/mirrorfleet_geoip.prom`, 'utf8')).toMatch(/^mirrorfleet_geoip_updated_timestamp_seconds \d+$/m);
    expect(calls()).toEqual(['aws ecs update-service --cluster the-cluster --service the-service --force-new-deployment --query service.serviceName --output text']);
    expect(r.report).toMatchObject({ mirrorfleet_task: 'geoip', success: 1 });
    expect(r.out + r.err).not.toContain(KEY);
  });

  it('reconcile: this deploy\'s list into mirrorbits through the task\'s own daemon (the stand-in) on Redis; an applied list is a success', async () => {
    const mirrors = () => run('redis-cli', ['-p', String(redisPort), 'HVALS', 'MIRRORS']).stdout.trim();
    const applied = await step('reconcile');
    expect({ status: applied.status, report: applied.report }).toEqual({ status: 0, report: { mirrorfleet_task: 'reconcile', success: 1 } });
    expect(mirrors()).toBe('mirror-fr');
    const again = await step('reconcile');
    expect({ status: again.status, report: again.report }).toEqual({ status: 0, report: { mirrorfleet_task: 'reconcile', success: 1 } });
  });

  it('reconcile: refuses a mirror list that is not the one this deploy made', async () => {
    fs.rmSync(p('calls'), { force: true });
    const r = await step('reconcile', { MIRROR_LIST_SHA256: '0'.repeat(64) });
    expect(r.status).toBe(1);
    expect(r.err).toContain('the mirror list at s3://assets/list.json is not the one this deploy made');
    expect(calls()).toEqual([expect.stringMatching(/^aws s3 cp --only-show-errors s3:\/\/assets\/list\.json \/\S+$/)]);
    expect(r.report).toEqual({ mirrorfleet_task: 'reconcile', success: 0 });
  });
});

/**
 * mirrorbits as these steps use it: `daemon` opens the RPC port of its config and waits for
 * SIGQUIT; the CLI's `refresh` and `list -state` answer only while a daemon listens. Each call is
 * recorded in `calls`.
 */
const MIRRORBITS_STAND_IN = (calls: string) => `#!/usr/bin/python3
import os, re, signal, socket, sys
calls = ${JSON.stringify(calls)}
def record(line):
    with open(calls, 'a') as f: f.write(line + '\\n')
args = sys.argv[1:]
if args and args[0] == 'daemon':
    record(' '.join(args))
    conf = open(args[args.index('-config') + 1]).read()
    host, port = re.search(r'^RPCListenAddress: (\\S+):(\\d+)$', conf, re.M).groups()
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((host, int(port))); s.listen()
    def quit(*_):
        record('stopped by QUIT'); sys.exit(0)
    signal.signal(signal.SIGQUIT, quit)
    while True:
        c, _ = s.accept(); c.close()
host, port = args[args.index('-h') + 1], int(args[args.index('-p') + 1])
socket.create_connection((host, port), timeout=2).close()
command = ' '.join(args[4:])
record(command)
if command == 'refresh' and os.environ.get('STAND_IN_FAIL_REFRESH'): sys.exit(1)
if command == 'list -state':
    print('Identifier               STATE   SINCE')
    print('mirror.example.org       up      (2026-12-01)')
    print('xcp.mirror.example.net   down    (2026-12-01)')
`;
