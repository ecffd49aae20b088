import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { loadProjectFile } from '../../lib/project/project';
import { RedirectorLayout, repositoryPath } from '../../lib/roles/redirector/layout';
import { renderScaledNginxConf } from '../../lib/roles/redirector/scaled/files';
import { SCALED_LAYOUT } from '../../lib/roles/redirector/scaled/layout';
import { ACCESS_LOG_FIELDS } from '../../lib/roles/redirector/scaled/metrics';
import { testLayout, tmpDir } from '../support/fixtures';
import { freePort, waitForPort } from '../support/ports';
import { describeWith, run } from '../support/tools';
import { scaledProject } from './support';

/*
 * nginx as the scaled profile's service task runs it (R5, R7): the whole rendered configuration,
 * the real nginx, and in mirrorbits' place a backend that answers with the headers it received.
 * The load balancer is played by 127.0.0.2 and ::1 (the trusted networks here, the VPC on AWS);
 * a client at 127.0.0.1 is outside them. A balancer appends the client's address to whatever
 * X-Forwarded-For the client sent: mirrorbits must see that appended address, never the client's
 * own entries, and a client that is not the balancer can set neither header.
 */
const BALANCER_V4 = '127.0.0.2';
const OUTSIDER = '127.0.0.1';

describeWith(['nginx'], 'nginx behind the load balancer: the trusted-proxy variant (R5, R7)', () => {
  let root: string;
  let nginx: ChildProcess | undefined;
  let backend: http.Server;
  let port: number;
  let log: string;

  const get = (from: string, p: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const host = from.includes(':') ? '::1' : '127.0.0.1';
      const req = http.request({ host, port, path: p, headers, localAddress: from, family: from.includes(':') ? 6 : 4 }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });
  const seenBy = async (from: string, headers: Record<string, string>) => JSON.parse((await get(from, '/8.3/x86_64/xcp-ng.iso', headers)).body) as { xff: string; proto: string; realIp: string };

  beforeAll(async () => {
    root = tmpDir('scaled-nginx');
    fs.chmodSync(root, 0o755);
    port = await freePort();
    const backendPort = await freePort();
    backend = http.createServer((req, res) => {
      res.writeHead(302, { Location: `https://mirror.example.org${req.url}`, 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ xff: req.headers['x-forwarded-for'], proto: req.headers['x-forwarded-proto'], realIp: req.headers['x-real-ip'] }));
    });
    await new Promise<void>((r) => backend.listen(backendPort, '127.0.0.1', r));
    const p = loadProjectFile(scaledProject((s) => s.replace('  repoSync: every 5 minutes', `  repoSync: every 5 minutes\n  storage: { mountPoint: ${root}/srv/mirror }`)));
    const r = p.redirector!;
    // The task's layout with scratch paths and a free port; no TLS directory: the include matches nothing.
    const rl: RedirectorLayout = { ...SCALED_LAYOUT, host: testLayout(root), mirrorbitsConf: `${root}/run/mirrorbits.conf`, mirrorbitsHttp: `127.0.0.1:${backendPort}`, nginxConfDir: `${root}/nginx`, nginxLogDir: `${root}/log`, nginxHttpPort: port };
    fs.mkdirSync(`${repositoryPath(r)}/8.3/x86_64`, { recursive: true });
    fs.writeFileSync(`${repositoryPath(r)}/8.3/x86_64/xcp-ng.iso`, 'iso');
    fs.mkdirSync(`${root}/log`, { recursive: true });
    fs.mkdirSync(`${root}/run`, { recursive: true });
    log = `${root}/log/mirrorfleet-access.log`;
    const conf = `${root}/run/nginx.conf`;
    fs.writeFileSync(conf, renderScaledNginxConf(r, [`${BALANCER_V4}/32`, '::1/128'], rl));
    const t = run('nginx', ['-t', '-c', conf]);
    if (t.status !== 0) throw new Error(`nginx -t: ${t.stderr}`);
    nginx = spawn('nginx', ['-c', conf], { stdio: 'ignore' });
    await waitForPort(port);
  }, 30_000);

  afterAll(async () => {
    nginx?.kill('SIGTERM');
    await new Promise((r) => backend.close(r));
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('a header forged by the client and appended to by the balancer resolves to the client\'s real address', async () => {
    // The client wrote 81.2.69.142; the balancer appended the address the client connected from.
    expect(await seenBy(BALANCER_V4, { 'X-Forwarded-For': '81.2.69.142, 198.51.100.7', 'X-Forwarded-Proto': 'https' }))
      .toEqual({ xff: '198.51.100.7', proto: 'https', realIp: '198.51.100.7' });
    // Two trusted hops appended: the right-most untrusted address is still the client.
    expect((await seenBy(BALANCER_V4, { 'X-Forwarded-For': '81.2.69.142, 198.51.100.7, 127.0.0.2' })).xff).toBe('198.51.100.7');
    // A balancer with no header of the client's: the address it appended.
    expect((await seenBy(BALANCER_V4, { 'X-Forwarded-For': '198.51.100.7' })).xff).toBe('198.51.100.7');
  });

  it('over IPv6 too', async () => {
    expect(await seenBy('::1', { 'X-Forwarded-For': '2001:db8::1, 2001:db8:77::5', 'X-Forwarded-Proto': 'http' }))
      .toEqual({ xff: '2001:db8:77::5', proto: 'http', realIp: '2001:db8:77::5' });
  });

  it('a request that does not come from the trusted range cannot set either header', async () => {
    expect(await seenBy(OUTSIDER, { 'X-Forwarded-For': '81.2.69.142', 'X-Forwarded-Proto': 'https' }))
      .toEqual({ xff: OUTSIDER, proto: 'http', realIp: OUTSIDER });
    expect((await seenBy(OUTSIDER, {})).xff).toBe(OUTSIDER);
  });

  it('only http or https is taken from the balancer\'s X-Forwarded-Proto', async () => {
    expect((await seenBy(BALANCER_V4, { 'X-Forwarded-For': '198.51.100.7', 'X-Forwarded-Proto': 'gopher' })).proto).toBe('http');
  });

  it('logs the client, not the balancer, and answers the balancer\'s health check itself', async () => {
    expect((await get(BALANCER_V4, '/healthz')).body).toBe('ok\n');
    await seenBy(BALANCER_V4, { 'X-Forwarded-For': '203.0.113.99' });
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.at(-1)).toMatch(/^203\.0\.113\.99 \[.*\] "GET \/8\.3\/x86_64\/xcp-ng\.iso HTTP\/1\.1" 302 \d+ "https:\/\/mirror\.example\.org\/8\.3\/x86_64\/xcp-ng\.iso" /);
    // The fields the metric filters name (lib/roles/redirector/scaled/metrics.ts), split as CloudWatch
    // splits a space-delimited event: a bracketed or quoted run is one field.
    const fields = [...lines.at(-1)!.matchAll(/\[[^\]]*\]|"[^"]*"|\S+/g)].map((m) => m[0].replace(/^["[]|["\]]$/g, ''));
    expect(Object.fromEntries(ACCESS_LOG_FIELDS.map((f, i) => [f, fields[i]]))).toMatchObject({ client: '203.0.113.99', status: '302', location: 'https://mirror.example.org/8.3/x86_64/xcp-ng.iso' });
    expect(fields).toHaveLength(ACCESS_LOG_FIELDS.length);
    const check = [...lines.find((l) => l.includes('/healthz'))!.matchAll(/\[[^\]]*\]|"[^"]*"|\S+/g)].map((m) => m[0]);
    expect(check).toHaveLength(ACCESS_LOG_FIELDS.length);
  });
});
