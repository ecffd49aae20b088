import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeWith } from '../support/tools';
import { ids, logCounts, show } from './mirrors';
import { BACKEND, BIN, GEOIP_DIR, World, configText, startWorld } from './world';

/*
 * mirrorbits' own behaviour that the reconciler is built on (reference/mirrorbits-behaviour.md),
 * held against the stand-in by default and the real binary with MIRRORBITS_BIN: if one of these
 * changes in a new mirrorbits, the reconciler's assumptions change with it.
 */
describeWith(['ip', 'redis-server', 'redis-cli', 'rsync', 'curl', 'python3'], `mirrorbits traps, on ${BACKEND}`, () => {
  jest.setTimeout(120_000);
  let w: World;
  let editor: string;
  beforeAll(async () => {
    w = await startWorld({ notify: true });
    // An EDITOR that writes what EDIT_WITH says into the file, replacing the lines of those keys
    editor = path.join(w.dir, 'set-editor');
    fs.writeFileSync(editor, '#!/usr/bin/python3\nimport os, re, sys\nt = open(sys.argv[1]).read()\nfor l in os.environ["EDIT_WITH"].split("\\n"):\n    t = re.sub("^" + l.split(":")[0] + ":.*$", l, t, count=1, flags=re.M)\nopen(sys.argv[1], "w").write(t)\n', { mode: 0o755 });
  });
  afterAll(async () => w && (await w.stop()));
  const edit = (name: string, lines: string) => w.ns.exec('env', [`EDITOR=${editor}`, `EDIT_WITH=${lines}`, BIN, '-h', '127.0.0.1', '-p', '3390', 'edit', name]);

  it('tells systemd it is ready (Type=notify)', () => {
    expect(fs.readFileSync(path.join(w.dir, 'notify.log'), 'utf8')).toMatch(/READY=1/);
  });

  it('stores a new mirror disabled; a second add of the name fails', () => {
    expect(w.cli('add', '-http', 'http://127.0.0.1/a/', 'alpha').status).toBe(0);
    expect(w.cli('list').stdout).toMatch(/^alpha\s+disabled\s/m);
    const again = w.cli('add', '-http', 'http://127.0.0.1/b/', 'alpha');
    expect(again.status).not.toBe(0);
    expect(`${again.stdout}${again.stderr}`).toMatch(/name already taken|already exists/);
  });

  it('edit: a file that comes back unchanged is "Aborted" and writes nothing', () => {
    const before = logCounts(w, ['alpha']);
    const r = w.ns.exec('env', ['EDITOR=/bin/true', BIN, '-h', '127.0.0.1', '-p', '3390', 'edit', 'alpha']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Aborted/);
    expect(logCounts(w, ['alpha'])).toEqual(before);
  });

  it('stores normal forms: codes upper-cased and space-separated, URLs with a trailing slash', () => {
    const r = edit('alpha', 'CountryCodes: fr,be\nContinentCode: eu\nHttpURL: http://127.0.0.1/a2\nRsyncURL: rsync://127.0.0.1/a2');
    expect(r.status).toBe(0);
    expect(show(w, 'alpha')).toMatchObject({ CountryCodes: 'FR BE', ContinentCode: 'EU', HttpURL: 'http://127.0.0.1/a2/', RsyncURL: 'rsync://127.0.0.1/a2/' });
    expect(w.redis('HGET', `MIRROR_${ids(w).alpha}`, 'httpsUp').trim()).toMatch(/^(0|false)$/); // an http:// URL cannot be up over https
  });

  it('edit rewrites every field, Enabled included, keeping the ID', () => {
    const id = ids(w).alpha;
    expect(edit('alpha', 'Enabled: true').status).toBe(0);
    expect(show(w, 'alpha').Enabled).toBe('true');
    expect(edit('alpha', 'Enabled: false').status).toBe(0);
    expect(ids(w).alpha).toBe(id);
  });

  it('invalid YAML with stdin closed: edit gives up without writing (exit 2)', () => {
    const before = logCounts(w, ['alpha']);
    const r = edit('alpha', 'Score: [not a number');
    expect(r.status).toBe(2);
    expect(logCounts(w, ['alpha'])).toEqual(before);
  });

  it('matches by case-insensitive substring: "ALP" finds alpha, a name inside another is ambiguous', () => {
    expect(w.cli('show', 'ALP').stdout).toMatch(/^Name: alpha$/m);
    expect(w.cli('add', '-http', 'http://127.0.0.1/c/', 'alpha2').status).toBe(0);
    const r = w.cli('enable', 'alpha');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Multiple match/);
  });

  it('remove without -f asks on stdin, and removes nothing when stdin is closed', () => {
    w.cli('remove', 'alpha2');
    expect(Object.keys(ids(w))).toContain('alpha2');
    expect(w.cli('remove', '-f', 'alpha2').status).toBe(0);
    expect(Object.keys(ids(w))).not.toContain('alpha2');
  });

  it('add fails while a GeoIP database is missing (the daemon runs on its fallbacks)', async () => {
    const empty = path.join(w.dir, 'no-geoip');
    fs.mkdirSync(empty);
    fs.writeFileSync(w.configFile, configText(w, 'Fallbacks:\n  - URL: https://master.example.org/\n').replace(GEOIP_DIR, empty));
    process.kill(Number(fs.readFileSync(w.pidFile, 'utf8')), 'SIGHUP');
    await new Promise((r) => setTimeout(r, 1500));
    const r = w.cli('add', '-http', 'http://127.0.0.1/d/', 'delta');
    expect(r.status).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/GeoIP database could not be loaded/);
  });

  it('will not start without GeoIP databases and without fallbacks, nor without a repository', () => {
    const conf = path.join(w.dir, 'bad.conf');
    const noGeo = configText(w).replace(GEOIP_DIR, path.join(w.dir, 'no-geoip')).replace('127.0.0.1:8080', '127.0.0.1:8081').replace('127.0.0.1:3390', '127.0.0.1:3391');
    for (const text of [noGeo, noGeo.replace(/^Repository: .*$/m, '').replace(path.join(w.dir, 'no-geoip'), GEOIP_DIR)]) {
      fs.writeFileSync(conf, text);
      const r = w.ns.exec('timeout', ['20', BIN, 'daemon', '-config', conf]);
      expect(r.status).not.toBe(0);
      expect(r.status).not.toBe(124); // it exits, it does not hang
    }
  });
});
