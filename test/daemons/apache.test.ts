import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { mpmSizing, renderApacheTuning } from '../../lib/render/apache-tuning';
import { acmeWebroot, certLive } from '../../lib/render/layout';
import { EXAMPLES, Example } from '../support/fixtures';
import { RawConnection, connectResult, fetchRaw } from '../support/http';
import { MirrorSite, curlSizes, exampleHttp, mpmStatus, serveExample } from '../support/mirror-site';
import { describeWith, run } from '../support/tools';

/**
 * The rendered Apache config (tuning, ports, site) on the real apache2, set up by the real
 * mirrorfleet-apache-setup: every assertion is on what the running server answers.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(ok: () => boolean, ms: number): Promise<void> {
  for (const deadline = Date.now() + ms; !ok() && Date.now() < deadline; ) await sleep(50);
}
// Compressible content, so any gzip/brotli filter left on would kick in.
const TEXT = 'mirrorfleet byte-exact content line\n'.repeat(800);

/** Metadata a checker must never get from a proxy cache (N3), and ordinary files that may be cached. */
const SAMPLES: Record<Example, { metadata: string[]; plain: string[] }> = {
  'xcp-ng': {
    metadata: ['8.3/base/x86_64/repodata/repomd.xml', '8.3/base/x86_64/repodata/0a1b-primary.sqlite.bz2', '8.3/base/x86_64/repodata/0a1b-filelists.xml.gz'],
    plain: ['8.3/base/x86_64/Packages/xapi-core-1.0-1.xcpng8.3.x86_64.rpm'],
  },
  fedora: {
    metadata: ['linux/updates/45/Everything/x86_64/repodata/repomd.xml', 'linux/updates/45/Everything/x86_64/repodata/c0de-primary.sqlite.bz2', 'linux/updates/45/Everything/x86_64/repodata/c0de-primary.xml.gz'],
    plain: ['linux/updates/45/Everything/x86_64/Packages/b/bash-5.2-1.fc45.x86_64.rpm'],
  },
  gentoo: {
    metadata: ['distfiles/timestamp.mirmon', 'releases/amd64/autobuilds/latest-stage3-amd64-openrc.txt'],
    plain: ['distfiles/5a/bash-5.2.tar.gz', 'releases/amd64/autobuilds/20270101T000000Z/stage3-amd64-openrc.tar.xz', 'distfiles/x.rpm'],
  },
};

describeWith(['apache2', 'apache2ctl', 'curl'], 'the rendered Apache config on the real apache2', () => {
  describe.each(EXAMPLES)('%s example', (example) => {
    let site: MirrorSite;
    let keepAlive: RawConnection | undefined;
    let lastResponseAt = 0;
    const get = (url: string, headers: Record<string, string> = {}, method = 'GET') => fetchRaw(site.apache.httpPort, url, { headers, method });

    beforeAll(async () => {
      site = await serveExample(example);
    });
    afterAll(async () => {
      keepAlive?.destroy();
      await site?.close();
    });

    it('mirrorfleet-apache-setup enables the site and configtest says "Syntax OK"', () => {
      expect(site.apache.setupOutput).toMatch(/Enabling site mirrorfleet\.[\s\S]*Syntax OK\s*$/);
      const t = site.apache.ctl('-t', '-D', 'DUMP_RUN_CFG');
      expect(t.status).toBe(0);
      expect(t.stdout).toContain(`ServerRoot: "${site.apache.confDir}"`);
    });

    it('N2: MPM sized for 1000 Mbit/s: MaxRequestWorkers 500, all 20 processes up from the start, ServerLimit 40 (room for a stopping generation)', async () => {
      expect(site.config.bandwidthMbps).toBe(1000);
      expect(site.config.http.maxRequestWorkers).toBe(500);
      const tuning = renderApacheTuning(site.config);
      const directive = (name: string) => Number(new RegExp(`^\\s*${name}\\s+(\\d+)$`, 'm').exec(tuning)?.[1]);
      expect(['MaxRequestWorkers', 'StartServers', 'ServerLimit'].map(directive)).toEqual([500, 20, 40]);
      // The running server: 500 worker slots in the scoreboard, every one of them started.
      expect(await mpmStatus(site, 500)).toEqual({ mpm: 'event', slots: 500, workers: 500, processes: 20, stopping: 0 });
      // Apache prints its MPM corrections (AH00513 and friends) when it starts and in configtest.
      expect(site.apache.startOutput).toBe('');
      expect(site.apache.setupOutput).not.toMatch(/AH\d{5}|warn/i);
    });

    it('N2: keep-alive "timeout=2, max=100"; the next request after 1 s idle reuses the same TCP connection', async () => {
      const url = site.put('keepalive.txt', 'keep\n');
      keepAlive = new RawConnection(site.apache.httpPort);
      const first = await keepAlive.get(url);
      expect(first.status).toBe(200);
      expect(first.headers['keep-alive']).toBe('timeout=2, max=100');
      const localPort = keepAlive.localPort;
      await sleep(1000);
      expect(keepAlive.closed).toBe(false);
      const second = await keepAlive.get(url);
      lastResponseAt = Date.now();
      expect(second.status).toBe(200);
      expect(second.body.toString()).toBe('keep\n');
      // max counts down per connection: 99 is Apache's own word that this is the same connection.
      expect(second.headers['keep-alive']).toBe('timeout=2, max=99');
      expect(keepAlive.localPort).toBe(localPort);
    });

    it('N3: repository metadata is "max-age=0, must-revalidate" with Expires; ordinary files are not', async () => {
      for (const rel of SAMPLES[example].metadata) {
        const r = await get(site.put(rel, 'metadata\n'));
        expect([rel, r.status]).toEqual([rel, 200]);
        expect([rel, r.headers['cache-control']]).toEqual([rel, expect.stringMatching(/^(?=.*\bmust-revalidate\b)(?=.*\bmax-age=0\b)/)]);
        const expires = Date.parse(String(r.headers.expires));
        expect([rel, expires <= Date.parse(String(r.headers.date)) + 1000]).toEqual([rel, true]);
      }
      for (const rel of SAMPLES[example].plain) {
        const r = await get(site.put(rel, 'payload\n'));
        expect([rel, r.status]).toEqual([rel, 200]);
        expect([rel, r.headers['cache-control'] ?? '']).toEqual([rel, expect.not.stringContaining('must-revalidate')]);
      }
    });

    it('N4: .iso and .rpm are application/octet-stream', async () => {
      for (const rel of ['images/install.iso', 'Packages/a/a-1.0-1.noarch.rpm']) {
        const r = await get(site.put(rel, 'binary\n'));
        expect([rel, r.status, r.headers['content-type']]).toEqual([rel, 200, 'application/octet-stream']);
      }
    });

    it('N8: no compression: byte-identical bodies with the file size as Content-Length; HEAD likewise, no body', async () => {
      for (const rel of ['repodata/comps.xml', 'README.txt']) {
        const url = site.put(rel, TEXT);
        const size = fs.statSync(site.file(rel)).size;
        const r = await get(url, { 'Accept-Encoding': 'gzip, br' });
        expect([rel, r.status, r.headers['content-encoding'], r.headers['content-length']]).toEqual([rel, 200, undefined, String(size)]);
        expect(r.body.equals(fs.readFileSync(site.file(rel)))).toBe(true);
        const head = await get(url, { 'Accept-Encoding': 'gzip, br' }, 'HEAD');
        expect([rel, head.status, head.headers['content-length'], head.body.length]).toEqual([rel, 200, String(size), 0]);
      }
    });

    it("N8: rsync's .~tmp~ files are 403 and hidden from the parent listing", async () => {
      site.put('sub/keep.rpm', 'done\n');
      const tmp = site.put('sub/.~tmp~/x.rpm', 'partial\n');
      expect((await get(tmp)).status).toBe(403);
      expect((await get(site.url('sub/.~tmp~/'))).status).toBe(403);
      const listing = await get(site.url('sub/'));
      expect(listing.status).toBe(200);
      expect(listing.body.toString()).toContain('href="keep.rpm"');
      expect(listing.body.toString()).not.toContain('.~tmp~');
    });

    it('N17: a staged 0750 root:root directory is 403 to www-data; after the bitflip (0755) it is served', async () => {
      const url = site.put('releases/99/Everything/x86_64/iso/staged.iso', 'release\n');
      const staged = site.file('releases/99');
      // Debian's envvars: the children that serve requests run as www-data, not root.
      const pid = fs.readFileSync(site.apache.pidFile, 'utf8').trim();
      expect(new Set(run('ps', ['-o', 'user=', '--ppid', pid]).stdout.trim().split(/\s+/))).toEqual(new Set(['www-data']));
      fs.chownSync(staged, 0, 0);
      fs.chmodSync(staged, 0o750);
      expect((await get(url)).status).toBe(403);
      expect((await get(site.url('releases/99/'))).status).toBe(403);
      fs.chmodSync(staged, 0o755);
      const r = await get(url);
      expect(r.status).toBe(200);
      expect(r.body.toString()).toBe('release\n');
    });

    it('N7: directory listings on (default "all"): an HTML index naming the files', async () => {
      const dir = example === 'gentoo' ? 'releases' : 'linux/releases';
      site.put(`${dir}/listed-file.txt`, 'x\n');
      const r = await get(site.url(`${dir}/`));
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toMatch(/^text\/html/);
      expect(r.body.toString()).toContain('<a href="listed-file.txt">listed-file.txt</a>');
    });

    it('N5 default: ranged requests for .iso are served (206)', async () => {
      expect(site.config.http.refuseIsoRanges).toBe(false);
      const r = await get(site.put('iso/dvd.iso', TEXT), { Range: 'bytes=0-10' });
      expect([r.status, r.body.toString()]).toEqual([206, TEXT.slice(0, 11)]);
    });

    it('N6: the access log line has %I (bytes in) and %O (bytes out) matching what curl sent and received', async () => {
      const url = site.put('logged.bin', TEXT);
      const agent = `mirrorfleet-n6-${example}-${process.pid}`;
      const c = curlSizes(`http://127.0.0.1:${site.apache.httpPort}${url}`, agent);
      expect(c.status).toBe(200);
      const line = await site.accessLogLine(agent);
      const m = /^\S+ \S+ \S+ \[[^\]]+\] "GET (\S+) HTTP\/1\.1" (\d{3}) (\d+) "[^"]*" (\d+) (\d+) "([^"]*)" \d+$/.exec(line);
      expect(m).not.toBeNull();
      const [, loggedUrl, status, bytes, bytesIn, bytesOut] = m!;
      expect([loggedUrl, status, Number(bytes)]).toEqual([url, '200', TEXT.length]);
      expect(Number(bytesIn)).toBeGreaterThan(0);
      expect(Number(bytesIn)).toBe(c.request);
      expect(Number(bytesOut)).toBeGreaterThanOrEqual(c.header + c.download);
    });

    it('N9: the same file is served on 127.0.0.1 and on [::1]', async () => {
      const url = site.put('dual-stack.txt', 'both\n');
      expect((await fetchRaw(site.apache.httpPort, url, { host: '127.0.0.1' })).body.toString()).toBe('both\n');
      if (!site.ipv6) {
        console.warn('N9 [::1] assertion skipped: this host has no ::1 on lo (Apache listens on 127.0.0.1 only here)');
        return;
      }
      const v6 = await fetchRaw(site.apache.httpPort, url, { host: '::1' });
      expect([v6.status, v6.body.toString()]).toEqual([200, 'both\n']);
    });

    it('ACME http-01: a token in the webroot is served over HTTP', async () => {
      fs.writeFileSync(path.join(acmeWebroot(site.layout), '.well-known/acme-challenge/tok-en_1'), 'tok-en_1.thumbprint');
      const r = await get('/.well-known/acme-challenge/tok-en_1');
      expect([r.status, r.body.toString()]).toEqual([200, 'tok-en_1.thumbprint']);
    });

    it('HTTPS is enabled but off until the certificate exists: its port refuses connections, HTTP works', async () => {
      expect(site.config.https.enabled).toBe(true);
      expect(fs.existsSync(path.join(certLive(site.layout), 'fullchain.pem'))).toBe(false);
      expect(await connectResult(site.apache.httpsPort)).toBe('ECONNREFUSED');
      expect(await connectResult(site.apache.httpPort)).toBe('connected');
    });

    it('N2: the idle keep-alive connection is closed by the server within 3 s (KeepAliveTimeout 2)', async () => {
      expect(lastResponseAt).toBeGreaterThan(0); // the reuse test above got its second response
      const closed = await keepAlive!.closedWithin(Math.max(0, lastResponseAt + 3000 - Date.now()));
      expect(closed).toBe(true);
      expect(keepAlive!.closedTime! - lastResponseAt).toBeGreaterThan(1000);
    });
  });

  describe('fedora: a graceful reload while downloads run (certificate renewal, deploy) (N2)', () => {
    let site: MirrorSite;
    const sockets: net.Socket[] = [];
    beforeAll(async () => {
      site = await serveExample('fedora');
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await site?.close();
    });

    it('the old processes finish their downloads while a whole new generation of 20 starts beside them; no "scoreboard is full"; every download completes', async () => {
      const size = 32 << 20; // beyond what the socket buffers of a paused reader hold: each worker stays busy
      const rel = 'linux/releases/45/Server/x86_64/iso/big.iso';
      fs.mkdirSync(path.dirname(site.file(rel)), { recursive: true, mode: 0o755 });
      fs.writeFileSync(site.file(rel), '');
      fs.truncateSync(site.file(rel), size);
      const url = site.url(rel);
      expect((await mpmStatus(site, 500)).processes).toBe(20);
      // 60 downloads whose readers pause after the first bytes, spread over the old generation.
      const received = Array(60).fill(0);
      let holding = true;
      const done = received.map(
        (_, i) =>
          new Promise<void>((resolve) => {
            const s = net.connect(site.apache.httpPort, '127.0.0.1', () => s.write(`GET ${url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
            sockets.push(s);
            s.on('data', (d: Buffer) => {
              received[i] += d.length;
              if (holding) s.pause();
            });
            s.on('error', () => resolve());
            s.on('close', () => resolve());
          }),
      );
      await until(() => received.every((n) => n > 0), 10_000);
      expect(received.every((n) => n > 0)).toBe(true);
      await site.apache.graceful();
      // The new generation comes up in full beside the old processes still sending.
      let status = await mpmStatus(site, 500);
      for (const deadline = Date.now() + 10_000; status.processes - status.stopping < 20 && Date.now() < deadline; ) status = await mpmStatus(site, 500);
      expect(status.stopping).toBeGreaterThan(0);
      expect(status.processes - status.stopping).toBe(20);
      expect(status.processes).toBeGreaterThan(20);
      expect(site.apache.logs()).not.toMatch(/scoreboard is full|Increase ServerLimit/i);
      // The old generation finishes every download once the readers read again.
      holding = false;
      for (const s of sockets) s.resume();
      await Promise.all(done);
      const headers = 400; // each response's status line and headers, give or take
      expect(received.filter((n) => n < size || n > size + headers * 2)).toEqual([]);
    }, 60_000);
  });

  describe('fedora with http.refuseIsoRanges: true (N5)', () => {
    let site: MirrorSite;
    beforeAll(async () => {
      site = await serveExample('fedora', { http: { ...exampleHttp('fedora'), refuseIsoRanges: true } });
    });
    afterAll(() => site?.close());

    it('a ranged .iso is 403, a plain .iso GET is 200, a ranged .rpm is 206', async () => {
      expect(site.config.http.refuseIsoRanges).toBe(true);
      expect(site.config.http.perIpConnectionLimit).toBe(6);
      const iso = site.put('linux/releases/45/Server/x86_64/iso/server.iso', TEXT);
      const rpm = site.put('linux/releases/45/Everything/x86_64/os/Packages/z/z-1.rpm', TEXT);
      const port = site.apache.httpPort;
      expect((await fetchRaw(port, iso, { headers: { Range: 'bytes=0-10' } })).status).toBe(403);
      const plain = await fetchRaw(port, iso);
      expect([plain.status, plain.body.length]).toEqual([200, TEXT.length]);
      const ranged = await fetchRaw(port, rpm, { headers: { Range: 'bytes=0-10' } });
      expect([ranged.status, ranged.body.toString()]).toEqual([206, TEXT.slice(0, 11)]);
    });
  });

  describe('xcp-ng with http.maxRequestWorkers: 15, the lowest the schema allows (N2)', () => {
    let site: MirrorSite;
    beforeAll(async () => {
      site = await serveExample('xcp-ng', { http: { ...exampleHttp('xcp-ng'), maxRequestWorkers: 15 } });
    });
    afterAll(() => site?.close());

    it('rounded up to one whole process: 25 workers up, ServerLimit 2, no MPM correction', async () => {
      expect(mpmSizing(15)).toMatchObject({ workers: 25, processes: 1, serverLimit: 2, maxSpareThreads: 50 });
      expect(await mpmStatus(site, 25)).toEqual({ mpm: 'event', slots: 25, workers: 25, processes: 1, stopping: 0 });
      expect(site.apache.startOutput).toBe('');
      expect(site.apache.setupOutput).not.toMatch(/AH\d{5}|warn/i);
    });

    it('the highest, 4000: 160 processes, ServerLimit 320 (the event MPM compiles in 20000)', () => {
      expect(mpmSizing(4000)).toEqual({ threadsPerChild: 25, workers: 4000, processes: 160, serverLimit: 320, minSpareThreads: 25, maxSpareThreads: 4000 });
    });
  });

  describe('gentoo with http.maxRequestWorkers: 30, the guide\'s "preferably 30" (N2)', () => {
    let site: MirrorSite;
    beforeAll(async () => {
      site = await serveExample('gentoo', { http: { ...exampleHttp('gentoo'), maxRequestWorkers: 30 } });
    });
    afterAll(() => site?.close());

    it('Apache runs at least 30 workers (no AH00513 "decreasing to 25")', async () => {
      expect(site.config.http.maxRequestWorkers).toBe(30);
      expect(site.apache.startOutput).not.toMatch(/AH00513|decreasing/);
      const { slots } = await mpmStatus(site, 50);
      expect(slots).toBeGreaterThanOrEqual(30);
    });
  });

  describe('gentoo with http.listings as a list (N7)', () => {
    let site: MirrorSite;
    const listings = ['/gentoo/experimental', '/gentoo/releases', '/gentoo/snapshots'];
    beforeAll(async () => {
      site = await serveExample('gentoo', { http: { listings } });
    });
    afterAll(() => site?.close());

    it('listed directories and project/trace have an index; others are 403 while their files are served', async () => {
      expect(site.config.http.listings).toEqual(listings);
      site.put('releases/README.txt', 'r\n');
      site.put('snapshots/portage-latest.tar.xz', 's\n');
      site.put(`project/trace/${site.config.hostname}`, '1800000000\n');
      const file = site.put('distfiles/5a/bash-5.2.tar.gz', 'd\n');
      const get = (url: string) => fetchRaw(site.apache.httpPort, url);
      for (const [dir, name] of [['/gentoo/releases/', 'README.txt'], ['/gentoo/snapshots/', 'portage-latest.tar.xz'], ['/gentoo/project/trace/', site.config.hostname]]) {
        const r = await get(dir);
        expect([dir, r.status]).toEqual([dir, 200]);
        expect([dir, r.body.toString().includes(`href="${name}"`)]).toEqual([dir, true]);
      }
      for (const dir of ['/gentoo/distfiles/', '/gentoo/distfiles/5a/', '/gentoo/']) expect([dir, (await get(dir)).status]).toEqual([dir, 403]);
      expect((await get(file)).status).toBe(200);
    });
  });

  describe('xcp-ng HTTPS-only (http.enabled: false)', () => {
    let site: MirrorSite;
    beforeAll(async () => {
      site = await serveExample('xcp-ng', { http: { ...exampleHttp('xcp-ng'), enabled: false } });
    });
    afterAll(() => site?.close());
    const get = (url: string) => fetchRaw(site.apache.httpPort, url);

    it('HTTP serves only the ACME challenge (200); everything else is a 301 to https://<hostname>', async () => {
      expect([site.config.http.enabled, site.config.https.enabled]).toEqual([false, true]);
      fs.writeFileSync(path.join(acmeWebroot(site.layout), '.well-known/acme-challenge/token'), 'token.key');
      const acme = await get('/.well-known/acme-challenge/token');
      expect([acme.status, acme.body.toString()]).toEqual([200, 'token.key']);
      expect((await get('/.well-known/acme-challenge/')).status).toBe(403);
      const url = site.put('8.3/base/x86_64/repodata/repomd.xml', 'm\n');
      const r = await get(url);
      expect([r.status, r.headers.location]).toEqual([301, `https://${site.config.hostname}${url}`]);
      expect(await connectResult(site.apache.httpsPort)).toBe('ECONNREFUSED');
    });

    describeWith(['openssl'], 'with a certificate', () => {
      it('once a certificate is in the lineage and Apache reloads (graceful), HTTPS serves the mirror', async () => {
        const live = certLive(site.layout);
        fs.mkdirSync(live, { recursive: true });
        const ossl = run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${site.config.hostname}`,
          '-keyout', path.join(live, 'privkey.pem'), '-out', path.join(live, 'fullchain.pem')]);
        expect(ossl.status).toBe(0);
        await site.apache.graceful();
        const url = site.put('8.3/base/x86_64/Packages/p-1.rpm', 'rpm\n');
        const r = run('curl', ['-sS', '-k', '-D', '-', `https://127.0.0.1:${site.apache.httpsPort}${url}`]);
        expect(r.stdout).toMatch(/^HTTP\/1\.1 200 /);
        expect(r.stdout).toMatch(/^Content-Type: application\/octet-stream\r$/m);
        expect(r.stdout.endsWith('\r\n\r\nrpm\n')).toBe(true);
        expect((await get(url)).status).toBe(301);
      });
    });
  });
});
