import { AWS_PRICES } from '../cost/prices';
import { IngressRule, checkIngress, listedRule } from '../host/ingress';
import { NodeConfig } from './node-config';
import { Problem, didYouMean, formatPath } from './problems';
import { MirrorConfigInput } from './schema';

/*
 * What an AWS node is made of, decided from the config alone (N20, N23): the instance type, the
 * data volume's type and throughput, the Debian image. Pure data and arithmetic, so the rules are
 * unit-tested without CDK and every rejection can point at the YAML line it comes from
 * (docs/adr/0012).
 */

export interface InstanceTypeInfo {
  readonly name: string;
  readonly arch: 'arm64' | 'amd64';
  readonly vcpus: number;
  readonly memoryGiB: number;
  /** Baseline (sustained) network bandwidth, not the "up to" burst figure. */
  readonly baselineMbps: number;
  /** On-demand Linux, us-east-1, from the price table (lib/cost/prices.ts), for ordering and the cost table only. */
  readonly usdPerHour: number;
  /** t-class: CPU credits; never chosen automatically. */
  readonly burstable?: true;
  /** Commercial regions that do not offer the type. */
  readonly missingIn: readonly string[];
}

const US_EAST_1: Readonly<Record<string, number>> = AWS_PRICES.regions['us-east-1'].instanceUsdPerHour;
const t = (name: string, arch: 'arm64' | 'amd64', vcpus: number, memoryGiB: number, baselineMbps: number, missingIn: readonly string[] = [], burstable?: true): InstanceTypeInfo => ({
  name, arch, vcpus, memoryGiB, baselineMbps, usdPerHour: US_EAST_1[name], missingIn, ...(burstable ? { burstable } : {}),
});

const NO_M7G = ['ca-west-1', 'eu-south-1'];
const NO_C6GN = ['eu-central-2', 'eu-south-2', 'ap-southeast-4', 'ap-south-2', 'me-central-1', 'af-south-1'];
const NO_C7G = ['ap-southeast-4', 'me-central-1'];
const NO_C7GN = [
  'us-west-1', 'ca-central-1', 'ca-west-1', 'mx-central-1', 'sa-east-1', 'eu-west-3', 'eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1', 'eu-south-2',
  'ap-northeast-2', 'ap-northeast-3', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-7', 'ap-south-1',
  'ap-south-2', 'ap-east-1', 'ap-east-2', 'me-south-1', 'me-central-1', 'af-south-1', 'il-central-1',
];

/**
 * Types whose sustained bandwidth we know. Baselines: aws/karpenter-provider-aws
 * zz_generated.bandwidth.go; prices: lib/cost/prices.ts; regions: cfn-lint's data as bundled in aws-cdk-lib (a test re-checks them).
 */
export const INSTANCE_TYPES: readonly InstanceTypeInfo[] = [
  t('t4g.medium', 'arm64', 2, 4, 256, [], true),
  t('t4g.large', 'arm64', 2, 8, 512, [], true),
  t('m6g.large', 'arm64', 2, 8, 750),
  t('c7g.large', 'arm64', 2, 4, 937, NO_C7G),
  t('m7g.large', 'arm64', 2, 8, 937, NO_M7G),
  t('c6gn.large', 'arm64', 2, 4, 3000, NO_C6GN),
  t('c7gn.large', 'arm64', 2, 4, 6250, NO_C7GN),
  t('c6g.xlarge', 'arm64', 4, 8, 1250),
  t('c7g.xlarge', 'arm64', 4, 8, 1876, NO_C7G),
  t('m6g.xlarge', 'arm64', 4, 16, 1250),
  t('m7g.xlarge', 'arm64', 4, 16, 1876, NO_M7G),
  t('c6gn.xlarge', 'arm64', 4, 8, 6300, NO_C6GN),
  t('c7gn.xlarge', 'arm64', 4, 8, 12500, NO_C7GN),
  t('m7g.2xlarge', 'arm64', 8, 32, 3750, NO_M7G),
  t('t3.medium', 'amd64', 2, 4, 256, [], true),
  t('t3.large', 'amd64', 2, 8, 512, [], true),
  t('c7i.large', 'amd64', 2, 4, 781, ['me-south-1']),
  t('m7i.large', 'amd64', 2, 8, 781, ['ca-west-1', 'me-south-1']),
  t('c6in.large', 'amd64', 2, 4, 3125),
  t('m7i.xlarge', 'amd64', 4, 16, 1562, ['ca-west-1', 'me-south-1']),
];

/**
 * The automatic choice, in order: Graviton, never burstable. m7g.large (8 GiB: RAM is a mirror's
 * page cache) up to its 937 Mbit/s; beyond, c6gn.large sustains 3 Gbit/s for $3.50 a month
 * more. The Graviton2 types stand in where the newer ones are missing; the xlarge types hold
 * more Apache workers. c7gn is left out: in 2026 most regions lack it.
 */
export const AUTO_INSTANCE_TYPES = ['m7g.large', 'm6g.large', 'c6gn.large', 'c6g.xlarge', 'm7g.xlarge', 'm6g.xlarge', 'c6gn.xlarge', 'm7g.2xlarge'] as const;

/** An internet gateway carries at most 5 Gbit/s for instances with fewer than 32 vCPUs. */
export const IGW_CAP_MBPS = 5000;

/** Debian's own public SSM parameters for the current Debian 12 AMI (pricing.md §1.7). */
export const debianImageParameter = (arch: 'arm64' | 'amd64') => `/aws/service/debian/release/12/latest/${arch}`;

export const AWS_DEFAULTS = {
  instanceType: 'auto',
  volumeType: 'auto',
  sshCidrs: [] as readonly string[],
  rootVolumeGiB: 20,
} as const;

/** gp3 and st1 figures (pricing.md §1.3). */
export const EBS = {
  maxSizeGiB: 16384,
  gp3IncludedMiBps: 125,
  gp3MaxMiBps: 1000,
  st1MinSizeGiB: 125,
  st1BaselineMiBpsPerTiB: 40,
  st1MaxMiBps: 500,
  /** Below this st1 is not chosen automatically: small trees are metadata-heavy, st1 is slow at random reads. */
  st1AutoMinSizeGiB: 2048,
} as const;

export interface AwsNodeSpec {
  readonly instanceType: InstanceTypeInfo;
  readonly imageParameter: string;
  readonly rootVolumeGiB: number;
  readonly dataVolume: { readonly type: 'gp3' | 'st1'; readonly sizeGiB: number; readonly throughputMiBps?: number };
}

/** Memory a node needs: 1 GiB for the system, rsync, certbot and the agents, plus 2 MiB per Apache worker. */
export const memoryNeedGiB = (maxRequestWorkers: number) => 1 + (maxRequestWorkers * 2) / 1024;

/** What an instance can send to the internet, sustained. */
export const internetMbps = (i: InstanceTypeInfo) => (i.vcpus < 32 ? Math.min(i.baselineMbps, IGW_CAP_MBPS) : i.baselineMbps);

/** The read throughput that keeps the pipe full from a cold cache, in MiB/s. */
export const neededMiBps = (bandwidthMbps: number) => (bandwidthMbps * 1e6) / 8 / 2 ** 20;

export const st1BaselineMiBps = (sizeGiB: number) => Math.min(EBS.st1MaxMiBps, (EBS.st1BaselineMiBpsPerTiB * sizeGiB) / 1024);

/** Whether the type exists in the config's region (unknown region: assume it does). */
export const offeredIn = (i: InstanceTypeInfo, region?: string) => region === undefined || !i.missingIn.includes(region);

const fits = (i: InstanceTypeInfo, c: NodeConfig) =>
  internetMbps(i) >= c.bandwidthMbps && i.memoryGiB >= memoryNeedGiB(c.http.maxRequestWorkers) && offeredIn(i, c.aws.region);

/** The instance type: the override, or the first automatic candidate that sustains the bandwidth, holds the workers and exists in the region. */
export function chooseInstanceType(c: NodeConfig): InstanceTypeInfo | undefined {
  if (c.aws.instanceType !== 'auto') return INSTANCE_TYPES.find((i) => i.name === c.aws.instanceType);
  return AUTO_INSTANCE_TYPES.map((n) => INSTANCE_TYPES.find((i) => i.name === n)!).find((i) => fits(i, c));
}

/**
 * The data volume: st1 ($0.045/GB-month) when it is large (2 TiB or more) and its baseline alone
 * streams the bandwidth asked; otherwise gp3 ($0.08), with throughput raised above the included
 * 125 MiB/s only when the bandwidth needs it.
 */
export function chooseDataVolume(c: NodeConfig): AwsNodeSpec['dataVolume'] {
  const size = c.storage.sizeGiB;
  const need = neededMiBps(c.bandwidthMbps);
  const st1Ok = size >= EBS.st1MinSizeGiB && st1BaselineMiBps(size) >= need;
  const type = c.aws.volumeType === 'auto' ? (st1Ok && size >= EBS.st1AutoMinSizeGiB ? 'st1' : 'gp3') : c.aws.volumeType;
  if (type === 'st1') return { type, sizeGiB: size };
  const throughput = Math.min(EBS.gp3MaxMiBps, Math.ceil(need));
  return { type, sizeGiB: size, ...(throughput > EBS.gp3IncludedMiBps ? { throughputMiBps: throughput } : {}) };
}

/** What an AWS host admits besides its role's ports: SSH from the admin networks, when listed (N22). */
export function awsAdminIngress(a: Pick<NodeConfig['aws'], 'sshCidrs'>, field: readonly string[] = ['aws']): IngressRule[] {
  return a.sshCidrs.length > 0 ? [listedRule(22, 'admin', { field: [...field, 'sshCidrs'], values: a.sshCidrs, hint: 'leave sshCidrs empty and use SSM Session Manager' }, 'SSH from admin addresses (N22)')] : [];
}

/**
 * Everything wrong with a config for AWS, as loader problems (FILE:LINE:COL once formatted).
 * `input` says what the user wrote, so a computed value is shown as computed.
 */
export function checkAws(c: NodeConfig, input?: MirrorConfigInput): Problem[] {
  const problems: Problem[] = [];
  const need = memoryNeedGiB(c.http.maxRequestWorkers);
  const instance = chooseInstanceType(c);
  if (c.aws.instanceType !== 'auto') {
    const at = ['aws', 'instanceType'];
    if (!instance) {
      const guess = didYouMean(c.aws.instanceType, INSTANCE_TYPES.map((i) => i.name));
      problems.push({
        path: at,
        allowed: `${guess ? `did you mean "${guess}"? ` : ''}a type whose sustained bandwidth mirrorfleet knows (N23): ${INSTANCE_TYPES.map((i) => i.name).join(', ')}, or "auto"`,
      });
    } else if (internetMbps(instance) < c.bandwidthMbps) {
      problems.push({
        path: at,
        allowed: `a type that sustains bandwidthMbps ${c.bandwidthMbps} (N23): ${instance.name}'s baseline is ${internetMbps(instance)} Mbit/s ("up to" figures are bursts); "auto" picks ${autoName(c)}`,
      });
    } else if (!offeredIn(instance, c.aws.region)) {
      problems.push({ path: at, allowed: `a type offered in aws.region ${c.aws.region}: ${instance.name} is not (cfn-lint's region data); "auto" picks ${autoName(c)}` });
    } else if (instance.memoryGiB < need) {
      problems.push({
        path: at,
        allowed: `a type with at least ${need.toFixed(1)} GiB of memory for http.maxRequestWorkers ${c.http.maxRequestWorkers} (1 GiB + 2 MiB per worker): ${instance.name} has ${instance.memoryGiB} GiB; "auto" picks ${autoName(c)}`,
      });
    }
  } else if (!instance) {
    // Only bandwidth can rule out every automatic type: 4000 workers (the schema's maximum) fit in 16 GiB.
    const offered = AUTO_INSTANCE_TYPES.map((n) => INSTANCE_TYPES.find((i) => i.name === n)!).filter((i) => offeredIn(i, c.aws.region));
    const fastest = Math.max(...offered.map(internetMbps));
    problems.push({
      path: ['bandwidthMbps'],
      allowed:
        fastest >= IGW_CAP_MBPS
          ? `at most ${fastest} on AWS: an internet gateway carries at most ${IGW_CAP_MBPS} Mbit/s for instances with fewer than 32 vCPUs (N23)`
          : `at most ${fastest} with the automatic types offered in aws.region ${c.aws.region}, or an aws.instanceType from the catalog that sustains it (N23)`,
    });
  }

  const size = c.storage.sizeGiB;
  const sizeWritten = typeof input?.storage?.sizeGiB === 'number';
  const sizeShown = sizeWritten ? undefined : `${size} (computed from the preset)`;
  if (size > EBS.maxSizeGiB) {
    problems.push({ path: ['storage', 'sizeGiB'], shown: sizeShown, allowed: `at most ${EBS.maxSizeGiB} on AWS: the largest gp3 or st1 volume` });
  }
  if (c.aws.volumeType === 'st1') {
    const at = ['aws', 'volumeType'];
    const needMiBps = neededMiBps(c.bandwidthMbps);
    if (size < EBS.st1MinSizeGiB) {
      problems.push({ path: at, allowed: `gp3 or "auto": st1 volumes start at ${EBS.st1MinSizeGiB} GiB and storage.sizeGiB is ${size}` });
    } else if (st1BaselineMiBps(size) < needMiBps) {
      const minSize = Math.ceil((needMiBps * 1024) / EBS.st1BaselineMiBpsPerTiB);
      problems.push({
        path: at,
        allowed: `gp3 or "auto": st1 at ${size} GiB streams ${st1BaselineMiBps(size).toFixed(1)} MiB/s sustained (40 MiB/s per TiB), below the ${needMiBps.toFixed(1)} MiB/s that bandwidthMbps ${c.bandwidthMbps} needs; st1 fits from ${minSize} GiB`,
      });
    }
  }

  problems.push(...checkIngress(awsAdminIngress(c.aws)));
  const zone = c.aws.hostedZone;
  if (zone && !(c.hostname === zone.name || c.hostname.endsWith(`.${zone.name}`))) {
    problems.push({ path: ['aws', 'hostedZone', 'name'], allowed: `the zone that holds hostname ${c.hostname}, such as ${c.hostname.split('.').slice(1).join('.')}` });
  }
  return problems;
}

/** The node's AWS make-up. Throws when the config breaks an AWS rule (the loader reports them first, with positions). */
export function awsNodeSpec(c: NodeConfig): AwsNodeSpec {
  const problems = checkAws(c);
  const instanceType = chooseInstanceType(c);
  if (problems.length > 0 || !instanceType) {
    throw new Error(`mirror node ${c.hostname} cannot run on AWS:\n${problems.map((p) => `${formatPath(p.path)}: ${p.allowed}`).join('\n')}`);
  }
  return {
    instanceType,
    imageParameter: debianImageParameter(instanceType.arch),
    rootVolumeGiB: AWS_DEFAULTS.rootVolumeGiB,
    dataVolume: chooseDataVolume(c),
  };
}

function autoName(c: NodeConfig): string {
  return chooseInstanceType({ ...c, aws: { ...c.aws, instanceType: 'auto' } })?.name ?? 'nothing (see bandwidthMbps)';
}
