/*
 * The mirror application (O1) against golden files: the three examples and a custom config,
 * without outputs (addresses marked as not deployed yet) and with each cloud's outputs file made
 * from the synthesized stack (test/onboarding/outputs.ts). Regenerate deliberately with
 * UPDATE_GOLDEN=1 and review the diff.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../bin/cli';
import { loadConfigFile } from '../../lib/config/load';
import { NodeConfig } from '../../lib/config/node-config';
import { mirrorApplication } from '../../lib/onboarding/application';
import { parseOutputs } from '../../lib/onboarding/outputs';
import { REPO, tmpDir } from '../support/fixtures';
import { cdkOutputsFile, terraformOutputsFile } from './outputs';

const GOLDEN = path.join(REPO, 'test', 'golden-application');
const update = process.env.UPDATE_GOLDEN === '1' && !process.env.CI;

function golden(name: string, actual: string): void {
  const file = path.join(GOLDEN, name);
  if (update) fs.writeFileSync(file, actual);
  expect(actual).toEqual(fs.readFileSync(file, 'utf8'));
}

const CONFIGS: [string, string][] = [
  ['xcp-ng', 'examples/xcp-ng.yaml'],
  ['fedora', 'examples/fedora.yaml'],
  ['gentoo', 'examples/gentoo.yaml'],
  ['custom', 'test/onboarding/custom.yaml'],
];

describe.each(CONFIGS)('mirrorfleet application for %s (%s)', (name, file) => {
  const config: NodeConfig = loadConfigFile(path.join(REPO, file));
  const outputs = { aws: cdkOutputsFile(config), terraform: terraformOutputsFile(config) };

  it('outputs files as cdk deploy and terraform output write them', () => {
    golden(`${name}.cdk-outputs.json`, outputs.aws);
    golden(`${name}.terraform-outputs.json`, outputs.terraform);
  });

  it('before deploy: the addresses are marked as not known yet, nothing invented', () => {
    const text = mirrorApplication(config);
    golden(`${name}.txt`, text);
    expect(text).toContain('[after deploy: IPv4 address]');
    expect(text).toContain('[after deploy: IPv6 address]');
  });

  it.each(['aws', 'terraform'] as const)('after deploy, with the %s outputs: the addresses filled in', (kind) => {
    const text = mirrorApplication(config, parseOutputs(outputs[kind], `${kind}.json`, config));
    golden(`${name}.${kind}.txt`, text);
    expect(text).not.toContain('[after deploy');
    expect(text).toContain(kind === 'aws' ? '203.0.113.10' : '203.0.113.20');
    expect(text).toContain(kind === 'aws' ? '2001:db8:10::10' : '2001:db8:20::1');
  });
});

describe('what the texts hold', () => {
  const app = (file: string) => mirrorApplication(loadConfigFile(path.join(REPO, file)));

  it('every blank is marked the same way, and each preset has the ones only the provider can fill', () => {
    expect(app('examples/gentoo.yaml')).toContain('Sponsor logo URL: [fill in: ');
    expect(app('examples/fedora.yaml')).toContain('Password: [fill in: ');
    expect(app('examples/xcp-ng.yaml')).toContain('Other prerequisites checked: [fill in: ');
    for (const [, file] of CONFIGS) expect(app(file).match(/\[(?!fill in: |after deploy: )[a-z][^\]]*: /g)).toBeNull();
  });

  it('the URLs are the node\'s (lib/roles/mirror-node/urls.ts), for every protocol it serves', () => {
    const text = app('examples/xcp-ng.yaml');
    expect(text).toContain('HTTPS URL: https://mirror.example.org/xcp-ng/');
    expect(text).toContain('RSYNC URL: rsync://mirror.example.org/xcp-ng/');
    expect(app('examples/fedora.yaml')).toContain('rsync://fedora.mirror.example.org/fedora/linux/');
  });
});

describe('outputs files that do not fit are refused with the reason', () => {
  const config = loadConfigFile(path.join(REPO, 'examples/xcp-ng.yaml'));
  const refuse = (text: string) => () => parseOutputs(text, 'out.json', config);

  it.each([
    ['not JSON', '{', /^out\.json: not JSON .*; expected the file of `cdk deploy --outputs-file` or of `terraform output -json`$/],
    ['another stack', '{"mirrorfleet-other-example-org": {"Ipv4Address": "192.0.2.1"}}', /^out\.json: no outputs of stack mirrorfleet-mirror-example-org \(the stack of mirror\.example\.org\); the file has mirrorfleet-other-example-org$/],
    ['another node\'s URLs', '{"mirrorfleet-mirror-example-org": {"HttpsUrl": "https://other.example.org/", "Ipv4Address": "192.0.2.1", "Ipv6Address": "2001:db8::1"}}', /HttpsUrl is "https:\/\/other\.example\.org\/", but this config serves https:\/\/mirror\.example\.org\/: outputs of another deploy\?$/],
    ['no IPv6 yet', '{"mirrorfleet-mirror-example-org": {"Ipv4Address": "192.0.2.1"}}', /no Ipv6Address \(a non-empty string\); was the stack deployed to the end\?$/],
    ['Terraform of another node', '{"ipv4_address": {"value": "192.0.2.1"}, "ipv6_address": {"value": "2001:db8::1"}, "site_url": {"value": "https://x.example.org/"}}', /site_url is "https:\/\/x\.example\.org\/", but this config serves https:\/\/mirror\.example\.org\//],
    ['neither format', '[1, 2]', /a JSON object expected/],
  ])('%s', (_, text, message) => {
    expect(refuse(text)).toThrow(message);
  });
});

describe('the command', () => {
  const cli = (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
    return { code, out, err };
  };

  it('prints the application, and says on stderr how to fill the addresses', () => {
    const r = cli('application', '--config', 'examples/gentoo.yaml');
    expect(r.code).toBe(0);
    expect(r.out).toBe(fs.readFileSync(path.join(GOLDEN, 'gentoo.txt'), 'utf8'));
    expect(r.err).toBe('mirrorfleet: the addresses marked [after deploy] come from the stack: rerun with --outputs FILE once it is deployed\n');
  });

  it('reads the outputs file it is given', () => {
    const dir = tmpDir('outputs');
    fs.copyFileSync(path.join(GOLDEN, 'fedora.terraform-outputs.json'), path.join(dir, 'outputs.json'));
    const r = cli('application', '--config', 'examples/fedora.yaml', '--outputs', path.join(dir, 'outputs.json'));
    expect(r).toEqual({ code: 0, out: fs.readFileSync(path.join(GOLDEN, 'fedora.terraform.txt'), 'utf8'), err: '' });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a missing or foreign outputs file is one line and exit 1', () => {
    expect(cli('application', '--config', 'examples/gentoo.yaml', '--outputs', '/nonexistent/out.json')).toEqual({ code: 1, out: '', err: '/nonexistent/out.json: cannot read the outputs file (ENOENT)\n' });
    const r = cli('application', '--config', 'examples/gentoo.yaml', '--outputs', path.join(GOLDEN, 'xcp-ng.cdk-outputs.json'));
    expect(r).toEqual({ code: 1, out: '', err: expect.stringMatching(/no outputs of stack mirrorfleet-gentoo-mirror-example-org .* the file has mirrorfleet-mirror-example-org\n$/) });
  });
});
