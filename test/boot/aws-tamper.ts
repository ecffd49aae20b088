import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderAwsHost } from '../../lib/host/aws/aws-host';
import { renderBundle } from '../../lib/host/bundle';
import { BUNDLE_PATH } from '../../lib/host/bundle';
import { mirrorNodeHost } from '../../lib/roles/mirror-node/role';
import { assess } from './assess';
import { AwsCloud } from './aws-cloud';
import { synthAwsNode } from './aws-stack';
import { AWS_DATA_DEVICE } from './aws-variant';
import { cleanup } from './cleanup';
import { bootConfig } from './config';
import { waitForCloudInit } from './inspect';
import { DataVolume, Node } from './node';
import { http, tcpOpen } from './probe';
import { Results, expect } from './results';
import { scratch, startWorld } from './scenario';
import { quote } from './sh';
import { attachLate } from './variant';

/** What the node must say when the bundle is not the one its user data names (lib/host/aws/aws-host.ts, FETCH_BUNDLE). */
const CLEAR_MESSAGE = /mirrorfleet: s3:\/\/\S+ is not the bundle this user data was rendered with \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\): not unpacking it/;

/**
 * AWS, negative: someone replaced the bundle object in S3 (a valid bundle, with one file more).
 * The user data's sha256 check must refuse it: the boot fails with a message that says so, nothing
 * of the bundle is unpacked, and the node serves nothing of a mirror.
 */
export async function runAwsTamperedBundle(index: number, baseFile: string, results: Results): Promise<void> {
  results.setScope('xcp-ng on AWS, tampered bundle: ');
  const dir = scratch('aws-tampered');
  let node: Node | undefined;
  try {
    await results.phase('boot with a bundle in S3 that is not the one the template names', async () => {
      const world = await startWorld('xcp-ng', index, dir, { gateway: true });
      const config = bootConfig('xcp-ng', world);
      const stack = synthAwsNode(config, path.join(dir, 'cdk.out'));
      const files = [...renderAwsHost(mirrorNodeHost(config)).files, { path: '/etc/mirrorfleet/tampered', content: 'not from the template\n', mode: '0644' }];
      const tampered = path.join(dir, 'tampered.tar.gz');
      fs.writeFileSync(tampered, renderBundle(files));
      const cloud = new AwsCloud(world, path.join(dir, 'aws'), stack.region, stack.httpTokens === 'required');
      await cloud.start(stack.userData, { ...stack.bundle, file: tampered });
      const volume = new DataVolume(path.join(dir, 'data.img'), 4096);
      node = new Node(path.join(dir, 'node'), world, volume, AWS_DATA_DEVICE);
      node.prepare(baseFile, { userData: stack.userData, instanceId: `iid-aws-tampered-${index}` });
      const t0 = Date.now();
      await node.boot([], { volumeName: 'late' });
      const attaching = attachLate(node);
      const wait = await waitForCloudInit(node);
      await attaching;
      const verdict = assess(node);
      const evidence = `${wait.problem}\n${verdict.quote}`;
      console.log(`  the harness's verdict, as a failing run would print it:\n${quote(evidence.trim())}`);
      results.check('the boot is reported as failed', !wait.finished || !verdict.ok, 'the harness found nothing wrong');
      const line = evidence.split('\n').find((l) => CLEAR_MESSAGE.test(l));
      results.check('the error says the bundle is not the one the user data names', !!line, evidence, line?.trim().slice(0, 200));
      const seconds = (Date.now() - t0) / 1000;
      results.check('detected without waiting for a timeout', wait.finished && seconds < 240, `${seconds.toFixed(0)} s; ${wait.problem}`, `${seconds.toFixed(0)} s after boot`);
      await results.run('the S3 stand-in served the tampered object to the signed fetch', () => {
        const got = cloud.requests().filter((r) => r.service === 's3' && r.path.endsWith(`/${stack.bundle.key}`) && r.status === 200);
        expect(got.length >= 1, 'the node never fetched the bundle');
      });
      await results.run('nothing of the bundle was unpacked (no bundle file kept, no /etc/mirrorfleet, no units of ours)', () => {
        const left = [BUNDLE_PATH, '/etc/mirrorfleet/tampered', '/etc/mirrorfleet/host.env', '/usr/local/bin/mirrorfleet-provision'].filter((p) => fs.existsSync(node!.path(p)));
        const units = node!.exec(['sh', '-c', 'ls /etc/systemd/system | grep mirrorfleet || true']).stdout.trim();
        expect(left.length === 0 && units === '', `on the node: ${[...left, units].filter(Boolean).join(', ')}`);
      });
      await results.run('the node serves nothing of a mirror: no HTTPS, no rsync, no tree over HTTP', async () => {
        const tree = config.trees[0];
        expect(!(await tcpOpen(world.nodeIp, 443)), 'something accepts connections on :443');
        expect(!(await tcpOpen(world.nodeIp, 873)), 'something accepts connections on :873 (rsync)');
        const r = http(`http://${world.nodeIp}${tree.urlPath}`, dir);
        expect(r.status !== 200, `HTTP ${tree.urlPath}: ${r.status}`);
        const root = http(`http://${world.nodeIp}/`, dir);
        // Apache, installed from the packages before runcmd, still answers / with Debian's own page.
        return `:443 and :873 closed; HTTP ${tree.urlPath} ${r.status || 'no answer'}, / ${root.status || 'no answer'}${root.status === 200 ? ` (${/<title>([^<]*)/.exec(root.body.toString())?.[1] ?? ''})` : ''}`;
      });
    });
  } catch (e) {
    results.fail('scenario', `${(e as Error).stack ?? e}`);
  } finally {
    await results.phase('teardown', async () => {
      if (node?.running) await node.shutdown();
      await cleanup.runAll();
    });
    results.setScope('');
  }
}
