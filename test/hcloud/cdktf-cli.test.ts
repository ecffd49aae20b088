/**
 * The real `cdktf synth` (cdktf-cli 0.21.0) on this repository, offline: the default example, another
 * one through MIRROR_CONFIG, a bad config, and a stack that breaks a policy. The runs start
 * together (each takes about 5 s) and the tests read their results.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Testing } from 'cdktf';
import { HcloudMirrorStack } from '../../constructs/hcloud/mirror-stack';
import { REPO, exampleConfig, tmpDir } from '../support/fixtures';

const CDKTF = path.join(REPO, 'node_modules', '.bin', 'cdktf');
const TOKEN = 'test-token-that-must-never-appear-0123456789';
const work = tmpDir('cdktf-cli');
const tfrc = path.join(work, 'empty.tfrc');
fs.writeFileSync(tfrc, '');

interface Run { status: number | null; output: string; outdir: string; seconds: number }

function synth(name: string, extraEnv: Record<string, string> = {}, args: string[] = []): Promise<Run> {
  const outdir = path.join(work, name);
  const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: tfrc, CI: '1', TF_VAR_hcloud_token: TOKEN, ...extraEnv };
  for (const k of Object.keys(env)) if (k.startsWith('CDKTF_')) delete env[k];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(CDKTF, ['synth', '--output', outdir, ...args], { cwd: REPO, env });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (status) => resolve({ status, output: output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''), outdir, seconds: (Date.now() - started) / 1000 }));
  });
}

const stackFile = (r: Run, stack: string) => path.join(r.outdir, 'stacks', stack, 'cdk.tf.json');
const badConfig = path.join(work, 'bad.yaml');
fs.writeFileSync(badConfig, 'preset: xcp-ng\nhostname: mirror.example.org\nadmin: { name: A, email: a@example.org }\nsite: { city: Paris, country: FR }\nbandwidthMbps: 1000\nhcloud: { location: fsn2, sshKeys: [ops] }\n');

let runs: Record<'default' | 'gentoo' | 'badConfig' | 'hostileAcl' | 'hostileCidrs' | 'policyCli' | 'policyRefused' | 'asDocumented', Run>;

/** The environment docs/hetzner.md's first commands set (its `export` lines), the token aside. */
function documentedEnv(): Record<string, string> {
  const block = /```sh\n([\s\S]*?)```/.exec(fs.readFileSync(path.join(REPO, 'docs', 'hetzner.md'), 'utf8'))![1];
  return Object.fromEntries([...block.matchAll(/^export (\w+)=(\S+)/gm)].filter(([, k]) => k !== 'TF_VAR_hcloud_token').map(([, k, v]) => [k, v]));
}

beforeAll(async () => {
  const bad = ['--app', 'npx ts-node --transpile-only test/hcloud/fixtures/open-ssh-app.ts'];
  const [d, g, b, ha, hc, p, r, doc] = await Promise.all([
    synth('default'),
    synth('gentoo', { MIRROR_CONFIG: 'examples/gentoo.yaml' }),
    synth('bad-config', { MIRROR_CONFIG: badConfig }),
    synth('hostile-acl', { MIRROR_CONFIG: 'test/config/bad/hostile-tier1-acl.yaml' }),
    synth('hostile-cidrs', { MIRROR_CONFIG: 'test/config/bad/hostile-firewall.yaml' }),
    synth('policy-cli', {}, bad),
    synth('policy-refused', { REFUSE: '1' }, bad),
    // As a provider runs it from the docs, offline: only what docs/hetzner.md sets.
    synth('as-documented', { CHECKPOINT_DISABLE: '', ...documentedEnv() }),
  ]);
  runs = { default: d, gentoo: g, badConfig: b, hostileAcl: ha, hostileCidrs: hc, policyCli: p, policyRefused: r, asDocumented: doc };
}, 180_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('npx cdktf synth, offline', () => {
  it('synthesizes the default example (examples/xcp-ng.yaml)', () => {
    expect(runs.default.output).toContain('Generated Terraform code for the stacks: mirrorfleet-mirror-example-org');
    expect(runs.default.status).toBe(0);
    console.log(`cdktf synth of the default example: ${runs.default.seconds.toFixed(1)} s`);
  });

  it('writes what Testing.synth shows, with no path of this machine and no token', () => {
    const text = fs.readFileSync(stackFile(runs.default, 'mirrorfleet-mirror-example-org'), 'utf8');
    for (const local of [REPO, work, process.cwd(), '/work/', '/tmp/']) expect(text).not.toContain(local);
    expect(text).not.toContain(TOKEN);
    const written = JSON.parse(text);
    const expected = JSON.parse(Testing.synth(new HcloudMirrorStack(Testing.app(), 'mirrorfleet-mirror-example-org', { config: exampleConfig('xcp-ng') })));
    const strip = (resources: Record<string, Record<string, Record<string, unknown>>>) =>
      Object.fromEntries(Object.entries(resources).map(([t, byName]) => [t, Object.fromEntries(Object.entries(byName).map(([n, { ['//']: _m, ...b }]) => [n, b]))]));
    expect(strip(written.resource)).toEqual(strip(expected.resource));
    expect(written.terraform.backend).toEqual({ local: { path: '../../../terraform.mirrorfleet-mirror-example-org.tfstate' } });
    expect(written.provider.hcloud).toEqual([{ token: '${var.hcloud_token}' }]);
  });

  it('as docs/hetzner.md runs it, prints nothing alarming offline (no telemetry call, ADR 0047)', () => {
    expect(runs.asDocumented.status).toBe(0);
    expect(runs.asDocumented.output).toContain('Generated Terraform code for the stacks: mirrorfleet-mirror-example-org');
    expect(runs.asDocumented.output).not.toMatch(/ERROR|checkpoint-api|ENOTFOUND/);
  });

  it('synthesizes another config given in MIRROR_CONFIG', () => {
    expect(runs.gentoo.status).toBe(0);
    const written = JSON.parse(fs.readFileSync(stackFile(runs.gentoo, 'mirrorfleet-gentoo-mirror-example-org'), 'utf8'));
    expect(written.resource.hcloud_volume.mirror_data.size).toBe(1130);
    expect(written.resource.hcloud_server.mirror.user_data).toMatch(/- mirrorfleet-data-volume\n +- \/dev\/disk\/by-id\/scsi-0HC_Volume_\$\{hcloud_volume\.mirror_data\.id\}\n +- xfs\n/);
    expect(written.resource.hcloud_server.mirror.user_data).toMatch(/- LABEL=mirrordata\n +- \/srv\/mirror\n +- xfs\n/);
  });

  it('fails on a bad config with every problem as FILE:LINE:COL, before synthesizing anything', () => {
    expect(runs.badConfig.status).toBe(1);
    expect(runs.badConfig.output).toContain(`${badConfig}: 2 problems`);
    expect(runs.badConfig.output).toContain(`${badConfig}:6:21 hcloud.location: "fsn2" — did you mean "fsn1"? a Hetzner Cloud location: fsn1, nbg1, hel1, ash, hil, sin`);
    expect(runs.badConfig.output).toContain(`${badConfig}:6:9 hcloud.adminCidrs: missing — required with hcloud.sshKeys`);
    expect(fs.existsSync(path.join(runs.badConfig.outdir, 'stacks'))).toBe(false);
  });

  it('refuses a world-open tier-1 ACL and malformed CIDRs with FILE:LINE:COL, as on AWS', () => {
    expect(runs.hostileAcl.status).toBe(1);
    expect(runs.hostileAcl.output).toContain('test/config/bad/hostile-tier1-acl.yaml:9:13 rsync.private.allow[0]: "0.0.0.0/0" — the listed hosts\' addresses, never the whole Internet');
    expect(runs.hostileAcl.output).toContain('test/config/bad/hostile-tier1-acl.yaml:9:24 rsync.private.allow[1]: "::/0"');
    expect(runs.hostileCidrs.status).toBe(1);
    expect(runs.hostileCidrs.output).toContain('test/config/bad/hostile-firewall.yaml:13:14 aws.sshCidrs[0]: "0.0.0.0/00"');
    expect(runs.hostileCidrs.output).toContain('test/config/bad/hostile-firewall.yaml:16:16 hcloud.adminCidrs[0]: "2001:db8::/129"');
    for (const r of [runs.hostileAcl, runs.hostileCidrs]) expect(fs.existsSync(path.join(r.outdir, 'stacks'))).toBe(false);
  });

  it('fails on a policy error: the CLI prints it and exits 1 (it would still have written cdk.tf.json)', () => {
    expect(runs.policyCli.status).toBe(1);
    expect(runs.policyCli.output).toContain('ERROR [open-ssh/mirror/Firewall]: mirrorfleet policy: tcp port 22 is open to 0.0.0.0/0 and ::/0');
    expect(runs.policyCli.output).toContain('While synthesizing one or more error annotations have been encountered');
    expect(fs.existsSync(stackFile(runs.policyCli, 'open-ssh'))).toBe(true);
  });

  it('fails on a policy error without writing the stack, as bin/cdktf-app.ts does (refuseStacksWithErrors)', () => {
    expect(runs.policyRefused.status).toBe(1);
    expect(runs.policyRefused.output).toContain('[open-ssh/mirror/Firewall] mirrorfleet policy: tcp port 22 is open to 0.0.0.0/0 and ::/0');
    expect(fs.existsSync(stackFile(runs.policyRefused, 'open-ssh'))).toBe(false);
  });
});
