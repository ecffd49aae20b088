import type { RedirectorConfig } from '../../../project/redirector';
import { NODE_LAYOUT, syncStateDir } from '../../../render/layout';
import { REDIRECTOR_LAYOUT, RedirectorLayout, repositoryPath } from '../layout';

/*
 * Where the scaled redirector's containers keep things (R5). The same renderers as on one machine
 * run with this layout: files the task definitions carry are written under /run/mirrorfleet at
 * the start of each task (mirrorfleet-task), EFS holds the copy, the sync state and the GeoIP
 * databases, and mirrorbits' ports stay on the task's own loopback.
 */

/** Files a task writes from its definition before anything runs; tmpfs-like, per task. */
export const TASK_FILES_DIR = '/run/mirrorfleet';

export const SCALED_LAYOUT: RedirectorLayout = {
  ...REDIRECTOR_LAYOUT,
  host: { ...NODE_LAYOUT, etcDir: TASK_FILES_DIR, metricsDir: `${TASK_FILES_DIR}/metrics` },
  mirrorbitsConf: `${TASK_FILES_DIR}/mirrorbits.conf`,
  etcDir: `${TASK_FILES_DIR}/redirector`,
};

/** nginx's whole configuration in the service task (the image's own is not used). */
export const NGINX_CONF = `${TASK_FILES_DIR}/nginx.conf`;

/** The three EFS trees and where tasks mount them. */
export interface EfsMounts {
  /** The copy of the master's tree: written by the sync task, read by everything else. */
  readonly repository: string;
  /** The sync engine's state (lock, last run, file list): the sync task's only. */
  readonly syncState: string;
  /** GeoLite2 City and ASN, written by the GeoIP task; its timestamp for the metrics beside them. */
  readonly geoip: string;
}

export const efsMounts = (r: RedirectorConfig, rl: RedirectorLayout = SCALED_LAYOUT): EfsMounts => ({
  repository: repositoryPath(r),
  syncState: syncStateDir(rl.host, r.node.trees[0].name),
  geoip: rl.geoipDir,
});

/** Where the GeoIP task leaves its metrics file for the sync task to report (tasks share only EFS). */
export const geoipStampDir = (rl: RedirectorLayout = SCALED_LAYOUT) => `${rl.geoipDir}/.mirrorfleet`;
