import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseMirrorList } from '../../lib/project/mirrors';
import { renderDesiredMirrors } from '../../lib/roles/redirector/desired-mirrors';
import { REPO, tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';
import { RECONCILER } from './world';

/*
 * The reconciler on its own: what it refuses before it asks mirrorbits anything, and its EDITOR
 * mode on a file as `mirrorbits edit` writes it (Go's yaml.v3 output, quoting included).
 */
const EDITED = `# You can now edit this mirror configuration.
# Just save and quit when you're done.

Name: mirror-fr
HttpURL: mirror.example.org/xcp-ng/
RsyncURL: rsync://mirror.example.org/xcp-ng/
FtpURL: ""
SponsorName: 'O''Brien: hosting'
SponsorURL: ""
SponsorLogoURL: ""
AdminName: Mirror Team of a university whose name is long enough for yaml.v3 to fold it onto a
    second line
AdminEmail: mirror@example.org
CustomData: |-
    {"a": 1}
    second line
ContinentOnly: false
CountryOnly: false
ASOnly: false
Score: 0
Latitude: 48.8566
Longitude: 2.3522
ContinentCode: EU
CountryCodes: FR BE
ExcludedCountryCodes: ""
ASNum: 64496
Enabled: true
AllowRedirects: null

##### Comments go below this line #####

hosted by a university
`;

const WANT = {
  Name: 'mirror-fr', HttpURL: 'mirror.example.org/xcp-ng/', RsyncURL: 'rsync://mirror.example.org/xcp-ng/', SponsorName: "O'Brien: hosting",
  SponsorURL: '', AdminName: 'Mirror Team of a university whose name is long enough for yaml.v3 to fold it onto a second line', AdminEmail: 'mirror@example.org', CountryCodes: 'FR BE', ContinentCode: 'EU',
  CountryOnly: false, ASOnly: false, Score: 0, ASNum: 64496,
};

describeWith(['python3'], 'mirrorfleet-reconcile on its own', () => {
  const dir = tmpDir('reconcile-input');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const reconcile = (file: string) => run(RECONCILER, [file], { env: { ...process.env, MIRRORBITS_BIN: '/bin/false' } });
  const editor = (file: string, spec: object) => {
    const report = path.join(dir, 'report.json');
    const r = run(RECONCILER, [file], { env: { ...process.env, MIRRORFLEET_RECONCILE_EDIT: JSON.stringify({ report, ...spec }) } });
    return { ...r, report: fs.existsSync(report) ? JSON.parse(fs.readFileSync(report, 'utf8')) : undefined };
  };

  it('reports every problem of the desired list at once, each at its file:line, and touches nothing', () => {
    const good = JSON.parse(renderDesiredMirrors(parseMirrorList('mirrors:\n  - { name: ok, admin: { name: A, email: a@example.org }, http: "http://ok.example.org/", countries: [FR], continent: EU }\n')));
    const bad = { ...good.mirrors[0], name: 'has space', countries: [], https: 'ftp://x', score: 'high' };
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, mirrors: [good.mirrors[0], bad] }, null, 1));
    const r = reconcile(file);
    expect(r.status).toBe(1);
    const line = fs.readFileSync(file, 'utf8').split('\n').map((l, i) => [l, i + 1] as const).filter(([l]) => l === '  {')[1][1];
    for (const field of ['name', 'countries', 'https', 'score']) expect(r.stderr).toContain(`${file}:${line}: mirrors[1].${field}:`);
    expect(r.stderr).toMatch(/"has space": a non-empty name without spaces/);
    expect(r.stdout).not.toMatch(/plan:/);
  });

  it('accepts the example redirector\'s mirrors.json as the role renders it (then asks mirrorbits)', () => {
    const r = reconcile(path.join(REPO, 'test', 'golden', 'project-redirector', 'etc', 'mirrorfleet', 'redirector', 'mirrors.json'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^mirrorfleet-reconcile: failed: mirrorbits list -state=false: exit 1/);
  });

  it('writes its lines in the order it does things when stdout and stderr share one file (the journal): the plan, then each failure', () => {
    // A mirrorbits whose list is empty and whose add fails (as without GeoIP databases).
    const bin = path.join(dir, 'mirrorbits-add-fails');
    fs.writeFileSync(bin, '#!/bin/sh\ncase " $* " in\n  *" list "*) printf \'Identifier \\n\' ;;\n  *) echo "add error: One or more GeoIP database could not be loaded" >&2; exit 1 ;;\nesac\n', { mode: 0o755 });
    const out = path.join(dir, 'journal.txt');
    const r = run('sh', ['-c', `"$0" "$1" >"$2" 2>&1`, RECONCILER, path.join(REPO, 'test', 'golden', 'project-redirector', 'etc', 'mirrorfleet', 'redirector', 'mirrors.json'), out], { env: { ...process.env, MIRRORBITS_BIN: bin } });
    expect(r.status).toBe(1);
    const lines = fs.readFileSync(out, 'utf8').split('\n').filter(Boolean);
    const kinds = lines.map((l) => /^(mirrorfleet-reconcile|plan|failed|done)\b/.exec(l)?.[1]);
    expect(kinds.filter((k, i) => k !== kinds[i - 1])).toEqual(['mirrorfleet-reconcile', 'plan', 'failed', 'done']);
  });

  it('refuses names mirrorbits could not tell apart (one inside another, any case), and non-JSON with its line', () => {
    const file = path.join(dir, 'names.json');
    const m = (name: string) => ({ name, admin: { name: 'A', email: 'a@example.org' }, http: 'http://x.example.org/', countries: ['FR'], continent: 'EU' });
    fs.writeFileSync(file, JSON.stringify({ version: 1, mirrors: [m('mirror-se'), m('Mirror-SE2')] }, null, 1));
    expect(reconcile(file).stderr).toMatch(/mirrors\[0\]\.name: "mirror-se": a name no other mirror's contains: mirrors\[1\] is "Mirror-SE2"/);
    fs.writeFileSync(file, '{"version": 1,\n "mirrors": [\n  {"name": }\n]}\n');
    const r = reconcile(file);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}:3: not JSON`);
  });

  it('as EDITOR: leaves a file with nothing to change byte for byte (mirrorbits then writes nothing)', () => {
    const file = path.join(dir, 'same.yaml');
    fs.writeFileSync(file, EDITED);
    const r = editor(file, { name: 'mirror-fr', set: WANT, comment: 'hosted by a university' });
    expect(r.status).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(EDITED);
    expect(r.report).toEqual([]);
  });

  it('as EDITOR: rewrites only the lines of the fields that differ, and the comment', () => {
    const file = path.join(dir, 'changed.yaml');
    fs.writeFileSync(file, EDITED);
    const r = editor(file, { name: 'mirror-fr', set: { ...WANT, CountryCodes: 'FR', SponsorName: 'Tab\there "quoted"', Score: -5 }, comment: 'new comment' });
    expect(r.status).toBe(0);
    expect(r.report).toEqual(['Comment', 'CountryCodes', 'Score', 'SponsorName']);
    const out = fs.readFileSync(file, 'utf8');
    const diff = out.split('\n').filter((l) => !EDITED.split('\n').includes(l));
    expect(diff).toEqual(['SponsorName: "Tab\there \\"quoted\\""', 'Score: -5', 'CountryCodes: "FR"', 'new comment']);
    expect(out).toContain('CustomData: |-\n    {"a": 1}\n    second line\n'); // not ours: untouched
  });

  it('as EDITOR: refuses a file that is not the mirror it was asked to edit', () => {
    const file = path.join(dir, 'other.yaml');
    fs.writeFileSync(file, EDITED);
    const r = editor(file, { name: 'mirror-f', set: { ...WANT, Name: 'mirror-f', Score: 3 }, comment: '' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not mirror mirror-f/);
    expect(fs.readFileSync(file, 'utf8')).toBe(EDITED);
  });
});
