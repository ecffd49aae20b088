import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeConfig } from '../../lib/config/node-config';
import { Example } from '../support/fixtures';
import { assess } from './assess';
import { cleanup } from './cleanup';
import { bootConfig, bootUserData, editBundle, editUserData } from './config';
import { waitForCloudInit, waitForQuiet } from './inspect';
import { DataVolume, Node } from './node';
import { Results } from './results';
import { scratch, startWorld } from './scenario';
import { quote } from './sh';


/**
 * Negative cases: user data that breaks at boot must make the boot test fail with the node's
 * own error quoted (cloud-init's, apt's, systemd's), quickly, not by a timeout. Each case boots
 * the broken user data and passes when the harness's verdict is "failed" and its quote contains
 * the expected error line.
 */
export interface NegativeCase {
  readonly name: string;
  readonly example: Example;
  /** Attach the data volume (false: the cloud forgot to attach it); `foreign`: one holding another file system. */
  readonly volume: boolean | 'foreign';
  readonly userData: (c: NodeConfig) => string;
  /** What the quoted evidence must contain. */
  readonly evidence: readonly RegExp[];
}

export const NEGATIVE_CASES: readonly NegativeCase[] = [
  {
    name: 'a package that does not exist',
    example: 'xcp-ng',
    volume: true,
    userData: (c) => editUserData(bootUserData(c), (doc) => (doc.packages as string[]).push('mirrorfleet-no-such-package')),
    evidence: [/E: Unable to locate package mirrorfleet-no-such-package/, /package-update-upgrade-install/],
  },
  {
    name: 'a unit with a bad ExecStart',
    example: 'xcp-ng',
    volume: true,
    userData: (c) =>
      editBundle(c, bootUserData(c), (files) =>
        files.map((f) => (/mirrorfleet-sync-[^/]+\.service$/.test(f.path) ? { ...f, content: f.content.replace(/^ExecStart=\/usr\/local\/bin\/mirror-sync /m, 'ExecStart=/usr/local/bin/mirror-sync-typo ') } : f)),
      ),
    // systemd's own line naming the path comes from the forked child and is sometimes not in the
    // journal yet; the unit's exit status 203/EXEC (the exec failed) always is.
    evidence: [/Failed at step EXEC spawning \/usr\/local\/bin\/mirror-sync-typo|Failed to locate executable \/usr\/local\/bin\/mirror-sync-typo|mirrorfleet-sync-xcp-ng\.service: Main process exited, code=exited, status=203\/EXEC/, /mirrorfleet-sync-xcp-ng\.service/],
  },
  {
    name: 'a volume holding a foreign file system (refused, never formatted)',
    example: 'xcp-ng',
    volume: 'foreign',
    userData: (c) => bootUserData(c),
    evidence: [/mirrorfleet-data-volume: refusing to format .*LABEL=backups/, /is not a mount point: the data volume is missing/],
  },
  {
    name: 'no data volume attached (provisioning fails in runcmd)',
    example: 'xcp-ng',
    volume: false,
    userData: (c) => bootUserData(c),
    evidence: [/is not a mount point: the data volume is missing/, /scripts-user/],
  },
];

export async function runNegative(k: NegativeCase, index: number, baseFile: string, results: Results): Promise<void> {
  results.setScope(`negative (${k.name}): `);
  const dir = scratch('negative');
  let node: Node | undefined;
  try {
    await results.phase('boot the broken user data', async () => {
      const world = await startWorld(k.example, index, dir);
      const config = bootConfig(k.example, world);
      const userData = k.userData(config);
      fs.writeFileSync(path.join(dir, 'user-data'), userData);
      const volume = k.volume ? new DataVolume(path.join(dir, 'data.img'), 4096) : undefined;
      if (volume && k.volume === 'foreign') volume.format('ext4', 'backups');
      const before = volume?.probe();
      node = new Node(path.join(dir, 'node'), world, volume);
      node.prepare(baseFile, { userData, instanceId: `iid-negative-${index}` });
      const t0 = Date.now();
      await node.boot();
      const wait = await waitForCloudInit(node);
      if (wait.finished) await waitForQuiet(node, [...config.trees.map((t) => `mirrorfleet-sync-${t.name}.service`), 'mirrorfleet-cert.service'], 60_000);
      const verdict = assess(node);
      const seconds = (Date.now() - t0) / 1000;
      const evidence = `${wait.problem}\n${verdict.quote}`;
      console.log(`  the harness's verdict, as a failing run would print it:\n${quote(evidence.trim())}`);
      results.check('the boot is reported as failed', !wait.finished || !verdict.ok, 'the harness found nothing wrong');
      for (const re of k.evidence) {
        const line = evidence.split('\n').find((l) => re.test(l));
        results.check(`the error is quoted: ${re.source}`, !!line, evidence, line?.trim().slice(0, 180));
      }
      if (before?.uuid) {
        const after = volume!.probe();
        results.check('the volume was left as it was', after.uuid === before.uuid && after.label === before.label, `before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
      }
      results.check('detected without waiting for a timeout', !/did not finish in/.test(wait.problem) && seconds < 180, `${seconds.toFixed(0)} s; ${wait.problem}`, `${seconds.toFixed(0)} s after boot`);
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
