import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, tmpDir } from '../support/fixtures';
import { EXAMPLE_PROJECT, scaledProject } from './support';

/*
 * The one switch as users run it, offline and without credentials: `cdk synth -c project=…`
 * (cdk.json's app, cdk-nag and the ingress policy registered) on the example project with each
 * profile, and the Hetzner app refusing the scaled profile before anything is written.
 */
const ENV = { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true', CHECKPOINT_DISABLE: '1', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '' };

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: REPO, env: { ...ENV, ...env } });
    let stderr = '';
    child.stdout.on('data', () => undefined);
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

describe('npx cdk synth with each redirector profile', () => {
  jest.setTimeout(180_000);
  const outs = { single: tmpDir('cdkout-single'), scaled: tmpDir('cdkout-scaled') };
  const scaledFile = scaledProject();
  const runs = Promise.all([
    exec(path.join(REPO, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet', '-o', outs.single, '-c', `project=${path.relative(REPO, EXAMPLE_PROJECT)}`]),
    exec(path.join(REPO, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet', '-o', outs.scaled, '-c', `project=${scaledFile}`]),
  ]);
  afterAll(async () => {
    await runs;
    for (const o of Object.values(outs)) fs.rmSync(o, { recursive: true, force: true });
  });
  const template = (out: string) => {
    const f = fs.readdirSync(out).find((x) => x.endsWith('.template.json'))!;
    return Object.values(JSON.parse(fs.readFileSync(path.join(out, f), 'utf8')).Resources as Record<string, { Type: string }>).map((r) => r.Type);
  };

  it('single: the redirector on one instance, no finding', async () => {
    const [single] = await runs;
    expect(single.stderr).not.toMatch(/AwsSolutions|ERROR|WARNING/);
    expect(single.status).toBe(0);
    expect(template(outs.single).filter((t) => t === 'AWS::EC2::Instance')).toHaveLength(2);
    expect(template(outs.single)).not.toContain('AWS::ECS::Service');
  });

  it('scaled: the service, Redis and EFS, no finding, the tasks image staged with its build arguments (nothing built)', async () => {
    const [, scaled] = await runs;
    expect(scaled.stderr).not.toMatch(/AwsSolutions|ERROR|WARNING/);
    expect(scaled.status).toBe(0);
    const types = template(outs.scaled);
    for (const t of ['AWS::ECS::Service', 'AWS::ElastiCache::ReplicationGroup', 'AWS::EFS::FileSystem', 'AWS::ElasticLoadBalancingV2::LoadBalancer']) expect(types).toContain(t);
    expect(types.filter((t) => t === 'AWS::EC2::Instance')).toHaveLength(1);
    const manifest = JSON.parse(fs.readFileSync(path.join(outs.scaled, fs.readdirSync(outs.scaled).find((f) => f.endsWith('.assets.json'))!), 'utf8'));
    const images = Object.values(manifest.dockerImages as Record<string, { source: { directory: string; dockerBuildArgs: Record<string, string>; platform: string } }>);
    expect(images).toHaveLength(1);
    expect(images[0].source.dockerBuildArgs.MIRRORBITS_IMAGE).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(images[0].source.platform).toBe('linux/amd64');
    expect(fs.readdirSync(path.join(outs.scaled, images[0].source.directory)).sort()).toEqual(['Dockerfile', 'bin']);
  });

  it('the Hetzner app refuses the scaled profile with one problem naming the cloud, at the profile\'s line', async () => {
    const r = await exec(path.join(REPO, 'node_modules', '.bin', 'ts-node'), ['--transpile-only', 'bin/cdktf-app.ts'], { PROJECT_CONFIG: scaledFile });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${scaledFile}: 1 problem\n${scaledFile}:54:12 redirector.profile: "scaled" — single on Hetzner Cloud`);
  });
});
