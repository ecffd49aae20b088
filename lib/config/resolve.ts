import * as path from 'node:path';
import { PRESETS, Preset, PresetId, PresetTree } from '../presets';
import { AWS_DEFAULTS } from './aws';
import { DEFAULTS } from './defaults';
import { HCLOUD_DEFAULTS } from './hcloud';
import { NodeConfig, TreeConfig } from './node-config';
import { Problem } from './problems';
import { formatUtc, parseBitflipTime } from './bitflip-time';
import { COUNTRIES } from './countries';
import { matchPresetTrees } from './preset-trees';
import { parseSchedule } from './schedule';
import { MirrorConfigInput, TreeInput } from './schema';
import { TreeSize, autoMaxRequestWorkers, defaultGrowthGiBPerYear, volumeSizeGiB } from './sizing';

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
  const matched = matchPresetTrees(preset, treeInputs, input.trees !== undefined);
  problems.push(...matched.problems);
  const trees: TreeConfig[] = [];
  treeInputs.forEach((t, i) => {
    const fromPreset: PresetTree | undefined = matched.byIndex[i];
    const upstream = t.upstream ?? fromPreset?.upstream;
    if (upstream === undefined) {
      const names = preset.trees.map((p) => p.name).join(', ');
      problems.push({
        path: ['trees', i, 'upstream'],
        shown: 'missing',
        allowed: `required: the rsync URL tree "${t.name}" syncs from${names ? ` (a tree marked presetTree: ${names} takes the preset's)` : ''}`,
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
      presetTree: fromPreset?.name,
      mirrorManagerCategories: fromPreset?.mirrorManagerCategories ?? {},
      ...resolveSync(t, i, fromPreset, preset.metadataLast, problems),
    });
  });

  const sizeGiB = input.storage?.sizeGiB ?? DEFAULTS.storageSizeGiB;
  const plannedYears = input.storage?.plannedYears ?? DEFAULTS.plannedYears;
  const sizes = treeSizes(treeInputs, matched.byIndex, sizeGiB === 'auto', problems);
  const workers = input.http?.maxRequestWorkers ?? DEFAULTS.maxRequestWorkers;
  const perIp = input.http?.perIpConnectionLimit ?? preset.perIpConnectionLimit ?? 'off';
  const reportMirror = input.reports?.reportMirror;

  const config: NodeConfig = {
    preset,
    hostname: input.hostname.toLowerCase(),
    admin: input.admin,
    site: { ...input.site, coordinates: input.site.coordinates ?? DEFAULTS.coordinates },
    timezone: nodeTimezone(input, preset, problems),
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
      sizeGiB: sizeGiB === 'auto' ? volumeSizeGiB(sizes, plannedYears, preset.minimumVolumeGiB?.gib) : sizeGiB,
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
    // In UTC, as the timer renders it (lib/config/bitflip-time.ts).
    bitflips: (input.bitflips ?? []).map((b) => {
      const t = parseBitflipTime(b.at);
      return { path: b.path, at: t.ok ? formatUtc(t.utc) : b.at };
    }),
    aws: { ...input.aws, instanceType: input.aws?.instanceType ?? AWS_DEFAULTS.instanceType, volumeType: input.aws?.volumeType ?? AWS_DEFAULTS.volumeType, sshCidrs: input.aws?.sshCidrs ?? AWS_DEFAULTS.sshCidrs },
    hcloud: { ...HCLOUD_DEFAULTS, ...input.hcloud }, // zod leaves keys that were not written out, so defaults fill them
  };
  return { config, problems };
}

/**
 * The node's time zone: the config's, else, for a preset whose schedule starts at a local time
 * (Gentoo: "starting at midnight in your local time zone"), the country's when it has one clock;
 * a country of several clocks must say which. Other nodes keep UTC.
 */
function nodeTimezone(input: MirrorConfigInput, preset: Preset, problems: Problem[]): string {
  if (input.timezone !== undefined) return input.timezone;
  if (!('everyHours' in preset.schedule)) return DEFAULTS.timezone;
  const country = COUNTRIES[input.site.country];
  if (country?.zone) return country.zone;
  problems.push({
    path: ['timezone'],
    shown: 'missing',
    allowed: `required for preset ${preset.id}, whose syncs start at ${preset.schedule.from} local time: site.country ${input.site.country} (${country?.name ?? 'unknown'}) has more than one time zone, so give the node's own (an IANA zone, Area/City)`,
  });
  return DEFAULTS.timezone;
}

/**
 * Each tree's share of an automatic data volume (N20): a preset's tree has the guide's figures,
 * a tree of the node's own says its size (sizeGiB) and may say its growth.
 */
function treeSizes(trees: readonly TreeInput[], presetTrees: readonly (PresetTree | undefined)[], auto: boolean, problems: Problem[]): TreeSize[] {
  return trees.map((t, i) => {
    const own = presetTrees[i]?.sizing;
    if (t.sizeGiB !== undefined) return { treeGiB: t.sizeGiB, growthGiBPerYear: t.growthGiBPerYear ?? defaultGrowthGiBPerYear(t.sizeGiB) };
    if (own) return { treeGiB: own.treeGiB, growthGiBPerYear: t.growthGiBPerYear ?? own.growthGiBPerYear };
    if (auto) {
      problems.push({
        path: ['trees', i, 'sizeGiB'],
        shown: 'missing',
        allowed: `required with storage.sizeGiB auto: the tree's size today in whole GiB (it grows ${DEFAULTS.treeGrowthPercentPerYear} % a year unless growthGiBPerYear says), so the data volume holds every tree`,
      });
    }
    return { treeGiB: 0, growthGiBPerYear: 0 };
  });
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
