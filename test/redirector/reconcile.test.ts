import { describeWith } from '../support/tools';
import { desiredFile, fiveMirrors, ids, logCounts, scanState, show } from './mirrors';
import { BACKEND, GEO_MIRRORS, World, startWorld, waitForState } from './world';

/*
 * The reconciler (assets/mirrorfleet-reconcile) against mirrorbits: the stand-in by default, the
 * real binary when MIRRORBITS_BIN names one (npm run test:redirector:real). One scenario, in order:
 * each step starts from the state the previous one left, as successive deploys would.
 */
const GEO = GEO_MIRRORS.map((m) => m.name);
const names = (w: World) => Object.keys(ids(w)).sort();

describeWith(['ip', 'redis-server', 'redis-cli', 'rsync', 'curl', 'python3'], `mirrorfleet-reconcile against ${BACKEND}`, () => {
  jest.setTimeout(180_000);
  let w: World;
  let mirrors = fiveMirrors();
  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(async () => w && (await w.stop()));

  it('--dry-run prints the plan and writes nothing', () => {
    const r = w.reconcile(desiredFile(w, 'm0.json', mirrors), '--dry-run');
    expect(r.status).toBe(0);
    expect(r.stdout.match(/^plan: add /gm)).toHaveLength(5);
    expect(names(w)).toEqual([]);
  });

  it('applies five mirrors from scratch: added, set as listed, enabled, visible in list', async () => {
    const r = w.reconcile(desiredFile(w, 'm1.json', mirrors));
    expect(`${r.stdout}${r.stderr}`).toMatch(/done: 5 applied, 0 failed/);
    expect(r.status).toBe(2);
    expect(names(w)).toEqual(['mirror-fr', 'mirror-gb', 'mirror-jp', 'mirror-se', 'mirror-us']);
    expect(w.cli('list', '-disabled').stdout.trim().split('\n')).toHaveLength(1); // the header: none disabled
    // http and https at the same place become one scheme-less URL (mirrorbits serves and probes both)
    expect(show(w, 'mirror-fr')).toMatchObject({ HttpURL: '127.0.0.1/fr/', CountryCodes: 'FR BE', ContinentCode: 'EU', Comment: 'sponsored by a university', Enabled: 'true' });
    expect(show(w, 'mirror-jp')).toMatchObject({ HttpURL: 'https://127.0.0.1/jp/', RsyncURL: '', ASNum: '64496', Score: '20', CountryCodes: 'JP' });
    expect(show(w, 'mirror-gb')).toMatchObject({ HttpURL: 'http://81.2.69.143/gb/', RsyncURL: 'rsync://81.2.69.143/gb/', AdminEmail: 'mirror@example.org' });
    await waitForState(w, GEO, 'up'); // enabled, so mirrorbits scanned and checked them
  });

  it('a second apply writes nothing: no edit, no log entry, same IDs, scan state kept', () => {
    const before = { ids: ids(w), logs: logCounts(w, names(w)), scans: GEO.map((n) => scanState(w, n)) };
    expect(before.scans.every((s) => s.handled.includes('/xcp/8.3/install.iso'))).toBe(true);
    const r = w.reconcile(desiredFile(w, 'm2.json', mirrors));
    expect(r.stdout).toMatch(/nothing to do/);
    expect(r.stdout).not.toMatch(/^(plan|applied):/m);
    expect(r.status).toBe(0);
    expect({ ids: ids(w), logs: logCounts(w, names(w)), scans: GEO.map((n) => scanState(w, n)) }).toEqual(before);
  });

  it('a URL change is an edit and a scan request; the ID and the other mirrors stay', () => {
    const before = { ids: ids(w), logs: logCounts(w, names(w)) };
    mirrors = mirrors.map((m) => (m.name === 'mirror-gb' ? { ...m, http: 'http://81.2.69.143/gb2/', rsync: 'rsync://81.2.69.143/gb2/' } : m));
    const r = w.reconcile(desiredFile(w, 'm3.json', mirrors));
    expect(r.stdout).toMatch(/^plan: edit mirror-gb HttpURL, RsyncURL$/m);
    expect(r.stdout).toMatch(/^applied: scan mirror-gb/m);
    expect(r.status).toBe(2);
    expect(ids(w)).toEqual(before.ids);
    expect(show(w, 'mirror-gb')).toMatchObject({ HttpURL: 'http://81.2.69.143/gb2/', RsyncURL: 'rsync://81.2.69.143/gb2/' });
    const gbLog = w.cli('logs', 'mirror-gb').stdout;
    expect(gbLog.slice(gbLog.lastIndexOf('Mirror edited'))).toMatch(/Scan completed/);
    const after = logCounts(w, names(w));
    for (const n of names(w).filter((x) => x !== 'mirror-gb')) expect(after[n]).toBe(before.logs[n]);
    expect(w.reconcile(desiredFile(w, 'm3b.json', mirrors)).status).toBe(0);
  });

  it('disables what is disabled, with one disable and nothing else', () => {
    const before = logCounts(w, names(w));
    mirrors = mirrors.map((m) => (m.name === 'mirror-us' ? { ...m, enabled: false } : m));
    const r = w.reconcile(desiredFile(w, 'm4.json', mirrors));
    expect(r.stdout.match(/^plan: .*$/gm)).toEqual(['plan: disable mirror-us']);
    expect(r.status).toBe(2);
    expect(w.cli('list', '-disabled').stdout).toMatch(/^mirror-us\s/m);
    expect(logCounts(w, names(w))).toEqual({ ...before, 'mirror-us': before['mirror-us'] + 1 });
  });

  it('removes what is gone; IDs are never reused', () => {
    const before = ids(w);
    mirrors = mirrors.filter((m) => m.name !== 'mirror-jp');
    const r = w.reconcile(desiredFile(w, 'm5.json', mirrors));
    expect(r.stdout.match(/^plan: .*$/gm)).toEqual(['plan: remove mirror-jp']);
    expect(r.status).toBe(2);
    const { 'mirror-jp': gone, ...rest } = before;
    expect(ids(w)).toEqual(rest);
    mirrors = [...mirrors, { name: 'mirror-de', https: 'https://127.0.0.1/de/', countries: ['DE'], continent: 'EU' }];
    expect(w.reconcile(desiredFile(w, 'm5b.json', mirrors)).status).toBe(2);
    expect(Number(ids(w)['mirror-de'])).toBeGreaterThan(Math.max(...Object.values(before).map(Number)));
    expect(gone).toBeDefined();
  });

  it('matches names exactly: a hand-added name inside another one is removed, the other untouched', () => {
    // "gb" is contained in "mirror-gb" and "mirror-se" in "mirror-se-old": the CLI matches by substring
    const seLogs = logCounts(w, ['mirror-se']);
    expect(seLogs['mirror-se']).toBeGreaterThan(0);
    expect(w.cli('add', '-http', 'http://127.0.0.1/gb/', 'gb').status).toBe(0);
    expect(w.cli('add', '-http', 'http://127.0.0.1/old/', 'mirror-se-old').status).toBe(0);
    const trap = w.cli('enable', 'gb');
    expect(trap.status).not.toBe(0);
    expect(trap.stderr).toMatch(/Multiple match/);
    const before = { ids: ids(w), se: scanState(w, 'mirror-se'), gb: scanState(w, 'mirror-gb') };
    const r = w.reconcile(desiredFile(w, 'm6.json', mirrors));
    expect(`${r.stdout}${r.stderr}`).toMatch(/done: 2 applied, 0 failed/);
    expect(r.status).toBe(2);
    const { gb, 'mirror-se-old': old, ...kept } = before.ids;
    expect(gb && old).toBeTruthy();
    expect(ids(w)).toEqual(kept);
    expect(scanState(w, 'mirror-se')).toEqual(before.se);
    expect(scanState(w, 'mirror-gb')).toEqual(before.gb);
    expect(logCounts(w, ['mirror-se'])).toEqual(seLogs); // mirror-se-old went first: no step aside needed
    expect(w.reconcile(desiredFile(w, 'm6b.json', mirrors)).status).toBe(0);
  });

  it('works around a URL with a port: added without it, then edited', () => {
    const trap = w.cli('add', '-http', 'http://127.0.0.1:8081/p/', 'direct-with-port');
    expect(trap.status).not.toBe(0);
    expect(`${trap.stdout}${trap.stderr}`).toMatch(/no such host/);
    mirrors = [...mirrors, { name: 'mirror-port', http: 'http://127.0.0.1:8081/p/', countries: ['FR'], continent: 'EU' }];
    const r = w.reconcile(desiredFile(w, 'm7.json', mirrors));
    expect(r.status).toBe(2);
    expect(show(w, 'mirror-port')).toMatchObject({ HttpURL: 'http://127.0.0.1:8081/p/', Enabled: 'true' });
    expect(w.reconcile(desiredFile(w, 'm7b.json', mirrors)).status).toBe(0);
  });
});
