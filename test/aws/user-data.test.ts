import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { App } from 'aws-cdk-lib';
import { parse } from 'yaml';
import { USER_DATA_STAND_INS } from '../../constructs/aws/host-user-data';
import { NodeConfig } from '../../lib/config/node-config';
import { BUNDLE_PATH } from '../../lib/host/bundle';
import { USER_DATA_LIMITS } from '../../lib/host/user-data';
import { PREPARE_DATA_VOLUME } from '../../lib/host/data-volume';
import { AWS_UNITS, AwsDeployRefs, FETCH_BUNDLE, awsScriptPath, renderAwsHost, renderAwsHostFiles } from '../../lib/host/aws/aws-host';
import { hostFiles } from '../../lib/host/host';
import { mirrorNodeHost } from '../../lib/roles/mirror-node/role';
import { CLOUDWATCH_AGENT_CONFIG_PATH, CW_NAMESPACE } from '../../lib/host/aws/cloudwatch-agent';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { EXAMPLES, tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';
import { awsExampleConfig, bundleKeyOf, synthNode, userDataOf } from './support';

const TOKEN = '<TOKEN>';
/** The renderer's output with the construct's stand-ins swapped for <TOKEN>: what the template must hold. */
function expectedUserData(config: NodeConfig, bundleKey: string): string {
  let text = renderAwsUserData(config, { ...USER_DATA_STAND_INS, bundleKey });
  for (const [k, v] of Object.entries(USER_DATA_STAND_INS)) if (k !== 'bundleKey') text = text.split(v).join(TOKEN);
  return text;
}
const renderAwsUserData = (config: NodeConfig, refs: AwsDeployRefs) => renderAwsHost(mirrorNodeHost(config)).userData(refs);
const renderAwsBundle = (config: NodeConfig) => renderAwsHost(mirrorNodeHost(config)).bundle;
const awsFiles = (config: NodeConfig, layout = NODE_LAYOUT) => renderAwsHostFiles(mirrorNodeHost(config, layout), layout);

describe.each(EXAMPLES)('the instance user data for examples/%s.yaml', (example) => {
  const config = awsExampleConfig(example);
  const { template, stack } = synthNode(config);
  const { text, tokens } = userDataOf(template);
  const key = bundleKeyOf(template);

  it('is the renderers\' cloud-config, unchanged but for the deploy-time values', () => {
    expect(text).toBe(expectedUserData(config, key));
  });

  it('fills in the data volume\'s id (for the data-volume step), the bundle bucket and the region', () => {
    const volume = { 'Fn::Select': [1, { 'Fn::Split': ['-', { Ref: 'NodeData1B05FCC4' }] }] };
    expect(tokens).toEqual([volume, { 'Fn::Sub': 'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}' }, { Ref: 'AWS::Region' }]);
    expect(text).toContain(`- mirrorfleet-data-volume\n    - /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol${TOKEN}\n`);
  });

  it(`stays far below EC2's ${USER_DATA_LIMITS.aws} bytes, even with the longest bucket, key and region names`, () => {
    const longest = renderAwsUserData(config, { volumeIdDigits: '0'.repeat(17), bundleBucket: 'b'.repeat(63), bundleKey: `${'f'.repeat(64)}.gz`, region: 'ap-southeast-7x' });
    expect(Buffer.byteLength(longest)).toBeLessThan(USER_DATA_LIMITS.aws / 2);
  });

  it('fetches the bundle asset and keeps it only if its sha256 is the one rendered', () => {
    const doc = parse(text);
    const bundle = renderAwsBundle(config);
    expect(doc.write_files).toBeUndefined();
    expect(doc.packages).toContain('awscli');
    expect(doc.runcmd[0]).toEqual(['sh', '-c', FETCH_BUNDLE, 'fetch-bundle', BUNDLE_PATH, `${TOKEN}/${key}`, TOKEN, createHash('sha256').update(bundle).digest('hex')]);
    const asset = fs.readFileSync(path.join((stack.node.root as App).outdir, `asset.${key.replace(/\.gz$/, '')}.tar.gz`));
    expect(asset.equals(bundle)).toBe(true);
  });

  it('the bundle holds every host file plus the AWS ones, the same bytes on every platform', () => {
    const bundle = renderAwsBundle(config);
    expect([...bundle.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);
    const names = tarNames(gunzipSync(bundle));
    expect(names).toEqual([...hostFiles(mirrorNodeHost(config), NODE_LAYOUT), ...awsFiles(config)].map((f) => f.path.slice(1)));
    for (const f of awsFiles(config)) expect(text).toContain(`#   ${f.mode} ${f.path}\n`);
  });

  it('waits at every boot up to 10 minutes for the EBS data volume, then formats it only when blank', () => {
    const doc = parse(text);
    const device = `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol${TOKEN}`;
    expect(doc.bootcmd).toEqual([['sh', '-c', PREPARE_DATA_VOLUME, 'mirrorfleet-data-volume', device, config.storage.filesystem, 'mirrordata', '600']]);
    expect(doc.fs_setup).toBeUndefined();
  });

  it('fetches, unpacks, installs the AWS parts, then runs mirrorfleet-provision', () => {
    const doc = parse(text);
    expect(doc.runcmd.map((c: string[]) => c.slice(0, 3).join(' '))).toEqual([
      `sh -c ${FETCH_BUNDLE}`,
      'tar --extract --gzip',
      `${awsScriptPath(NODE_LAYOUT)} setup`,
      '/usr/local/bin/mirrorfleet-provision',
    ]);
  });

  it('configures the CloudWatch agent for root and data disks, memory and loopback StatsD', () => {
    const agent = JSON.parse(awsFiles(config).find((f) => f.path === CLOUDWATCH_AGENT_CONFIG_PATH)!.content);
    expect(agent.metrics.namespace).toBe(CW_NAMESPACE);
    expect(agent.metrics.append_dimensions).toEqual({ InstanceId: '${aws:InstanceId}' });
    expect(agent.metrics.metrics_collected).toEqual({
      disk: { resources: ['/', config.storage.mountPoint], measurement: ['used_percent'], drop_device: true },
      mem: { measurement: ['used_percent'] },
      statsd: { service_address: '127.0.0.1:8125', metrics_collection_interval: 60, metrics_aggregation_interval: 60 },
    });
  });
});

/** Entry names of a ustar archive, in order. */
function tarNames(t: Buffer): string[] {
  const names: string[] = [];
  for (let off = 0; off + 512 <= t.length && t[off] !== 0; ) {
    const field = (o: number, n: number) => t.subarray(off + o, off + o + n).toString('utf8').replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    names.push(prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    off += 512 + Math.ceil(Number.parseInt(field(124, 12), 8) / 512) * 512;
  }
  return names;
}

/** Writes the AWS node files under `root` (units pointing at the script there) for the real tools. */
function writeAwsFiles(root: string): Record<string, string> {
  const layout = { ...NODE_LAYOUT, binDir: `${root}/bin`, systemdDir: `${root}/units` };
  const out: Record<string, string> = {};
  for (const f of awsFiles(awsExampleConfig('xcp-ng'), layout)) {
    const file = f.path.startsWith(root) ? f.path : path.join(root, f.path);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, f.content, { mode: Number.parseInt(f.mode, 8) });
    out[path.basename(file)] = file;
  }
  return out;
}

describeWith(['cloud-init'], 'AWS user data checked by cloud-init', () => {
  it.each(EXAMPLES)('examples/%s.yaml passes `cloud-init schema` (with plausible deploy-time values)', (example) => {
    const dir = tmpDir('aws-ud');
    const file = path.join(dir, 'user-data.yaml');
    const refs = { volumeIdDigits: '0123456789abcdef0', bundleBucket: 'cdk-hnb659fds-assets-123456789012-eu-west-3', bundleKey: `${'a'.repeat(64)}.gz`, region: 'eu-west-3' };
    fs.writeFileSync(file, renderAwsUserData(awsExampleConfig(example), refs));
    const r = run('cloud-init', ['schema', '--config-file', file]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describeWith(['shellcheck', 'systemd-analyze'], 'AWS node files checked by shellcheck and systemd-analyze', () => {
  const root = tmpDir('aws-files');
  const files = writeAwsFiles(root);
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('mirrorfleet-aws is shellcheck-clean', () => {
    const r = run('shellcheck', ['--format=gcc', files['mirrorfleet-aws']]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.each([
    ['fetch-bundle', FETCH_BUNDLE],
  ])('%s is shellcheck-clean as POSIX sh (cloud-init runs bootcmd and runcmd with sh)', (name, script) => {
    const file = path.join(root, `${name}.sh`);
    fs.writeFileSync(file, `#!/bin/sh\n${script}\n`);
    const r = run('shellcheck', ['--format=gcc', '--shell=sh', file]);
    expect(r.stdout + r.stderr).toBe('');
  });

  it('both units pass `systemd-analyze verify`', () => {
    const r = run('systemd-analyze', ['verify', '--man=no', files[AWS_UNITS.metrics], files[AWS_UNITS.reapply]], { env: { ...process.env, SYSTEMD_COLORS: '0' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describeWith(['systemd-analyze', 'cloud-init'], 'AWS units in the boot transaction, enabled as on an image', () => {
  /**
   * The units as a booted AWS node has them: cloud-init's (its generator wants cloud-init.target,
   * each of its units is WantedBy=cloud-init.target) from the installed package, ours enabled by
   * their [Install] section. systemd-analyze verify builds multi-user.target's start transaction
   * and reports any ordering cycle it has to break by dropping a job.
   */
  it(`${AWS_UNITS.reapply} is started at every boot: no ordering cycle with cloud-final.service`, () => {
    const root = tmpDir('aws-boot-order');
    const files = writeAwsFiles(root);
    const enabled = path.join(root, 'enabled');
    const link = (target: string, wants: string) => {
      fs.mkdirSync(path.join(enabled, `${wants}.wants`), { recursive: true });
      fs.symlinkSync(target, path.join(enabled, `${wants}.wants`, path.basename(target)));
    };
    link('/lib/systemd/system/cloud-init.target', 'multi-user.target');
    for (const u of ['cloud-init-local.service', 'cloud-init.service', 'cloud-config.service', 'cloud-final.service']) link(`/lib/systemd/system/${u}`, 'cloud-init.target');
    for (const unit of [AWS_UNITS.metrics, AWS_UNITS.reapply]) {
      const wantedBy = /^WantedBy=(\S+)$/m.exec(fs.readFileSync(files[unit], 'utf8'))?.[1];
      expect(wantedBy).toBeDefined();
      link(files[unit], wantedBy!);
    }
    const r = run('systemd-analyze', ['verify', '--man=no', 'multi-user.target'], { env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_UNIT_PATH: `${enabled}:${path.dirname(files[AWS_UNITS.reapply])}:` } });
    fs.rmSync(root, { recursive: true, force: true });
    expect(r.stderr.split('\n').filter((l) => /ordering cycle|deleted to break/.test(l))).toEqual([]);
    expect(r.status).toBe(0);
  });
});
