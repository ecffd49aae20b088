import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MirrorNodeStack, stackNameFor } from '../../constructs/aws';
import { EXAMPLES, REPO, exampleConfig, tmpDir } from '../support/fixtures';

/*
 * The real `cdk synth` (the aws-cdk CLI, cdk.json's app, cdk-nag registered), offline and
 * without credentials, as a provider runs it. The examples run in parallel: about 10 s in all.
 */
const CDK = path.join(REPO, 'node_modules', '.bin', 'cdk');
const ENV = { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' };

function synth(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string; out: string }> {
  const out = tmpDir('cdkout');
  return new Promise((resolve) => {
    const child = spawn(CDK, ['synth', '--quiet', '-o', out, ...args], { cwd: REPO, env: { ...ENV, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr, out }));
  });
}

describe('npx cdk synth', () => {
  jest.setTimeout(120_000);
  const runs = Promise.all(EXAMPLES.map((e) => synth(['-c', `config=examples/${e}.yaml`])));
  afterAll(async () => (await runs).forEach((r) => fs.rmSync(r.out, { recursive: true, force: true })));

  it.each(EXAMPLES.map((e, i) => [e, i] as const))('synthesizes examples/%s.yaml with no cdk-nag finding and nothing alarming', async (example, i) => {
    const r = (await runs)[i];
    expect(r.stderr).not.toMatch(/AwsSolutions|ERROR|WARNING/);
    // Every feature flag is set in cdk.json (docs/adr/0047). Under CI=true the CLI logs to stdout.
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/feature flags? (is|are) not configured|ERROR/);
    expect(r.status).toBe(0);
    const host = { 'xcp-ng': 'mirror.example.org', fedora: 'fedora.mirror.example.org', gentoo: 'gentoo.mirror.example.org' }[example];
    const template = JSON.parse(fs.readFileSync(path.join(r.out, `mirrorfleet-${host.replace(/\./g, '-')}.template.json`), 'utf8'));
    expect(Object.values(template.Resources as Record<string, { Type: string }>).filter((x) => x.Type === 'AWS::EC2::Instance')).toHaveLength(1);
    expect(fs.readdirSync(r.out).filter((f) => /^asset\.[0-9a-f]{64}\.tar\.gz$/.test(f))).toHaveLength(1);
  });

  it.each(EXAMPLES.map((e, i) => [e, i] as const))('examples/%s.yaml: the feature flags of cdk.json leave the template as without them', async (example, i) => {
    const r = (await runs)[i];
    const config = exampleConfig(example);
    const name = stackNameFor(config);
    const bare = Template.fromStack(new MirrorNodeStack(new App(), name, { config, env: { account: config.aws.account, region: config.aws.region } })).toJSON();
    const written = JSON.parse(fs.readFileSync(path.join(r.out, `${name}.template.json`), 'utf8'));
    // The CLI adds CDK's own metadata (construct paths, the analytics resource); what deploys is the rest.
    const withoutMetadata = (t: { Resources: Record<string, Record<string, unknown>>; Conditions?: Record<string, unknown> }) => {
      const { CDKMetadata: _m, ...resources } = t.Resources;
      const { CDKMetadataAvailable: _c, ...conditions } = t.Conditions ?? {};
      return { ...t, Resources: Object.fromEntries(Object.entries(resources).map(([id, { Metadata: _p, ...r }]) => [id, r])), Conditions: conditions };
    };
    expect(withoutMetadata(written)).toEqual(withoutMetadata(bare as never));
  });

  it('defaults to examples/xcp-ng.yaml and reads MIRROR_CONFIG', async () => {
    const [byDefault, byEnv] = await Promise.all([synth([]), synth([], { MIRROR_CONFIG: 'examples/gentoo.yaml' })]);
    expect(byDefault.status).toBe(0);
    expect(fs.existsSync(path.join(byDefault.out, 'mirrorfleet-mirror-example-org.template.json'))).toBe(true);
    expect(byEnv.status).toBe(0);
    expect(fs.existsSync(path.join(byEnv.out, 'mirrorfleet-gentoo-mirror-example-org.template.json'))).toBe(true);
    for (const r of [byDefault, byEnv]) fs.rmSync(r.out, { recursive: true, force: true });
  });

  it('refuses bad configs with every problem as FILE:LINE:COL, before creating anything', async () => {
    const [prerequisites, gentoo, noEmail, tooSmall, hostileAcl, hostileCidrs, twoConfigs] = await Promise.all([
      synth([], { MIRROR_CONFIG: 'test/config/bad/xcp-ng-prerequisites.yaml' }),
      synth(['-c', 'config=test/aws/bad/gentoo-volume-too-small.yaml']),
      synth(['-c', 'config=test/aws/bad/no-admin-email.yaml']),
      synth(['-c', 'config=test/aws/bad/instance-too-small.yaml']),
      synth(['-c', 'config=test/config/bad/hostile-tier1-acl.yaml']),
      synth(['-c', 'config=test/config/bad/hostile-firewall.yaml']),
      synth(['-c', 'config=examples/gentoo.yaml'], { MIRROR_CONFIG: 'examples/fedora.yaml' }),
    ]);
    for (const r of [prerequisites, gentoo, noEmail, tooSmall, hostileAcl, hostileCidrs, twoConfigs]) {
      expect(r.status).not.toBe(0);
      expect(fs.readdirSync(r.out).filter((f) => f.endsWith('.template.json'))).toEqual([]);
      fs.rmSync(r.out, { recursive: true, force: true });
    }
    expect(prerequisites.stderr).toContain('test/config/bad/xcp-ng-prerequisites.yaml: 5 problems\n');
    expect(prerequisites.stderr.split('\n').filter((l) => /^test\/config\/bad\/xcp-ng-prerequisites\.yaml:\d+:\d+ /.test(l))).toHaveLength(5);
    expect(gentoo.stderr).toContain(
      'test/aws/bad/gentoo-volume-too-small.yaml: 1 problem\ntest/aws/bad/gentoo-volume-too-small.yaml:13:12 storage.sizeGiB: 500 — at least 800: Gentoo source mirror guide (wiki.gentoo.org/wiki/Project:Mirrors/Source_mirrors) requires: "Hosting a mirror requires a minimum of 800 GiB available disk space."\n',
    );
    expect(noEmail.stderr).toContain(
      'test/aws/bad/no-admin-email.yaml: 1 problem\ntest/aws/bad/no-admin-email.yaml:5:3 admin.email: missing — required: an e-mail address such as mirror-admin@example.org\n',
    );
    // The same lines as on Hetzner (test/hcloud/cdktf-cli.test.ts): one loader, one ingress table.
    expect(hostileAcl.stderr).toContain('test/config/bad/hostile-tier1-acl.yaml:9:13 rsync.private.allow[0]: "0.0.0.0/0" — the listed hosts\' addresses, never the whole Internet');
    expect(hostileAcl.stderr).toContain('test/config/bad/hostile-tier1-acl.yaml:9:24 rsync.private.allow[1]: "::/0"');
    expect(hostileCidrs.stderr).toContain('test/config/bad/hostile-firewall.yaml:13:14 aws.sshCidrs[0]: "0.0.0.0/00"');
    expect(hostileCidrs.stderr).toContain('test/config/bad/hostile-firewall.yaml:16:16 hcloud.adminCidrs[0]: "2001:db8::/129"');
    // -c config= and MIRROR_CONFIG naming two files: neither silently wins.
    expect(twoConfigs.stderr).toContain('mirrorfleet: two configs given, -c config=examples/gentoo.yaml and MIRROR_CONFIG=examples/fedora.yaml: give one (unset MIRROR_CONFIG, or leave out -c config=)\n');
    expect(tooSmall.stderr).toContain(
      'test/aws/bad/instance-too-small.yaml: 1 problem\ntest/aws/bad/instance-too-small.yaml:12:17 aws.instanceType: "m7g.large" — a type that sustains bandwidthMbps 1000 (N23): m7g.large\'s baseline is 937 Mbit/s ("up to" figures are bursts); "auto" picks c6gn.large\n',
    );
  });
});
