import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { loadProjectFile } from '../../lib/project/project';
import { REDIRECTOR_LAYOUT, RedirectorLayout, repositoryPath } from '../../lib/roles/redirector/layout';
import { renderNginxSite, renderNginxTls } from '../../lib/roles/redirector/nginx';
import { REPO, testLayout, tmpDir } from '../support/fixtures';
import { freePort, waitForPort } from '../support/ports';
import { describeWith, run } from '../support/tools';

/*
 * nginx in front of mirrorbits (R1, R7) with the rendered site, the real nginx and, in
 * mirrorbits' place, a backend that answers with the headers it received: a client's forged
 * X-Forwarded-For never reaches mirrorbits, over IPv4 and IPv6; /healthz needs no backend.
 */
describeWith(['nginx', 'openssl'], 'nginx in front of mirrorbits (R1, R7)', () => {
  let root: string;
  let nginx: ChildProcess | undefined;
  let backend: http.Server;
  let port: number;
  let tlsPort: number;
  let repo: string;
  let rl: RedirectorLayout;
  let backendUp = true;
  const seen: { url: string; headers: http.IncomingHttpHeaders }[] = [];

  const get = (host: string, p: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
      const req = http.request({ host, port, path: p, headers, family: host.includes(':') ? 6 : 4 }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    root = tmpDir('redirector-nginx');
    fs.chmodSync(root, 0o755);
    [port, tlsPort] = [await freePort(), await freePort()];
    const backendPort = await freePort();
    backend = http.createServer((req, res) => {
      if (!backendUp) { req.socket.destroy(); return; }
      seen.push({ url: req.url!, headers: req.headers });
      res.writeHead(302, { Location: `https://mirror.example.org${req.url}`, 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ xff: req.headers['x-forwarded-for'], proto: req.headers['x-forwarded-proto'] }));
    });
    await new Promise<void>((r) => backend.listen(backendPort, '127.0.0.1', r));
    const file = path.join(root, 'project.yaml');
    fs.writeFileSync(file, fs.readFileSync(path.join(REPO, 'examples', 'project.yaml'), 'utf8').replace(/mountPoint: \/srv\/mirror/g, `mountPoint: ${root}/srv/mirror`)
      .replace('  repoSync: every 5 minutes', `  repoSync: every 5 minutes\n  storage: { mountPoint: ${root}/srv/mirror }`));
    fs.copyFileSync(path.join(REPO, 'examples', 'mirrors.yaml'), path.join(root, 'mirrors.yaml'));
    const r = loadProjectFile(file).redirector!;
    rl = { ...REDIRECTOR_LAYOUT, host: testLayout(root), mirrorbitsHttp: `127.0.0.1:${backendPort}`, nginxConfDir: `${root}/nginx`, nginxLogDir: `${root}/log`, nginxHttpPort: port, nginxHttpsPort: tlsPort };
    repo = repositoryPath(r);
    fs.mkdirSync(`${repo}/8.3/x86_64`, { recursive: true });
    fs.writeFileSync(`${repo}/8.3/x86_64/xcp-ng.iso`, 'iso');
    fs.mkdirSync(`${root}/var/lib/mirrorfleet/acme/.well-known/acme-challenge`, { recursive: true });
    fs.writeFileSync(`${root}/var/lib/mirrorfleet/acme/.well-known/acme-challenge/token1`, 'token-content');
    fs.mkdirSync(`${root}/nginx/mirrorfleet-tls`, { recursive: true });
    fs.mkdirSync(`${root}/log`, { recursive: true });
    fs.writeFileSync(`${root}/nginx/site.conf`, renderNginxSite(r, rl));
    // The HTTPS block as the deploy hook installs it, with a certificate at the layout's path.
    const live = `${root}/etc/letsencrypt/live/mirrorfleet`;
    fs.mkdirSync(live, { recursive: true });
    run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=download.example.org', '-keyout', `${live}/privkey.pem`, '-out', `${live}/fullchain.pem`]);
    fs.writeFileSync(`${root}/nginx/mirrorfleet-tls/mirrorfleet.conf`, renderNginxTls(r, rl));
    fs.writeFileSync(`${root}/nginx/nginx.conf`, `daemon off;
pid ${root}/nginx.pid;
error_log ${root}/log/error.log;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    access_log ${root}/log/access.log;
    client_body_temp_path ${root}/tmp; proxy_temp_path ${root}/tmp; fastcgi_temp_path ${root}/tmp; uwsgi_temp_path ${root}/tmp; scgi_temp_path ${root}/tmp;
    include ${root}/nginx/site.conf;
}
`);
    const t = run('nginx', ['-t', '-c', `${root}/nginx/nginx.conf`]);
    if (t.status !== 0) throw new Error(`nginx -t: ${t.stderr}`);
    nginx = spawn('nginx', ['-c', `${root}/nginx/nginx.conf`], { stdio: 'ignore' });
    await waitForPort(port);
  }, 30_000);

  afterAll(async () => {
    nginx?.kill('SIGTERM');
    await new Promise((r) => backend.close(r));
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('replaces a forged X-Forwarded-For with the peer address over IPv4, and passes the scheme', async () => {
    const r = await get('127.0.0.1', '/8.3/x86_64/xcp-ng.iso', { 'X-Forwarded-For': '81.2.69.142, 10.0.0.1' });
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('https://mirror.example.org/8.3/x86_64/xcp-ng.iso');
    expect(JSON.parse(r.body)).toEqual({ xff: '127.0.0.1', proto: 'http' });
  });

  it('and over IPv6', async () => {
    const r = await get('::1', '/8.3/x86_64/xcp-ng.iso', { 'X-Forwarded-For': '2.125.160.216' });
    expect(JSON.parse(r.body).xff).toBe('::1');
  });

  it('lists directories itself from the local copy; ?mirrorlist goes to mirrorbits even on a directory', async () => {
    const before = seen.length;
    const listing = await get('127.0.0.1', '/8.3/');
    expect(listing.status).toBe(200);
    expect(listing.body).toContain('x86_64/');
    expect(seen.length).toBe(before);
    const list = await get('127.0.0.1', '/8.3/?mirrorlist');
    expect(list.status).toBe(302);
    expect(seen.at(-1)!.url).toBe('/8.3/?mirrorlist');
  });

  it('answers /healthz with mirrorbits down, and serves the ACME challenge from the webroot', async () => {
    backendUp = false;
    try {
      expect((await get('127.0.0.1', '/healthz')).body).toBe('ok\n');
      expect((await get('127.0.0.1', '/8.3/x86_64/xcp-ng.iso')).status).toBe(502);
    } finally {
      backendUp = true;
    }
    expect((await get('127.0.0.1', '/.well-known/acme-challenge/token1')).body).toBe('token-content');
  });

  it('the HTTPS block serves the same rules once installed (TLS on the certificate\'s port)', async () => {
    // Not curl: this process is the backend and must keep answering while the request runs.
    const body = await new Promise<string>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port: tlsPort, path: '/8.3/x86_64/xcp-ng.iso', rejectUnauthorized: false, headers: { 'X-Forwarded-For': '1.2.3.4' } }, (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve(b));
      }).on('error', reject);
    });
    expect(JSON.parse(body)).toEqual({ xff: '127.0.0.1', proto: 'https' });
  });
});
