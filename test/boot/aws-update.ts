import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AWS_UNITS } from '../../lib/host/aws/aws-host';
import { BUNDLE_PATH } from '../../lib/host/bundle';
import { onCalendar } from '../../lib/config/schedule';
import { syncUnitName } from '../../lib/render/systemd';
import { assess } from './assess';
import { formatRequests } from './aws-cloud';
import { synthAwsNode } from './aws-stack';
import { AwsVariantState, renderedBundleSha } from './aws-variant';
import { bootConfig } from './config';
import { readNodeFile, unitJournal, unitProps, waitForCloudInit, waitForQuiet } from './inspect';
import { http, tcpOpen } from './probe';
import { expect } from './results';
import { Ctx, persistenceChecks, stateChecks, syncChecks, treeMarkers } from './scenario';
import { sleep, tail } from './sh';

/**
 * An in-place update on AWS (docs/adr/0010, 0070): the operator edits mirror.yaml (here: the
 * tree's schedule) and runs `cdk deploy`. CloudFormation's part is played by the harness: the new
 * template's bundle goes to S3 under its new key, the instance is stopped, its user data set (IMDS
 * and the NoCloud seed, the same instance id) and started again. The node must re-apply the new
 * user data in that boot, with no reboot of its own, and leave the data volume as it was.
 */
export async function awsInPlaceUpdate(c: Ctx, s: AwsVariantState): Promise<void> {
  const { results, node, world, volume } = c;
  await results.phase('in-place update: a changed config, the instance stopped, its user data set, started again', async () => {
    const t = c.config.trees[0];
    const schedule = 'every 30 minutes';
    const config = bootConfig(c.example, world, { edit: (doc) => doc.setIn(['trees', 0, 'schedule'], schedule) });
    const stack = synthAwsNode(config, path.join(c.dir, 'cdk.out-update'));
    const old = s.stack!;
    expect(stack.userData !== old.userData && stack.bundle.key !== old.bundle.key, 'the changed config renders the same user data and bundle');
    console.log(`  cdk synth of the changed config: ${stack.seconds.toFixed(1)} s; new bundle s3://${stack.bundle.bucket}/${stack.bundle.key}`);
    const uuid = volume.probe().uuid;
    const tag = `update-sentinel-${Date.now()}`;
    node.exec(['sh', '-c', `echo ${tag} > ${c.config.storage.mountPoint}/.boot-test-sentinel && sync`]);
    const instanceId = node.exec(['cloud-init', 'query', 'instance_id']).stdout.trim();
    const boots = () => node.exec(['journalctl', '--list-boots', '--no-pager']).stdout.trim().split('\n').filter(Boolean).length;
    const bootsBefore = boots();
    const upstreamMark = world.upstreamLog().length;
    const requestsMark = s.cloud!.requests().length;

    // CloudFormation: the new object in S3, stop, the new user data, start.
    s.cloud!.update(stack.userData, stack.bundle);
    await node.shutdown();
    if (c.unmountVolume) await c.unmountVolume();
    node.writeSeed({ userData: stack.userData, instanceId });
    // The volume stays attached while the instance is stopped: it is there at once.
    const fstabMount = volume.mountFromFstab(readNodeFile(node, '/etc/fstab'), c.config.storage.mountPoint, path.join(c.dir, 'volume-mnt-update'));
    c.unmountVolume = fstabMount.unmount;
    const t0 = Date.now();
    await node.boot([fstabMount.bind]);
    const pid = node.pid;
    const wait = await waitForCloudInit(node);
    if (!results.check('update: the boot after the start finished cloud-init', wait.finished, () => `${wait.problem}\n${assess(node).quote}`)) return;
    // mirrorfleet-aws-reapply runs after cloud-final and re-applies the user data in this boot.
    let p: Record<string, string> = {};
    while (Date.now() - t0 < 300_000 && node.running) {
      p = unitProps(node, AWS_UNITS.reapply, ['ActiveState', 'Result', 'ExecMainExitTimestamp']);
      if (p.ActiveState !== 'activating' && p.ExecMainExitTimestamp !== '') break;
      // The boot is over and the unit never ran (systemd dropped its start job).
      if (p.ActiveState === 'inactive' && /^(running|degraded)$/.test(node.exec(['systemctl', 'is-system-running']).stdout.trim())) break;
      await sleep(1000);
    }
    const seconds = (Date.now() - t0) / 1000;
    const rebooted = !node.running || node.pid !== pid;
    results.check(
      'update: re-applied without a reboot (the same boot as the start: no second boot, the same PID 1)',
      !rebooted && boots() === bootsBefore + 1,
      () => `${rebooted ? `the node rebooted by itself; the container's console:\n${tail(node.bootOutput(), 25)}` : `${boots()} boots listed, ${bootsBefore} before the update`}`,
      `${seconds.toFixed(0)} s from the start to the end of ${AWS_UNITS.reapply}`,
    );
    if (rebooted) return;
    const said = node.exec(['journalctl', '--no-pager', '-o', 'cat', '-u', AWS_UNITS.reapply, '-g', 'user data changed']).stdout.trim();
    results.check(`update: ${AWS_UNITS.reapply} saw the new user data and re-applied it`, p.Result === 'success' && said !== '', () => `${JSON.stringify(p)}\n${unitJournal(node, AWS_UNITS.reapply, 30)}`, said.split('\n')[0]);
    await waitForQuiet(node, [...config.trees.map((x) => `${syncUnitName(x)}.service`), 'mirrorfleet-cert.service']);

    await results.run('update: the new bundle was fetched from S3 and checked, and is the one on the node', () => {
      const got = s.cloud!.requests().slice(requestsMark).filter((r) => r.service === 's3' && r.path.endsWith(`/${stack.bundle.key}`) && r.status === 200);
      expect(got.length >= 1, `no fetch of ${stack.bundle.key}:\n${formatRequests(s.cloud!.requests().slice(requestsMark))}`);
      const onNode = createHash('sha256').update(fs.readFileSync(node.path(BUNDLE_PATH))).digest('hex');
      expect(onNode === renderedBundleSha(stack.userData), `on the node ${onNode}, the new user data checks ${renderedBundleSha(stack.userData)}`);
    });
    await results.run(`update: the change is in force (${syncUnitName(t)}.timer now ${schedule})`, () => {
      const want = onCalendar(config.trees[0].schedule, config.timezone);
      const timer = unitProps(node, `${syncUnitName(t)}.timer`, ['TimersCalendar', 'ActiveState', 'UnitFileState']);
      expect(timer.TimersCalendar.includes(`OnCalendar=${want}`) && timer.ActiveState === 'active' && timer.UnitFileState === 'enabled', `${JSON.stringify(timer)} (want OnCalendar=${want})`);
      return timer.TimersCalendar.replace(/ ; next_elapse=.*/, ' }');
    });
    await results.run('update: IMDS still asked with a token only', () => {
      const tokenless = s.cloud!.requests().filter((r) => r.service === 'imds' && (r.auth === 'no token' || r.auth === 'bad token'));
      expect(tokenless.length === 0, formatRequests(tokenless));
    });
    const c2: Ctx = { ...c, config };
    persistenceChecks(c2, uuid, tag, 'update');
    await syncChecks(c2, 'update');
    const markers = config.trees.flatMap((x) => treeMarkers(c2, x.name));
    const sent = world.upstreamLog().slice(upstreamMark).split('\n').filter((l) => /\] send /.test(l) && !markers.some((m) => l.includes(`send ${m} `)) && !/\] send project\/trace\//.test(l));
    results.check('update: the sync after it found the tree in place (the upstream sent no tree file)', sent.length === 0, sent.slice(0, 10).join('\n'));
    await results.run('update: HTTP and HTTPS serve the tree from outside', async () => {
      const r = http(`http://${world.nodeIp}/`, c.dir);
      expect(r.status === 200, `HTTP ${r.status} ${r.error}`);
      expect(await tcpOpen(world.nodeIp, 443), 'nothing on :443');
    });
    await results.run(`update: ${AWS_UNITS.metrics} running again, ${AWS_UNITS.reapply} enabled for the next change`, () => {
      const m = unitProps(node, AWS_UNITS.metrics, ['ActiveState', 'SubState', 'UnitFileState']);
      const r = unitProps(node, AWS_UNITS.reapply, ['UnitFileState']);
      expect(m.ActiveState === 'active' && m.SubState === 'running' && m.UnitFileState === 'enabled' && r.UnitFileState === 'enabled', `${JSON.stringify(m)} ${JSON.stringify(r)}`);
    });
    await stateChecks(c2, 'update');
  });
}
