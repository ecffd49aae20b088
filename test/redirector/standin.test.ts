import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';
import { buildStandinTarball } from './standin/artifact';
import { GEOIP_DIR, RECONCILER, STANDIN } from './world';

/*
 * What runs on a Debian 12 host as is: the reconciler (an asset) and the stand-in (what the boot
 * proof installs) use Python's standard library only, under Debian's /usr/bin/python3 in isolated
 * mode; the stand-in ships as a reproducible tarball laid out like mirrorbits' release tarball.
 */
const PY_FILES = [RECONCILER, STANDIN, ...fs.readdirSync(path.join(path.dirname(STANDIN), 'mbstandin')).filter((f) => f.endsWith('.py')).map((f) => path.join(path.dirname(STANDIN), 'mbstandin', f))];

/** Every module each file imports that is neither in the standard library nor the stand-in's own. */
const FOREIGN_IMPORTS = `
import ast, sys
bad = []
for path in sys.argv[1:]:
    for node in ast.walk(ast.parse(open(path).read(), path)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ''] if isinstance(node, ast.ImportFrom) and not node.level else []
        bad += [f'{path}: {n}' for n in names if n.split('.')[0] not in sys.stdlib_module_names and n.split('.')[0] != 'mbstandin']
print('\\n'.join(bad))
`;

describeWith(['python3', 'tar', 'gzip'], 'the reconciler and the stand-in on a plain Debian 12 host', () => {
  const dir = tmpDir('standin');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('run under /usr/bin/python3 -I (their shebang) and import the standard library only', () => {
    for (const f of [RECONCILER, STANDIN]) expect(fs.readFileSync(f, 'utf8').split('\n')[0]).toBe('#!/usr/bin/python3 -I');
    const r = run('/usr/bin/python3', ['-I', '-c', FOREIGN_IMPORTS, ...PY_FILES]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('');
    expect(PY_FILES.length).toBeGreaterThan(10);
  });

  it('the check finds a foreign import (it can fail)', () => {
    const bad = path.join(dir, 'bad.py');
    fs.writeFileSync(bad, 'import json\nimport yaml\nfrom grpc import insecure_channel\n');
    expect(run('/usr/bin/python3', ['-I', '-c', FOREIGN_IMPORTS, bad]).stdout.trim().split('\n')).toEqual([`${bad}: yaml`, `${bad}: grpc`]);
  });

  it('reads the example redirector\'s rendered mirrorbits.conf: every key known, typed as mirrorbits types it', () => {
    const conf = path.join(REPO, 'test', 'golden', 'project-redirector', 'etc', 'mirrorbits.conf');
    const load = 'import json, sys; sys.path.insert(0, sys.argv[1]); from mbstandin.daemon import load_config; print(json.dumps(load_config(sys.argv[2])))';
    const r = run('/usr/bin/python3', ['-I', '-c', load, path.dirname(STANDIN), conf]);
    expect(r.stderr).toBe(''); // no key the stand-in would ignore
    const c = JSON.parse(r.stdout);
    expect(c).toMatchObject({ ListenAddress: '127.0.0.1:8080', RPCListenAddress: '127.0.0.1:3390', OutputMode: 'auto', DisallowRedirects: true, Hashes: { SHA256: true } });
    expect(c.Fallbacks[0].URL).toMatch(/^https:\/\/.+\/$/);
    expect(typeof c.ScanInterval).toBe('number');
  });

  it('packs like mirrorbits\' release tarball, reproducibly, and runs from where it is unpacked', () => {
    const a = buildStandinTarball(path.join(dir, 'a.tar.gz'));
    const b = buildStandinTarball(path.join(dir, 'b.tar.gz'));
    expect(a.sha256).toBe(b.sha256);
    const listing = run('tar', ['-tzf', a.file]).stdout.trim().split('\n');
    expect(listing).toEqual(expect.arrayContaining(['mirrorbits/mirrorbits', 'mirrorbits/mirrorbits.conf', 'mirrorbits/templates/mirrorlist.html', 'mirrorbits/mbstandin/daemon.py']));
    expect(listing.some((l) => l.includes('__pycache__'))).toBe(false);
    const unpacked = path.join(dir, 'opt');
    fs.mkdirSync(unpacked);
    expect(run('tar', ['-xzf', a.file, '-C', unpacked]).status).toBe(0);
    fs.chmodSync(path.join(unpacked, 'mirrorbits'), 0o555); // read-only, as an installed artifact
    const r = run(path.join(unpacked, 'mirrorbits', 'mirrorbits'), ['-h', '127.0.0.1', '-p', '9', 'list']);
    expect(r.status).toBe(1); // no daemon there: the CLI's own error, not a Python one
    expect(r.stderr).toMatch(/rpc error: code = Unavailable/);
    expect(fs.readdirSync(path.join(unpacked, 'mirrorbits'))).not.toContain('__pycache__');
  });
});

describeWith(['python3', 'mmdblookup'], 'the stand-in\'s GeoIP reader against libmaxminddb', () => {
  // mmdblookup (Debian's mmdb-bin, MaxMind's C library) as the reference for the stand-in's reader
  const lookup = (db: string, ip: string, ...keys: string[]) => {
    const r = run('mmdblookup', ['--file', path.join(GEOIP_DIR, db), '--ip', ip, ...keys]);
    const m = /^\s*"?([^"<]*?)"? <\w+>\s*$/m.exec(r.stdout);
    return m ? m[1] : '';
  };
  const RECORD = 'import json, sys; sys.path.insert(0, sys.argv[1]); from mbstandin.mmdb import GeoIP; print(json.dumps([GeoIP(sys.argv[2]).record(ip) for ip in sys.argv[3:]]))';
  const ips = ['81.2.69.142', '81.2.69.143', '2.125.160.217', '89.160.20.113', '216.160.83.57', '175.16.199.7', '2001:218::1', '2a02:cfc0::9', '2a02:d180::1', '1.0.0.1', '12.81.92.9', '127.0.0.1', '10.1.2.3'];

  it.each(ips.map((ip, i) => [ip, i]))('%s: country, continent, position and AS as mmdblookup reads them', (ip, i) => {
    const rec = JSON.parse(run('/usr/bin/python3', ['-I', '-c', RECORD, path.dirname(STANDIN), GEOIP_DIR, ...ips]).stdout)[i as number];
    expect(rec.country).toBe(lookup('GeoLite2-City.mmdb', ip as string, 'country', 'iso_code'));
    expect(rec.continent).toBe(lookup('GeoLite2-City.mmdb', ip as string, 'continent', 'code'));
    expect(rec.lat).toBeCloseTo(Number(lookup('GeoLite2-City.mmdb', ip as string, 'location', 'latitude') || 0), 4);
    expect(rec.lon).toBeCloseTo(Number(lookup('GeoLite2-City.mmdb', ip as string, 'location', 'longitude') || 0), 4);
    expect(rec.asnum).toBe(Number(lookup('GeoLite2-ASN.mmdb', ip as string, 'autonomous_system_number') || 0));
  });

  it('finds the places the contract suite relies on', () => {
    const recs = JSON.parse(run('/usr/bin/python3', ['-I', '-c', RECORD, path.dirname(STANDIN), GEOIP_DIR, '81.2.69.143', '89.160.20.113', '216.160.83.57', '127.0.0.1']).stdout);
    expect(recs.map((r: { country: string }) => r.country)).toEqual(['GB', 'SE', 'US', '']);
  });
});
