import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';
import { buildStandinTarball } from './standin/artifact';
import { RECONCILER, STANDIN } from './world';

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
