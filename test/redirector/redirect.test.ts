import * as fs from 'node:fs';
import { describeWith } from '../support/tools';
import { desiredFile } from './mirrors';
import { BACKEND, GEO_MIRRORS, World, startWorld, waitForState } from './world';

/*
 * What the redirector relies on from mirrorbits, asked over HTTP as nginx will ask it: a 302 to
 * the mirror GeoIP places nearest, with the traps of mirrorbits-behaviour.md. The stand-in by
 * default, the real binary with MIRRORBITS_BIN. Clients are placed by X-Forwarded-For (mirrorbits
 * trusts its left-most entry; nginx in front replaces the header, proven in its own test).
 */
const url = (module: string, file: string) => `http://${GEO_MIRRORS.find((m) => m.module === module)!.ip}/${module}/${file}`;
const GB = '81.2.69.142';
const SE = '89.160.20.112';
const US = '216.160.83.56';
const FR6 = '2a02:cfc0::1';
const ISO = 'xcp/8.3/install.iso';

describeWith(['ip', 'redis-server', 'redis-cli', 'rsync', 'curl', 'python3'], `redirects by ${BACKEND}`, () => {
  jest.setTimeout(180_000);
  let w: World;
  const from = (ip: string, file = ISO, headers: Record<string, string> = {}) => w.request(`/${file}`, { 'X-Forwarded-For': ip, ...headers });
  beforeAll(async () => {
    w = await startWorld();
    const mirrors = GEO_MIRRORS.map((m) => ({ name: m.name, http: url(m.module, ''), rsync: `rsync://${m.ip}/${m.module}/`, countries: [m.country], continent: m.continent }));
    const r = w.reconcile(desiredFile(w, 'mirrors.json', mirrors));
    if (r.status !== 2) throw new Error(`reconcile: ${r.stdout}${r.stderr}`);
    await waitForState(w, GEO_MIRRORS.map((m) => m.name), 'up');
  });
  afterAll(async () => w && (await w.stop()));

  it.each([
    ['GB', GB, 'gb'],
    ['SE', SE, 'se'],
    ['US', US, 'us'],
    ['FR over IPv6 (nearest: London)', FR6, 'gb'],
  ])('a client in %s (%s) is sent to the %s mirror', (_, ip, module) => {
    for (let i = 0; i < 3; i++) {
      const r = from(ip);
      expect(r.status).toBe(302);
      expect(r.headers.location).toBe(url(module, ISO));
    }
  });

  it('names the other mirrors as Link alternatives', () => {
    const r = from(GB);
    expect(r.headers.link).toMatch(/rel=duplicate/);
    expect(r.headers.link).toContain(url('se', ISO));
  });

  it('trusts the left-most X-Forwarded-For entry (why nginx must replace the header)', () => {
    expect(from(`${SE}, ${GB}`).headers.location).toBe(url('se', ISO));
  });

  it('an address GeoIP does not know gets one of the mirrors', () => {
    const all = GEO_MIRRORS.map((m) => url(m.module, ISO));
    for (let i = 0; i < 6; i++) {
      const r = w.request(`/${ISO}`);
      expect(r.status).toBe(302);
      expect(all).toContain(r.headers.location);
    }
  });

  it('leaves out, for that file only, a mirror whose copy has another mtime', () => {
    expect(from(SE, 'xcp/8.3/stale.rpm').headers.location).toBe(url('gb', 'xcp/8.3/stale.rpm'));
    expect(from(SE, 'xcp/8.3/repodata/repomd.xml').headers.location).toBe(url('se', 'xcp/8.3/repodata/repomd.xml'));
  });

  it('answers 404 for a path the local repository lacks, before any mirror is considered', () => {
    expect(from(GB, 'xcp/8.3/missing.iso').status).toBe(404);
    expect(from(GB, '../../etc/passwd').status).toBe(404);
  });

  it('a disabled mirror is not chosen; enabling it brings it back', async () => {
    expect(w.cli('disable', 'mirror-se').status).toBe(0);
    expect(from(SE).headers.location).toBe(url('gb', ISO));
    expect(w.cli('enable', 'mirror-se').status).toBe(0);
    await waitForState(w, ['mirror-se'], 'up');
    expect(from(SE).headers.location).toBe(url('se', ISO));
  });

  it('renders ?mirrorlist (fromip chooses the address) and ?mirrorstats', () => {
    const list = w.request(`/${ISO}?mirrorlist&fromip=${SE}`, {}, 'GET');
    expect(list.status).toBe(200);
    expect(list.headers['content-type']).toMatch(/text\/html/);
    expect(list.body).toContain(url('se', ''));
    const stats = w.request('/?mirrorstats', {}, 'GET');
    expect(stats.status).toBe(200);
    expect(stats.headers['content-type']).toMatch(/text\/html/);
  });

  it('with no mirror for a file and no fallback: 503; HTTPS clients get no HTTP-only mirror', () => {
    expect(from(GB, 'only-here.iso').status).toBe(503);
    expect(from(GB, ISO, { 'X-Forwarded-Proto': 'https' }).status).toBe(503);
  });

  it('after SIGHUP with Fallbacks in the config: the fallback, in the scheme the client asked for', async () => {
    w.writeConfig('Fallbacks:\n  - URL: master.example.org/xcp-ng/\n    CountryCode: FR\n    ContinentCode: EU');
    const pid = Number(fs.readFileSync(w.pidFile, 'utf8').trim());
    process.kill(pid, 'SIGHUP');
    const deadline = Date.now() + 15_000;
    while (from(GB, 'only-here.iso').status !== 302 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(from(GB, 'only-here.iso').headers.location).toBe('https://master.example.org/xcp-ng/only-here.iso');
    expect(from(GB, ISO, { 'X-Forwarded-Proto': 'https' }).headers.location).toBe(`https://master.example.org/xcp-ng/${ISO}`);
    expect(w.request('/only-here.iso?https=0').headers.location).toBe('http://master.example.org/xcp-ng/only-here.iso');
    expect(from(GB).headers.location).toBe(url('gb', ISO)); // mirrors still come first
  });

  it('SIGTERM stops the daemon and removes its pid file', async () => {
    const pid = Number(fs.readFileSync(w.pidFile, 'utf8').trim());
    const exited = new Promise<number | null>((resolve) => w.daemon.once('exit', (code) => resolve(code)));
    process.kill(pid, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(fs.existsSync(w.pidFile)).toBe(false);
  });
});
