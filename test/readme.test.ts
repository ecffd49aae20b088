import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkAws } from '../lib/config/aws';
import { DEFAULTS } from '../lib/config/defaults';
import { checkHcloud } from '../lib/config/hcloud';
import { parseConfig } from '../lib/config/load';
import { PRESETS } from '../lib/presets';
import { loadProjectFile, onMaster, onRedirector } from '../lib/project/project';
import { REPO, tmpDir } from './support/fixtures';

const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
const defaultOf = (key: string) => {
  const row = readme.split('\n').find((l) => l.startsWith(`| \`${key}\``));
  if (!row) throw new Error(`README has no defaults row for ${key}`);
  return row.split('|')[2].trim();
};

describe('README stays true', () => {
  it('gives the two set-up commands, each in its own code block', () => {
    const blocks = [...readme.matchAll(/```sh\n([^`]+)```/g)].map((m) => m[1].trim());
    expect(blocks).toContain('npm install --no-audit --no-fund && npx cdk synth');
    expect(blocks).toContain('bash scripts/install-test-deps && npm install --no-audit --no-fund && npm test && npm run test:boot');
  });

  it.each([
    ['timezone', `\`${DEFAULTS.timezone}\``],
    ['site.coordinates', `\`${DEFAULTS.coordinates}\``],
    ['http.enabled', `\`${DEFAULTS.httpEnabled}\``],
    ['http.maxRequestWorkers', `\`${DEFAULTS.maxRequestWorkers}\``],
    ['http.refuseIsoRanges', `\`${DEFAULTS.refuseIsoRanges}\``],
    ['http.listings', `\`${DEFAULTS.listings}\``],
    ['https.enabled', `\`${DEFAULTS.httpsEnabled}\``],
    ['rsync.enabled', `\`${DEFAULTS.rsyncEnabled}\``],
    ['rsync.maxConnections', `\`${DEFAULTS.rsyncMaxConnections}\``],
    ['rsync.private.port', `\`${DEFAULTS.privateRsyncPort}\``],
    ['tls.preferredChain', `\`${DEFAULTS.preferredChain}\``],
    ['tls.acmeServer', `\`${DEFAULTS.acmeServer}\``],
    ['storage.sizeGiB', `\`${DEFAULTS.storageSizeGiB}\``],
    ['storage.plannedYears', `\`${DEFAULTS.plannedYears}\``],
    ['storage.filesystem', `\`${DEFAULTS.filesystem}\``],
    ['storage.mountPoint', `\`${DEFAULTS.mountPoint}\``],
    ['storage.device', `\`${DEFAULTS.device}\``],
    ['reports.trace', `\`${DEFAULTS.trace}\``],
    ['reports.reportMirror.server', `\`${DEFAULTS.mirrorManagerServer}\``],
    ['reports.reportMirror.passwordFile', `\`${DEFAULTS.mirrorManagerPasswordFile}\``],
  ])('the defaults table gives %s as %s', (key, expected) => {
    expect(defaultOf(key)).toBe(expected);
  });

  const configs = [...readme.matchAll(/```yaml\n(preset:[^`]+)```/g)].map((m) => m[1]).filter((c) => !/^mirrors:/m.test(c));

  it.each(['README.md', 'docs/redirector.md'])('%s: the redirector block shown is valid with the example project', (file) => {
    const text = fs.readFileSync(path.join(REPO, file), 'utf8');
    const block = [...text.matchAll(/```yaml\n(redirector:\n[^`]+)```/g)].map((m) => m[1])[0];
    const dir = tmpDir('readme-redirector');
    const project = fs.readFileSync(path.join(REPO, 'examples', 'project.yaml'), 'utf8').replace(/\n# The central redirector[\s\S]*$/, '\n');
    fs.writeFileSync(path.join(dir, 'project.yaml'), `${project}${block}`);
    fs.copyFileSync(path.join(REPO, 'examples', 'mirrors.yaml'), path.join(dir, 'mirrors.yaml'));
    try {
      expect(loadProjectFile(path.join(dir, 'project.yaml'), [onRedirector(checkAws)]).redirector!.node.hostname).toBe('download.example.org');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it('shows a minimal and a custom-tree config', () => expect(configs.map((c) => /^preset: (\S+)/.exec(c)![1])).toEqual(['xcp-ng', 'custom']));

  it.each(['README.md', 'docs/master.md'])('%s: the project.yaml shown is valid as written, with the mirrors.yaml shown (or the example)', (file) => {
    const text = fs.readFileSync(path.join(REPO, file), 'utf8');
    const project = [...text.matchAll(/```yaml\n(preset:[^`]+)```/g)].map((m) => m[1]).find((c) => /^mirrors:/m.test(c))!;
    const mirrors = [...text.matchAll(/```yaml\n(mirrors:\n[^`]+)```/g)].map((m) => m[1])[0] ?? fs.readFileSync(path.join(REPO, 'examples', 'mirrors.yaml'), 'utf8');
    const dir = tmpDir('readme-project');
    fs.writeFileSync(path.join(dir, 'project.yaml'), project);
    fs.writeFileSync(path.join(dir, 'mirrors.yaml'), mirrors);
    try {
      expect(loadProjectFile(path.join(dir, 'project.yaml'), [onMaster(checkAws), onMaster(checkHcloud)]).master.node.hostname).toBe('master.example.org');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it.each(configs.map((c, i) => [i + 1, c]))('config example %d is valid as written, for AWS and for Hetzner', (_i, text) => {
    expect(() => parseConfig(text as string, 'README.md', [checkAws, checkHcloud])).not.toThrow();
  });

  it.each(['README.md', ...fs.readdirSync(path.join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)])(
    '%s links only to files that exist',
    (file) => {
      const text = fs.readFileSync(path.join(REPO, file), 'utf8');
      const targets = [...text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/.test(t));
      if (file === 'README.md') expect(targets.length).toBeGreaterThan(5);
      expect(targets.filter((t) => !fs.existsSync(path.join(REPO, path.dirname(file), t)))).toEqual([]);
    },
  );

  it('the presets table names every preset with its schedule and bandwidth minimum', () => {
    const header = readme.split('\n').find((l) => l.startsWith('| | xcp-ng'))!;
    expect(header.split('|').map((s) => s.trim()).filter(Boolean)).toEqual(Object.keys(PRESETS));
    const row = (name: string) => readme.split('\n').find((l) => l.startsWith(`| ${name} |`))!.split('|').slice(2, -1).map((s) => s.trim());
    expect(row('Minimum bandwidth')).toEqual(Object.values(PRESETS).map((p) => `${p.minimumBandwidthMbps.mbps} Mbit/s`));
    expect(row('Per-IP connection cap')).toEqual(Object.values(PRESETS).map((p) => (p.perIpConnectionLimit ? String(p.perIpConnectionLimit) : 'off')));
  });
});
