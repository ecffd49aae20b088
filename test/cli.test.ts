import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMANDS, main } from '../bin/cli';
import { NODE_LAYOUT } from '../lib/render/layout';
import { mirrorNodeFiles, renderNodeUserData } from '../lib/roles/mirror-node/role';
import { exampleConfig, tmpDir } from './support/fixtures';
import { run } from './support/tools';

function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

describe('mirrorfleet CLI', () => {
  it('validate: a valid config exits 0 and names the node', () => {
    const r = cli('validate', '--config', 'examples/gentoo.yaml');
    expect(r.code).toBe(0);
    expect(r.out).toBe('examples/gentoo.yaml: valid gentoo mirror node gentoo.mirror.example.org; checked with the rules of AWS and Hetzner Cloud\n');
    // 1000 Mbit/s served all month would cost about $19,000 of AWS egress (lib/cost/warnings.ts).
    expect(r.err).toMatch(/^warning: bandwidthMbps 1000: serving that rate all month moves 299 TB; on AWS us-east-1 /);
  });

  describe('validate runs the rules of the cloud the config is for, and says which', () => {
    const dir = tmpDir('cli-clouds');
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const base = 'preset: xcp-ng\nhostname: mirror.example.org\nadmin: { name: A, email: a@example.org }\nsite: { city: Paris, country: FR }\nbandwidthMbps: 1000\n';
    const write = (name: string, text: string) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, text);
      return f;
    };
    const hetzner = write('hetzner.yaml', `${base}hcloud: { location: fsn2, serverType: cpx11 }\n`);
    const aws = write('aws.yaml', `${base}aws: { instanceType: m7g.lrge }\n`);
    const neither = write('neither.yaml', base.replace('bandwidthMbps: 1000', 'bandwidthMbps: 9000'));
    const lines = (err: string) => err.split('\n').filter((l) => /:\d+:\d+ /.test(l)).map((l) => l.replace(/^.*?:\d+:\d+ (\S+):.*$/, '$1'));

    it('a Hetzner config: the Hetzner rules', () => {
      const r = cli('validate', '--config', hetzner);
      expect(r.code).toBe(1);
      expect(lines(r.err)).toEqual(['hcloud.location', 'hcloud.serverType']);
      expect(r.err).toMatch(/\n\(checked with the rules of Hetzner Cloud\)\n$/);
    });

    it('an AWS config: the AWS rules', () => {
      const r = cli('validate', '--config', aws);
      expect(lines(r.err)).toEqual(['aws.instanceType']);
      expect(r.err).toMatch(/\n\(checked with the rules of AWS\)\n$/);
    });

    it('a config for neither cloud: both clouds\' rules', () => {
      const r = cli('validate', '--config', neither);
      expect(r.err).toContain(`${neither}:5:16 bandwidthMbps: 9000 — at most 5000 on AWS`);
      expect(r.err).toContain(`${neither}:5:16 bandwidthMbps: 9000 — at most 8000 for an automatic Hetzner server type`);
      expect(r.err).toMatch(/\n\(checked with the rules of AWS and Hetzner Cloud\)\n$/);
    });

    it('--cloud chooses: aws, hcloud or all', () => {
      const r = cli('validate', '--config', hetzner, '--cloud', 'aws');
      expect([r.code, r.out]).toEqual([0, `${hetzner}: valid xcp-ng mirror node mirror.example.org; checked with the rules of AWS\n`]);
      expect(lines(cli('validate', '--config', aws, '--cloud', 'hcloud').err)).toEqual([]);
      expect(lines(cli('validate', '--config', aws, '--cloud', 'all').err)).toEqual(['aws.instanceType']);
      expect(cli('validate', '--config', aws, '--cloud', 'hetzner').err).toMatch(/^mirrorfleet: --cloud is one of aws, hcloud, all, not "hetzner"\n/);
    });
  });

  it('validate: a bad config exits 1 and lists every problem on stderr', () => {
    const r = cli('validate', '--config', 'test/config/bad/xcp-ng-prerequisites.yaml');
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.split('\n').filter((l) => /^test\/config\/bad\/xcp-ng-prerequisites\.yaml:\d+:\d+ /.test(l))).toHaveLength(5);
  });

  it('render: writes every node file at its install path and the user data', () => {
    const out = tmpDir('cli');
    const r = cli('render', '--config', 'examples/fedora.yaml', '--out', out);
    expect(r.code).toBe(0);
    const config = exampleConfig('fedora');
    for (const f of mirrorNodeFiles(config, NODE_LAYOUT)) {
      const written = path.join(out, f.path);
      expect(fs.readFileSync(written, 'utf8')).toBe(f.content);
      expect((fs.statSync(written).mode & 0o777).toString(8)).toBe(f.mode.replace(/^0/, ''));
    }
    expect(fs.readFileSync(path.join(out, 'user-data.yaml'), 'utf8')).toBe(renderNodeUserData(config));
    expect(fs.existsSync(path.join(out, 'etc/apache2/sites-available/mirrorfleet.conf'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'etc/rsyncd.conf'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'etc/systemd/system/mirrorfleet-sync-fedora.timer'))).toBe(true);
    fs.rmSync(out, { recursive: true, force: true });
  });

  it.each([
    [['--help']],
    [['-h']],
    [['validate', '--help']],
    [['render', '--config', 'x', '-h']],
  ])('%j prints the usage on stdout and exits 0', (argv) => {
    const r = cli(...argv);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^usage: mirrorfleet /);
  });

  it('--version prints the package version and exits 0', () => {
    const { version } = JSON.parse(fs.readFileSync('package.json', 'utf8'));
    expect(cli('--version')).toEqual({ code: 0, out: `mirrorfleet ${version}\n`, err: '' });
  });

  it('the usage lists every command of the table with its options', () => {
    const r = cli('--help');
    for (const c of COMMANDS) {
      expect(r.out).toContain(`  ${c.name} `);
      for (const k of Object.keys(c.options)) expect(r.out).toMatch(new RegExp(`^  ${c.name} .*--${k}`, 'm'));
    }
  });

  it.each([
    [[], /no command given/],
    [['--verbose'], /unknown option --verbose: give a command first/],
    [['validate', '--config', 'examples/xcp-ng.yaml', '--verbose'], /unknown option --verbose for validate/],
    [['validate', '--verbose', '--config', 'examples/xcp-ng.yaml'], /unknown option --verbose for validate/],
    [['validate', '-v'], /unknown option -v for validate/],
    [['validate', '--config='], /--config needs a value \(FILE\), not an empty string/],
    [['deploy'], /unknown command "deploy"/],
    [['render', '--config', 'examples/xcp-ng.yaml'], /render needs --out/],
    [['validate'], /validate needs --config/],
    [['validate', '--config'], /--config needs a value \(FILE\)/],
    [['validate', '--config', 'a', '--config', 'b'], /--config given twice/],
    [['validate', '--config', 'examples/xcp-ng.yaml', '--out', 'x'], /unknown option --out for validate/],
    [['validate', 'examples/xcp-ng.yaml'], /unexpected argument "examples\/xcp-ng.yaml"/],
  ])('bad arguments %j print usage and exit 2', (argv, message) => {
    const r = cli(...(argv as string[]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(/^usage: mirrorfleet (<command>|validate|render) \[options\]$/m);
  });

  describe('hostile paths get one sentence and exit 1, never a stack trace or a hang', () => {
    const dir = tmpDir('cli-hostile');
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, 'not a directory\n');
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it.each([
      ['/dev/zero', 'it is a character device, not a regular file: give the path of a mirror.yaml'],
      ['/proc', 'it is a directory: give the path of a mirror.yaml'],
      ['test/config/bad/does-not-exist.yaml', 'no such file or directory'],
    ])('validate --config %s', (config, why) => {
      expect(cli('validate', '--config', config)).toEqual({ code: 1, out: '', err: `${config}: 1 problem\n${config}: cannot read: ${why}\n` });
    });

    it('validate --config on a file over 1 MiB', () => {
      const big = path.join(dir, 'big.yaml');
      fs.writeFileSync(big, `# ${'x'.repeat(1024 * 1024)}\n`);
      expect(cli('validate', '--config', big).err).toBe(`${big}: 1 problem\n${big}: cannot read: it takes 1048579 bytes, more than the 1 MiB a mirror.yaml may take (a few KiB is usual)\n`);
    });

    it.each([
      ['/proc/x', '--out /proc/x: /proc is on the kernel\'s proc file system, which holds no files: choose a directory on a disk'],
      ['/sys/x/y', '--out /sys/x/y: /sys is on the kernel\'s sysfs file system, which holds no files: choose a directory on a disk'],
      [file, `--out ${file}: it exists and is not a directory: name a new or an existing directory`],
      [path.join(file, 'sub'), `--out ${path.join(file, 'sub')}: a part of the path is not a directory`],
    ])('render --out %s', (out, message) => {
      expect(cli('render', '--config', 'examples/xcp-ng.yaml', '--out', out)).toEqual({ code: 1, out: '', err: `${message}\n` });
      expect(fs.existsSync('/proc/x')).toBe(false);
    });

    it('render --out into a directory that cannot be written names the file and the reason', () => {
      const ro = path.join(dir, 'read-only');
      fs.mkdirSync(ro);
      fs.mkdirSync(path.join(ro, 'etc'), { mode: 0o555 });
      fs.writeFileSync(path.join(ro, 'user-data.yaml'), '');
      fs.mkdirSync(path.join(ro, 'usr'));
      // A directory where a file must go: refused whoever runs the test (root ignores modes).
      fs.mkdirSync(path.join(ro, 'etc', 'rsyncd.conf'), { recursive: true });
      const r = cli('render', '--config', 'examples/xcp-ng.yaml', '--out', ro);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^cannot write \/.*\/read-only\/etc\/\S+: (it is a directory, not a file|permission denied)\n$/);
    });
  });

  it("the README's sample error is what validate prints for test/readme/mirror.yaml", () => {
    const readme = fs.readFileSync('README.md', 'utf8');
    const block = /\n```\n(mirror\.yaml: \d+ problems?\n[\s\S]*?)```\n/.exec(readme);
    expect(block).not.toBeNull();
    expect(readme).toContain('npx mirrorfleet validate --config mirror.yaml\n');
    const r = run(path.resolve('bin', 'mirrorfleet.js'), ['validate', '--config', 'mirror.yaml'], { cwd: path.join('test', 'readme') });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(block![1]);
  });

  it('the installed bin entry runs the same CLI (npx mirrorfleet)', () => {
    const r = run(path.join('bin', 'mirrorfleet.js'), ['validate', '--config', 'examples/xcp-ng.yaml']);
    expect(r.stdout).toBe('examples/xcp-ng.yaml: valid xcp-ng mirror node mirror.example.org; checked with the rules of AWS and Hetzner Cloud\n');
    expect(r.status).toBe(0);
    const bad = run(path.join('bin', 'mirrorfleet.js'), ['frobnicate']);
    expect(bad.status).toBe(2);
  });
});
