import * as path from 'node:path';
import { PRESETS, PresetId, PresetTree } from '../presets';
import { AWS_DEFAULTS } from './aws';
import { DEFAULTS } from './defaults';
import { HCLOUD_DEFAULTS } from './hcloud';
import { NodeConfig, TreeConfig } from './node-config';
import { Problem } from './problems';
import { parseSchedule } from './schedule';
import { MirrorConfigInput, TreeInput } from './schema';
import { autoMaxRequestWorkers, volumeSizeGiB } from './sizing';

/**
 * Applies the preset and the defaults to a schema-valid input. Problems that need the preset to
 * be seen (a tree without an upstream, a tree outside the data volume) are returned, not thrown.
 */
export function resolveConfig(input: MirrorConfigInput): { config: NodeConfig; problems: Problem[] } {
  const problems: Problem[] = [];
  const preset = PRESETS[input.preset as PresetId];
  const mountPoint = stripSlash(input.storage?.mountPoint ?? DEFAULTS.mountPoint);

  const treeInputs: TreeInput[] = input.trees ?? preset.trees.map((t) => ({ name: t.name }));
  if (treeInputs.length === 0) {
    problems.push({ path: ['trees'], shown: 'missing', allowed: `required for preset "${preset.id}": at least one tree with name and upstream` });
  }
  const trees: TreeConfig[] = [];
  treeInputs.forEach((t, i) => {
    const fromPreset: PresetTree | undefined = preset.trees.find((p) => p.name === t.name);
    const upstream = t.upstream ?? fromPreset?.upstream;
    if (upstream === undefined) {
      problems.push({
        path: ['trees', i, 'upstream'],
        shown: 'missing',
        allowed: `required: tree "${t.name}" is not one of preset ${preset.id}'s trees (${preset.trees.map((p) => p.name).join(', ') || 'none'}), so it needs an rsync URL`,
      });
    }
    const treePath = stripSlash(t.path ?? `${mountPoint}/${t.name}`);
    const relative = path.posix.relative(mountPoint, treePath);
    if (relative === '' || relative.startsWith('..')) {
      problems.push({
        path: ['trees', i, 'path'],
        allowed: `a directory under storage.mountPoint (${mountPoint}), so the tree lives on the data volume`,
      });
    }
    trees.push({
      name: t.name,
      upstream: withSlash(upstream ?? 'rsync://missing/missing'),
      path: treePath,
      urlPath: `/${relative}/`,
      schedule: (t.schedule && parseSchedule(t.schedule)) || preset.schedule,
      excludes: t.excludes ?? [],
      bandwidthLimitMbps: t.bandwidthLimitMbps,
      mirrorManagerCategories: fromPreset?.mirrorManagerCategories ?? {},
      ...resolveSync(t, i, fromPreset, preset.metadataLast, problems),
    });
  });

  const sizeGiB = input.storage?.sizeGiB ?? DEFAULTS.storageSizeGiB;
  const plannedYears = input.storage?.plannedYears ?? DEFAULTS.plannedYears;
  const workers = input.http?.maxRequestWorkers ?? DEFAULTS.maxRequestWorkers;
  const perIp = input.http?.perIpConnectionLimit ?? preset.perIpConnectionLimit ?? 'off';
  const reportMirror = input.reports?.reportMirror;

  const config: NodeConfig = {
    preset,
    hostname: input.hostname.toLowerCase(),
    admin: input.admin,
    site: { ...input.site, coordinates: input.site.coordinates ?? DEFAULTS.coordinates },
    timezone: input.timezone ?? DEFAULTS.timezone,
    bandwidthMbps: input.bandwidthMbps,
    trees,
    http: {
      enabled: input.http?.enabled ?? DEFAULTS.httpEnabled,
      maxRequestWorkers: workers === 'auto' ? autoMaxRequestWorkers(input.bandwidthMbps) : workers,
      perIpConnectionLimit: perIp === 'off' ? undefined : perIp,
      refuseIsoRanges: input.http?.refuseIsoRanges ?? DEFAULTS.refuseIsoRanges,
      listings: input.http?.listings ?? DEFAULTS.listings,
    },
    https: { enabled: input.https?.enabled ?? DEFAULTS.httpsEnabled },
    rsync: {
      enabled: input.rsync?.enabled ?? DEFAULTS.rsyncEnabled,
      maxConnections: input.rsync?.maxConnections ?? DEFAULTS.rsyncMaxConnections,
      private: input.rsync?.private && {
        port: input.rsync.private.port ?? DEFAULTS.privateRsyncPort,
        allow: input.rsync.private.allow,
      },
    },
    tls: {
      email: input.tls?.email ?? input.admin.email,
      preferredChain: input.tls?.preferredChain ?? DEFAULTS.preferredChain,
      acmeServer: input.tls?.acmeServer ?? DEFAULTS.acmeServer,
    },
    storage: {
      sizeGiB: sizeGiB === 'auto' ? volumeSizeGiB(preset, plannedYears) : sizeGiB,
      filesystem: input.storage?.filesystem ?? DEFAULTS.filesystem,
      mountPoint,
      device: input.storage?.device ?? DEFAULTS.device,
      plannedYears,
    },
    reports: {
      trace: input.reports?.trace ?? DEFAULTS.trace,
      reportMirror: reportMirror && {
        site: reportMirror.site,
        host: reportMirror.host ?? input.hostname.toLowerCase(),
        server: reportMirror.server ?? DEFAULTS.mirrorManagerServer,
        passwordFile: reportMirror.passwordFile ?? DEFAULTS.mirrorManagerPasswordFile,
      },
      webhook: input.reports?.webhook,
    },
    bitflips: input.bitflips ?? [],
    aws: { ...input.aws, instanceType: input.aws?.instanceType ?? AWS_DEFAULTS.instanceType, volumeType: input.aws?.volumeType ?? AWS_DEFAULTS.volumeType, sshCidrs: input.aws?.sshCidrs ?? AWS_DEFAULTS.sshCidrs },
    hcloud: { ...HCLOUD_DEFAULTS, ...input.hcloud }, // zod leaves keys that were not written out, so defaults fill them
  };
  return { config, problems };
}

type SyncSettings = Pick<
  TreeConfig,
  'strategy' | 'fileList' | 'precheck' | 'preBitflip' | 'metadataLast' | 'maxDeletePercent' | 'minFreeMiB' | 'retries' | 'maxRuntimeMinutes' | 'verifySchedule'
>;

/**
 * The tree's sync engine settings (README: The sync engine). A preset's file list and marker are
 * files of the mirrored tree, so they hold for any upstream that carries the tree.
 */
function resolveSync(t: TreeInput, i: number, fromPreset: PresetTree | undefined, metadataLast: readonly string[], problems: Problem[]): SyncSettings {
  const strategy = t.strategy ?? fromPreset?.strategy ?? DEFAULTS.syncStrategy;
  const fileList = t.fileList ?? (strategy === 'filelist' && fromPreset?.strategy === 'filelist' ? fromPreset.fileList : undefined);
  if (strategy === 'filelist' && fileList === undefined) {
    problems.push({ path: ['trees', i, 'fileList'], shown: 'missing', allowed: 'required with strategy filelist: the file list the upstream publishes, such as fullfiletimelist-fedora' });
  }
  if (strategy !== 'filelist' && t.fileList !== undefined) {
    problems.push({ path: ['trees', i, 'fileList'], allowed: `only with strategy filelist (this tree syncs with ${strategy})` });
  }
  return {
    strategy,
    fileList,
    precheck: t.precheck ?? fromPreset?.precheck,
    preBitflip: t.preBitflip ?? false,
    metadataLast: t.metadataLast ?? metadataLast,
    maxDeletePercent: t.maxDeletePercent ?? DEFAULTS.maxDeletePercent,
    minFreeMiB: t.minFreeMiB ?? DEFAULTS.minFreeMiB,
    retries: t.retries ?? DEFAULTS.syncRetries,
    maxRuntimeMinutes: t.maxRuntimeMinutes ?? DEFAULTS.maxRuntimeMinutes,
    verifySchedule: t.verifySchedule === 'off' ? undefined : parseSchedule(t.verifySchedule ?? DEFAULTS.verifySchedule),
  };
}

const stripSlash = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);
const withSlash = (u: string) => (u.endsWith('/') ? u : `${u}/`);
