import { ChildProcess, spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { loadProjectFile } from '../../lib/project/project';
import { RedirectorConfig } from '../../lib/project/redirector';
import { REDIRECTOR_UNITS, renderRedirectorFiles, redirectorUnits } from '../../lib/roles/redirector/files';
import { REDIRECTOR_LAYOUT, RedirectorLayout } from '../../lib/roles/redirector/layout';
import { renderRedisConf } from '../../lib/roles/redirector/redis';
import { mirrorListFiles } from '../../lib/roles/redirector/mirror-list-source';
import { REPO, testLayout, tmpDir } from '../support/fixtures';
import { freePort, waitForPort } from '../support/ports';
import { describeWith, run } from '../support/tools';

/*
 * The redirector's parts around mirrorbits, with the real programs (R1, R2, R4): Redis with the
 * rendered settings keeps mirrorbits' data across a restart and refuses to evict; the GeoIP
 * refresh swaps in only databases that match their published checksum; the index refresh runs
 * only after a sync that changed the copy; every unit passes systemd-analyze.
 */
const GEOIP = '/work/shared/geoip-test';

function redirectorIn(root: string): { r: RedirectorConfig; rl: RedirectorLayout; project: ReturnType<typeof loadProjectFile> } {
  const file = path.join(root, 'project.yaml');
  fs.writeFileSync(file, fs.readFileSync(path.join(REPO, 'examples', 'project.yaml'), 'utf8')
    .replace('  repoSync: every 5 minutes', `  repoSync: every 5 minutes\n  storage: { mountPoint: ${root}/srv/mirror }`));
  fs.copyFileSync(path.join(REPO, 'examples', 'mirrors.yaml'), path.join(root, 'mirrors.yaml'));
  const project = loadProjectFile(file);
  const rl: RedirectorLayout = { ...REDIRECTOR_LAYOUT, host: testLayout(root), geoipDir: `${root}/geoip`, etcDir: `${root}/etc/mirrorfleet/redirector`, mirrorbitsDir: `${root}/opt/mirrorbits` };
  return { r: project.redirector!, rl, project };
}

describeWith(['redis-server', 'redis-cli'], 'Redis with the rendered settings (R1)', () => {
  let root: string;
  let port: number;
  let redis: ChildProcess | undefined;
  const cli = (...args: string[]) => run('redis-cli', ['-p', String(port), ...args]).stdout.trim();
  const start = async (maxMiB: number) => {
    const { r, rl } = redirectorIn(root);
    const conf = renderRedisConf(r, { ...rl, redisPort: port }, maxMiB).replace(/^supervised systemd$/m, 'supervised no');
    fs.mkdirSync(`${root}/srv/mirror/.redis`, { recursive: true });
    fs.writeFileSync(`${root}/redis.conf`, conf);
    redis = spawn('redis-server', [`${root}/redis.conf`], { stdio: 'ignore' });
    await waitForPort(port);
  };
  const stop = async () => {
    cli('shutdown');
    await new Promise((r) => redis!.once('exit', r));
  };

  beforeAll(async () => {
    root = tmpDir('redis');
    port = await freePort();
  });
  afterAll(() => {
    redis?.kill('SIGKILL');
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('keeps what mirrorbits wrote across a restart (AOF on the data volume)', async () => {
    await start(256);
    expect(cli('HSET', 'MIRROR_1', 'name', 'mirror.example.org')).toBe('1');
    expect(cli('CONFIG', 'GET', 'appendonly')).toBe('appendonly\nyes');
    await stop();
    expect(fs.readdirSync(`${root}/srv/mirror/.redis`).join(' ')).toMatch(/appendonlydir/);
    await start(256);
    expect(cli('HGET', 'MIRROR_1', 'name')).toBe('mirror.example.org');
    expect(cli('CONFIG', 'GET', 'maxmemory-policy')).toBe('maxmemory-policy\nnoeviction');
    await stop();
  });

  it('refuses writes when full instead of evicting mirrors (noeviction)', async () => {
    await start(256);
    cli('CONFIG', 'SET', 'maxmemory', '2mb');
    const big = 'x'.repeat(100_000);
    let refused = '';
    for (let i = 0; i < 100 && !refused; i++) {
      const out = run('redis-cli', ['-p', String(port), 'SET', `FILE_${i}`, big]).stdout;
      if (out.includes('OOM')) refused = out;
    }
    expect(refused).toContain('OOM command not allowed');
    expect(cli('HGET', 'MIRROR_1', 'name')).toBe('mirror.example.org');
    await stop();
  });
});

describeWith(['curl', 'tar', 'sha256sum'], 'the GeoIP refresh (R4)', () => {
  let root: string;
  let server: http.Server;
  let env: string;
  let corrupt = false;
  const archives: Record<string, Buffer> = {};

  beforeAll(async () => {
    root = tmpDir('geoip');
    for (const edition of ['GeoLite2-City', 'GeoLite2-ASN']) {
      const dir = path.join(root, 'src', `${edition}_20261201`);
      fs.mkdirSync(dir, { recursive: true });
      fs.copyFileSync(path.join(GEOIP, `${edition}-Test.mmdb`), path.join(dir, `${edition}.mmdb`));
      run('tar', ['-czf', path.join(root, `${edition}.tar.gz`), '-C', path.join(root, 'src'), `${edition}_20261201`]);
      archives[edition] = fs.readFileSync(path.join(root, `${edition}.tar.gz`));
    }
    const port = await freePort();
    server = http.createServer((req, res) => {
      const m = /^\/(GeoLite2-(?:City|ASN))\/download\?suffix=tar\.gz(\.sha256)?$/.exec(req.url!);
      const auth = Buffer.from(`123456:the-licence-key`).toString('base64');
      if (!m || req.headers.authorization !== `Basic ${auth}`) { res.writeHead(401); res.end(); return; }
      const body = archives[m[1]];
      if (m[2]) {
        res.end(`${crypto.createHash('sha256').update(corrupt ? 'other' : body).digest('hex')}  ${m[1]}_20261201.tar.gz\n`);
      } else res.end(body);
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    const { project, r, rl } = redirectorIn(root);
    const files = renderRedirectorFiles(project, r, rl, { kind: 'file' }, { kind: 'file' }, 256);
    env = path.join(root, 'redirector.env');
    fs.writeFileSync(env, `${files.find((f) => f.path.endsWith('/redirector.env'))!.content}GEOIP_URL=http://127.0.0.1:${port}\nGEOIP_KEY_FILE=${root}/licence-key\n`);
    fs.mkdirSync(rl.geoipDir, { recursive: true });
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    fs.rmSync(root, { recursive: true, force: true });
  });

  const geoip = () => new Promise<{ status: number; out: string }>((resolve) => {
    // Async: this process serves the downloads.
    const c = spawn('bash', [path.join(REPO, 'assets', 'mirrorfleet-geoip'), env]);
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('close', (status) => resolve({ status: status ?? -1, out }));
  });

  it('says where the licence key goes when it is not there', async () => {
    const r = await geoip();
    expect(r.status).not.toBe(0);
    expect(r.out).toContain(`no licence key at ${root}/licence-key: place it there`);
  });

  it('fetches both databases with the account and key, checks them, swaps them in', async () => {
    fs.writeFileSync(`${root}/licence-key`, 'the-licence-key\n', { mode: 0o600 });
    const r = await geoip();
    expect(r.out).toContain('GeoLite2-ASN updated');
    expect(r.status).toBe(0);
    for (const e of ['GeoLite2-City', 'GeoLite2-ASN']) {
      expect(fs.readFileSync(`${root}/geoip/${e}.mmdb`).equals(fs.readFileSync(path.join(GEOIP, `${e}-Test.mmdb`)))).toBe(true);
    }
    expect(fs.readdirSync(`${root}/geoip`).sort()).toEqual(['GeoLite2-ASN.mmdb', 'GeoLite2-City.mmdb']);
  });

  it('keeps the current database when a download does not match its published checksum', async () => {
    fs.writeFileSync(`${root}/geoip/GeoLite2-City.mmdb`, 'current');
    corrupt = true;
    try {
      const r = await geoip();
      expect(r.status).not.toBe(0);
      expect(r.out).toContain('is not the published');
      expect(fs.readFileSync(`${root}/geoip/GeoLite2-City.mmdb`, 'utf8')).toBe('current');
    } finally {
      corrupt = false;
    }
  });
});

describeWith(['systemd-analyze', 'shellcheck'], 'the redirector\'s units and inline script', () => {
  it('every unit and drop-in passes systemd-analyze verify, with Debian\'s redis-server and nginx units beside them', () => {
    const root = tmpDir('redirector-units');
    try {
      const { project, r, rl } = redirectorIn(root);
      const files = renderRedirectorFiles(project, r, { ...rl, host: { ...rl.host, binDir: '/usr/bin' } }, { kind: 'aws-ssm' }, { kind: 'aws-ssm', parameter: '/x' }, 256)
        .filter((f) => f.path.includes('/systemd/system/'));
      const unitDir = path.join(root, 'units');
      for (const f of files) {
        const target = path.join(unitDir, path.relative(rl.host.systemdDir, f.path));
        fs.mkdirSync(path.dirname(target), { recursive: true });
        // ExecStart must name an existing executable: /bin/true stands in for the scripts here.
        fs.writeFileSync(target, f.content.replace(/^(ExecStart(?:Post)?=)\/usr\/bin\/mirror\S*/gm, '$1/bin/true').replace(/\/usr\/bin\/mirrorfleet-\S+/g, '/bin/true').split(`${rl.mirrorbitsDir}/mirrorbits`).join('/bin/true'));
      }
      for (const base of ['redis-server.service', 'nginx.service']) fs.copyFileSync(`/lib/systemd/system/${base}`, path.join(unitDir, base));
      const units = fs.readdirSync(unitDir).filter((f) => /\.(service|timer|path)$/.test(f)).map((f) => path.join(unitDir, f));
      expect(units.length).toBeGreaterThan(10);
      const v = run('systemd-analyze', ['verify', '--man=no', ...units], { env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_UNIT_PATH: `${unitDir}:` } });
      expect(v.stderr).toBe('');
      expect(v.status).toBe(0);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('the mirror list goes in once the GeoIP databases are there: a GeoIP refresh that worked starts the reconcile, which waits for one in progress', () => {
    const root = tmpDir('redirector-order');
    try {
      const { r, rl } = redirectorIn(root);
      const units = Object.fromEntries(redirectorUnits(r, rl).map((u) => [u.name, u.content]));
      const directive = (unit: string, key: string) => [...units[unit].matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].flatMap((m) => m[1].trim().split(/\s+/));
      // mirrorbits' add fails until both databases exist (traps.test.ts): without these, a first
      // boot's list stayed out of mirrorbits until the reconcile timer (2-7 min, then hourly).
      expect(directive(REDIRECTOR_UNITS.geoip, 'OnSuccess')).toEqual([REDIRECTOR_UNITS.reconcile]);
      expect(directive(REDIRECTOR_UNITS.reconcile, 'After')).toEqual(expect.arrayContaining([REDIRECTOR_UNITS.mirrorbits, REDIRECTOR_UNITS.geoip]));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('the mirror-list fetcher is shellcheck-clean', () => {
    const root = tmpDir('mirror-list');
    try {
      const script = mirrorListFiles({ kind: 'aws-ssm', parameter: '/x' }, REDIRECTOR_LAYOUT).find((f) => f.path.endsWith('mirrorfleet-mirror-list'))!;
      fs.writeFileSync(path.join(root, 's'), script.content);
      const r = run('shellcheck', ['--format=gcc', path.join(root, 's')]);
      expect(r.stdout + r.stderr).toBe('');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('the index refresh after the local copy\'s sync (R2)', () => {
  it('asks mirrorbits to refresh after a sync that changed the copy, and not after an unchanged one', () => {
    const root = tmpDir('repo-refresh');
    try {
      const bin = path.join(root, 'mirrorbits');
      fs.writeFileSync(bin, `#!/bin/sh\necho "$@" >> ${root}/calls\n`, { mode: 0o755 });
      fs.mkdirSync(`${root}/state`);
      const env = path.join(root, 'redirector.env');
      fs.writeFileSync(env, `SYNC_STATE_DIR=${root}/state\nMIRRORBITS_BIN=${bin}\nMIRRORBITS_RPC=127.0.0.1:3390\n`);
      const refresh = () => run('bash', [path.join(REPO, 'assets', 'mirrorfleet-repo-refresh'), env]);
      fs.writeFileSync(`${root}/state/status.json`, '{"tree":"xcp-ng","outcome":"unchanged","started":1}\n');
      expect(refresh().stdout).toContain('outcome is unchanged');
      expect(fs.existsSync(`${root}/calls`)).toBe(false);
      fs.writeFileSync(`${root}/state/status.json`, '{"tree":"xcp-ng","outcome":"success","started":1}\n');
      expect(refresh().status).toBe(0);
      expect(fs.readFileSync(`${root}/calls`, 'utf8')).toBe('-h 127.0.0.1 -p 3390 refresh\n');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
