import type { HostSpec } from '../../host/host';
import { IngressRule, worldRule } from '../../host/ingress';
import { TEXTFILE_METRICS } from '../../host/metrics';
import type { HostRole } from '../../host/role';
import type { ProjectConfig } from '../../project/project';
import type { RedirectorConfig } from '../../project/redirector';
import { SYNC_GROUP, SYNC_USER } from '../../render/layout';
import { nodeCertificate, renderNodeStaticMetrics } from '../mirror-node/role';
import { GeoipSource, MIRRORBITS_USER, REDIRECTOR_UNITS, redirectorUnits, renderRedirectorFiles } from './files';
import { REDIRECTOR_LAYOUT, RedirectorLayout, tlsSitePaths } from './layout';
import { MIRROR_LIST_UNITS, MirrorListSource } from './mirror-list-source';
import { redisMaxMemoryMiB } from './redis';

/*
 * The project's central redirector on one machine (R1–R4, R6, R7): mirrorbits with Redis, behind
 * nginx, with a local copy of the master's tree, GeoIP databases and the mirror list reconciled
 * into mirrorbits. Only nginx faces clients: 80 and 443.
 */

export interface RedirectorRoleOptions {
  readonly geoip?: GeoipSource;
  readonly mirrorList?: MirrorListSource;
  /** The machine's memory, to size Redis; 4 GiB when not known. */
  readonly memoryGiB?: number;
}

/** What the redirector admits: web traffic from everyone (R1); mirrorbits and Redis never (R7). */
export function redirectorIngress(): IngressRule[] {
  return [worldRule(80, 'HTTP redirects and ACME http-01 (R1, N19)'), worldRule(443, 'HTTPS redirects (R1)')];
}

export function redirectorRole(p: ProjectConfig, r: RedirectorConfig, opts: RedirectorRoleOptions = {}, rl: RedirectorLayout = REDIRECTOR_LAYOUT): HostRole {
  const geoip = opts.geoip ?? { kind: 'file' };
  const list = opts.mirrorList ?? { kind: 'file' };
  const redisMiB = redisMaxMemoryMiB(opts.memoryGiB ?? 4);
  const units = redirectorUnits(r, rl);
  const tree = r.node.trees[0];
  return {
    kind: 'redirector',
    title: `${p.preset.title} redirector`,
    packages: ['nginx', 'redis-server', 'rsync', 'python3'],
    // cloud-init creates a user's named primary group only when it is listed here.
    groups: [SYNC_GROUP, MIRRORBITS_USER],
    users: [
      { name: SYNC_USER, group: SYNC_GROUP, gecos: 'mirror sync (owns the local copy)' },
      { name: MIRRORBITS_USER, group: MIRRORBITS_USER, gecos: 'mirrorbits redirector' },
    ],
    files: renderRedirectorFiles(p, r, rl, geoip, list, redisMiB),
    enableUnits: [...units.filter((u) => u.enable).map((u) => u.name), ...(list.kind === 'file' ? [] : [MIRROR_LIST_UNITS.pollTimer])],
    // The first copy of the tree, the first GeoIP databases, the first reconcile: now.
    startUnits: [`mirrorfleet-sync-${tree.name}.service`, REDIRECTOR_UNITS.geoip, REDIRECTOR_UNITS.reconcile],
    provisionStep: `${rl.host.binDir}/mirrorfleet-provision-redirector`,
    metricsOwner: SYNC_USER,
    ingress: redirectorIngress(),
    metrics: [...TEXTFILE_METRICS.sync, ...TEXTFILE_METRICS.static, ...TEXTFILE_METRICS.redirector, ...TEXTFILE_METRICS.geoip],
    // The copy's interval for the sync-age rules, and the data volume.
    staticMetrics: renderNodeStaticMetrics(r.node),
  };
}

export function redirectorHost(p: ProjectConfig, opts: RedirectorRoleOptions = {}, rl: RedirectorLayout = REDIRECTOR_LAYOUT): HostSpec {
  const r = p.redirector;
  if (!r) throw new Error(`${p.file}: no redirector block`);
  const cert = nodeCertificate(r.node);
  return {
    hostname: r.node.hostname,
    timezone: r.node.timezone,
    dataVolume: { mountPoint: r.node.storage.mountPoint, filesystem: r.node.storage.filesystem, device: r.node.storage.device },
    certificate: cert && { ...cert, webServer: 'nginx', tlsSite: tlsSitePaths(rl) },
    role: redirectorRole(p, r, opts, rl),
  };
}
