import { Document as YamlDocument } from 'yaml';
import { NodeConfig } from '../../lib/config/node-config';
import { Node } from './node';
import type { Ctx } from './scenario';
import { readNodeFile } from './inspect';
import { sleep, tail } from './sh';
import { World, WorldOptions } from './world';

/**
 * A cloud's variant of the user data, booted by the same scenario as the generic one
 * (scenario.ts): the cloud's side of the world (its stand-ins), the user data the cloud hands
 * the node, the data volume's name and when it appears, and the checks only that cloud has.
 */
export interface BootVariant {
  readonly cloud: 'aws' | 'hcloud';
  /** For messages: "AWS", "Hetzner Cloud". */
  readonly title: string;
  /** What the world adds for this cloud (a default gateway: EC2's VPC router). */
  readonly world: Partial<WorldOptions>;
  /** The volume's name in the node, as the cloud's udev rules make it. */
  readonly dataDevice: string;
  /** Settings only this cloud has, put into the example's config (hcloud.metricsCidrs). */
  editConfig?(doc: YamlDocument, world: World): void;
  /** Starts the cloud's side of the world; returns the user data the cloud hands the node. */
  start(world: World, config: NodeConfig, dir: string): Promise<string>;
  /** What only this cloud adds, checked after the first boot (certificate included). */
  checks(c: VariantContext): Promise<void>;
  /** After the rebuild: what only this cloud does later (AWS: an in-place update). */
  afterRebuild?(c: VariantContext): Promise<void>;
}

/** The scenario's context (scenario.ts): the node, its world, volume and config, and how the volume appeared. */
export type VariantContext = Ctx;

export interface LateAttach {
  /** The data-volume step was seen waiting for the volume before it appeared. */
  readonly sawWaiting: boolean;
  /** Seconds from the container's start to the volume's appearance. */
  readonly seconds: number;
}

/**
 * The cloud attaches the data volume after the instance started (EC2 after the instance runs,
 * Hetzner after the server is created): the harness waits until the node's data-volume step
 * (lib/host/data-volume.ts, in cloud-init's bootcmd) is waiting for its device, lets it wait a
 * few seconds more, then makes the volume's name appear.
 */
export async function attachLate(node: Node, waitMs = 4000): Promise<LateAttach> {
  const t0 = Date.now();
  let sawWaiting = false;
  while (Date.now() - t0 < 120_000 && node.running) {
    if (node.exec(['pgrep', '-f', 'mirrorfleet-data-volume']).status === 0) {
      sawWaiting = true;
      await sleep(waitMs);
      break;
    }
    await sleep(300);
  }
  if (node.running) node.attachVolumeName();
  return { sawWaiting, seconds: (Date.now() - t0) / 1000 };
}

/** The check every variant makes of its late volume: seen waiting, then formatted or kept under the cloud's name. */
export function lateVolumeCheck(c: VariantContext): string {
  const a = c.attach;
  if (!a || !a.sawWaiting) throw new Error(`the data-volume step was not seen waiting for ${c.node.dataDevice}: ${JSON.stringify(a)}`);
  const log = readNodeFile(c.node, '/var/log/cloud-init-output.log');
  const line = log.split('\n').find((l) => l.startsWith(`mirrorfleet-data-volume: formatting the empty ${c.node.dataDevice} `) || l.startsWith(`mirrorfleet-data-volume: keeping the ${c.config.storage.filesystem} file system labelled mirrordata on ${c.node.dataDevice}`));
  if (!line) throw new Error(`no data-volume line naming ${c.node.dataDevice} in cloud-init-output.log:\n${tail(log, 15)}`);
  return `attached ${a.seconds.toFixed(1)} s after the start; "${line.trim()}"`;
}
