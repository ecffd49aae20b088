import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeConfig } from '../../lib/config/node-config';
import { AWS_UNITS, EBS_DEVICE_PREFIX } from '../../lib/host/aws/aws-host';
import { BUNDLE_PATH } from '../../lib/host/bundle';
import { CW_METRICS } from '../../lib/host/metrics';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { CW_LOG, SSM_LOG, STAND_IN_VERSION, STATSD_LOG } from './aws-agents';
import { AwsCloud, formatRequests } from './aws-cloud';
import { AwsCloudRequest } from './aws-cloud-server';
import { AwsStackRender, TEST_VOLUME_ID, synthAwsNode } from './aws-stack';
import { readNodeFile, unitJournal, unitProps } from './inspect';
import { expect } from './results';
import { sleep, tail } from './sh';
import { BootVariant, VariantContext, lateVolumeCheck } from './variant';
import { World } from './world';

/*
 * The AWS variant (lib/host/aws): the user data from the synthesized CloudFormation template,
 * the bundle from S3, IMDSv2, the EBS volume attached late, Amazon's agents (stand-ins), the
 * metrics to the agent's StatsD port, and an in-place update (aws-update.ts).
 */

export const AWS_DATA_DEVICE = `${EBS_DEVICE_PREFIX}${TEST_VOLUME_ID.replace(/^vol-/, '')}`;

export interface AwsVariantState {
  cloud?: AwsCloud;
  stack?: AwsStackRender;
}

export function awsVariant(update?: (c: VariantContext, s: AwsVariantState) => Promise<void>): BootVariant & { readonly state: AwsVariantState } {
  const state: AwsVariantState = {};
  return {
    cloud: 'aws',
    title: 'AWS',
    world: { gateway: true },
    dataDevice: AWS_DATA_DEVICE,
    state,
    async start(world: World, config: NodeConfig, dir: string): Promise<string> {
      const stack = synthAwsNode(config, path.join(dir, 'cdk.out'));
      console.log(`  cdk synth: ${stack.seconds.toFixed(1)} s; the template names s3://${stack.bundle.bucket}/${stack.bundle.key}; HttpTokens ${stack.httpTokens}`);
      const cloud = new AwsCloud(world, path.join(dir, 'aws'), stack.region, stack.httpTokens === 'required');
      await cloud.start(stack.userData, stack.bundle);
      Object.assign(state, { cloud, stack });
      return stack.userData;
    },
    checks: (c) => awsChecks(c, state),
    afterRebuild: update ? (c) => update(c, state) : undefined,
  };
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** The sha256 the user data checks the bundle against (FETCH_BUNDLE's fourth argument). */
export const renderedBundleSha = (userData: string) => /fetch-bundle\n(?:\s+- .*\n){2}\s+- [a-z0-9-]+\n\s+- ([0-9a-f]{64})$/m.exec(userData)?.[1] ?? '';

async function awsChecks(c: VariantContext, s: AwsVariantState): Promise<void> {
  const { results, node } = c;
  const cloud = s.cloud!;
  const stack = s.stack!;
  const reqs = () => cloud.requests();
  await results.run('IMDS: every request carried an IMDSv2 token (IMDSv1 would get 401, as on the template\'s HttpTokens: required)', () => {
    const imds = reqs().filter((r) => r.service === 'imds');
    const tokenless = imds.filter((r) => r.auth === 'no token' || r.auth === 'bad token');
    expect(stack.httpTokens === 'required', `the template's MetadataOptions.HttpTokens is ${stack.httpTokens}`);
    expect(imds.some((r) => r.path === '/latest/api/token' && r.status === 200), `no token was ever asked for:\n${formatRequests(imds)}`);
    expect(tokenless.length === 0, `requests without a valid token:\n${formatRequests(tokenless)}`);
    return summarize(imds);
  });
  await results.run('IMDS: the node read its user data and the role\'s credentials with the token', () => {
    const imds = reqs().filter((r) => r.service === 'imds' && r.status === 200);
    expect(imds.some((r) => r.path === '/latest/user-data'), `mirrorfleet-aws never read the user data:\n${formatRequests(imds)}`);
    expect(imds.some((r) => r.path === `/latest/meta-data/iam/security-credentials/${cloud.roleName}`), `nobody read the role's credentials:\n${formatRequests(imds)}`);
  });
  await results.run('S3: the bundle object the template names was fetched under S3\'s regional name, signed with the role\'s credentials', () => {
    const got = reqs().filter((r) => r.service === 's3' && r.method === 'GET' && r.path.endsWith(`/${stack.bundle.key}`));
    const ok = got.filter((r) => r.status === 200 && r.auth === `sigv4 ${cloud.credentials.AccessKeyId}` && r.host.endsWith(`.${stack.region}.amazonaws.com`));
    expect(ok.length >= 1, `requests for the bundle:\n${formatRequests(got)}\nall S3 requests:\n${formatRequests(reqs().filter((r) => r.service === 's3'))}`);
    return `${ok[0].host}${ok[0].path}`;
  });
  await results.run('the bundle on the node is the S3 object, with the sha256 rendered into the user data', () => {
    const onNode = fs.readFileSync(node.path(BUNDLE_PATH));
    const want = renderedBundleSha(stack.userData);
    expect(want !== '', 'no sha256 found in the user data\'s fetch-bundle step');
    expect(sha256(onNode) === want && sha256(fs.readFileSync(stack.bundle.file)) === want, `on the node ${sha256(onNode)}, S3 object ${sha256(fs.readFileSync(stack.bundle.file))}, user data ${want}`);
    return `sha256 ${want.slice(0, 16)}...`;
  });
  await results.run(`the EBS volume appeared late under its name (${path.basename(AWS_DATA_DEVICE)}) and the data-volume step waited for it`, () => lateVolumeCheck(c));
  for (const agent of cloud.agents) {
    await results.run(`${agent.name}: the package from its download URL installed and its service running (stand-in)`, () => {
      const got = reqs().filter((r) => r.service === 's3' && r.path.endsWith(agent.key) && r.status === 200);
      expect(got.length >= 1, `${agent.url} was never downloaded`);
      const v = node.exec(['dpkg-query', '-W', '-f', '${Version}', agent.name]).stdout.trim();
      expect(v === STAND_IN_VERSION, `dpkg-query ${agent.name}: ${v || 'not installed'}`);
      const p = unitProps(node, `${agent.name}.service`, ['ActiveState', 'SubState', 'UnitFileState']);
      expect(p.ActiveState === 'active' && p.SubState === 'running' && p.UnitFileState === 'enabled', `${agent.name}.service: ${JSON.stringify(p)}\n${unitJournal(node, `${agent.name}.service`, 10)}`);
      const log = readNodeFile(node, agent.name === 'amazon-ssm-agent' ? SSM_LOG : CW_LOG);
      expect(/^installed /m.test(log) && new RegExp(`^started .*region=${stack.region}`, 'm').test(log), `its own record:\n${log}`);
      return `${agent.url.replace(/^https:\/\//, '')}; ${log.split('\n').find((l) => l.startsWith('started'))}`;
    });
  }
  await results.run('the CloudWatch agent got the rendered config (fetch-config -m ec2 from /etc/mirrorfleet) and listens where it says', () => {
    const log = readNodeFile(node, CW_LOG);
    expect(/fetch-config mode=ec2 config=\/etc\/mirrorfleet\/cloudwatch-agent\.json start=1/.test(log), log);
    expect(/run_as_user=cwagent statsd=127\.0\.0\.1:8125/.test(log), log);
    return log.split('\n').find((l) => l.startsWith('started'));
  });
  await results.run('the node\'s metrics reach the agent\'s StatsD port (sync outcome, sync age, certificate days left)', async () => {
    const t = c.config.trees[0].name;
    const want = [new RegExp(`^\\d+ ${CW_METRICS.syncSuccess}:1\\|g\\|#tree:${t}$`, 'm'), new RegExp(`^\\d+ ${CW_METRICS.syncAge}:\\d+\\|g\\|#tree:${t}$`, 'm'), ...(c.config.https.enabled ? [new RegExp(`^\\d+ ${CW_METRICS.certDaysLeft}:\\d+\\.\\d+\\|g$`, 'm')] : [])];
    // mirrorfleet-aws metrics sends every 60 s.
    const t0 = Date.now();
    let got = '';
    while (Date.now() - t0 < 75_000) {
      got = readNodeFile(node, STATSD_LOG);
      if (want.every((re) => re.test(got))) break;
      await sleep(2000);
    }
    const missing = want.filter((re) => !re.test(got));
    expect(missing.length === 0, `missing ${missing.map((r) => r.source).join(', ')} after 75 s; received:\n${tail(got, 15)}\n${unitJournal(node, AWS_UNITS.metrics, 10)}`);
    const last = (re: RegExp) => got.split('\n').filter((l) => re.test(l)).pop()?.replace(/^\d+ /, '');
    return want.map(last).join(', ');
  });
  await results.run(`${AWS_UNITS.metrics} enabled and running; ${AWS_UNITS.reapply} enabled, ran at this boot and found nothing to do`, () => {
    const m = unitProps(node, AWS_UNITS.metrics, ['ActiveState', 'SubState', 'UnitFileState']);
    expect(m.ActiveState === 'active' && m.SubState === 'running' && m.UnitFileState === 'enabled', `${AWS_UNITS.metrics}: ${JSON.stringify(m)}`);
    const r = unitProps(node, AWS_UNITS.reapply, ['UnitFileState', 'Result']);
    expect(r.UnitFileState === 'enabled', `${AWS_UNITS.reapply}: ${JSON.stringify(r)}`);
    const seen = readNodeFile(node, `${NODE_LAYOUT.stateDir}/user-data.sha256`).trim();
    expect(seen === sha256(fs.readFileSync(cloud.userDataFile)), `recorded user-data sha256 ${seen || '(none)'}, IMDS serves ${sha256(fs.readFileSync(cloud.userDataFile))}`);
    const j = unitJournal(node, AWS_UNITS.reapply, 20);
    expect(!/user data changed/.test(j), j);
    return `recorded user data sha256 ${seen.slice(0, 16)}...`;
  });
}

function summarize(rs: readonly AwsCloudRequest[]): string {
  const counts = new Map<string, number>();
  for (const r of rs) {
    const k = `${r.method} ${r.path.replace(/security-credentials\/.+/, 'security-credentials/ROLE')}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k} x${n}`).join(', ');
}
