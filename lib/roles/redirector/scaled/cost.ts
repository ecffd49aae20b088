import { AWS_PRICES } from '../../../cost/prices';
import type { ScaledConfig } from '../../../project/redirector-scaled';

/*
 * What each redirector profile costs a month on AWS (us-east-1, on-demand), at a stated traffic
 * (docs/redirector-scaled.md#cost, README). What a machine costs comes from the project's price
 * table (lib/cost/prices.ts); the managed services only the scaled profile uses are dated here,
 * each with its source, until that table holds them. The docs' figures are computed from both,
 * not copied (test/scaled/docs.test.ts holds them together).
 */

const US_EAST = AWS_PRICES.regions['us-east-1'];

export const HOURS = 730;

export const REDIRECTOR_PRICES = {
  asOf: '2026-12-03',
  region: 'us-east-1',
  ec2UsdPerHour: { 'c6gn.large': US_EAST.instanceUsdPerHour['c6gn.large'] },
  gp3UsdPerGBMonth: US_EAST.ebsUsdPerGBMonth.gp3,
  publicIpv4UsdPerHour: US_EAST.publicIpv4UsdPerHour,
  fargate: { vcpuHour: 0.04048, gbHour: 0.004445 },
  alb: { hour: 0.0225, lcuHour: 0.008, newConnectionsPerLcu: 25, processedGBPerLcuHour: 1 },
  nat: { hour: 0.045, gb: 0.045 },
  valkeyNodeUsdPerHour: { 'cache.t4g.small': 0.0256, 'cache.t4g.medium': 0.052, 'cache.m7g.large': 0.1264, 'cache.r7g.large': 0.1752 } as Readonly<Record<string, number>>,
  efs: { standardGBMonth: 0.3, readGB: 0.03, writeGB: 0.06 },
  logs: { ingestGB: 0.5, storageGBMonth: 0.03 },
  cloudWatch: { metricMonth: US_EAST.cloudWatch.metricUsdPerMonth, alarmMonth: US_EAST.cloudWatch.alarmUsdPerMonth },
  // The redirects stay within the first tier (10 TB).
  egress: { freeGB: US_EAST.egress.freeGB, usdPerGB: US_EAST.egress.tiers[0].usdPerGB },
  sources: [
    { what: 'EC2 c6gn.large, gp3, public IPv4, egress, CloudWatch metrics and alarms', source: 'lib/cost/prices.ts, the project\'s price table (its own sources)', date: AWS_PRICES.asOf },
    { what: 'Fargate Linux/x86 vCPU-hour, GB-hour', source: 'factualminds.com "Amazon Fargate & ECS Task Pricing" (us-east-1)', date: '2026-06-17' },
    { what: 'ALB hour and LCU-hour; what an LCU holds', source: 'awsnegotiations.com "Elastic Load Balancer Cost"', date: '2026-05' },
    { what: 'NAT gateway hour and GB processed', source: 'egresscost.com/nat-gateway; cloudburn.io NAT gateway pricing', date: '2026-03' },
    { what: 'ElastiCache for Valkey node-hours', source: 'AWS Price List API figures in a public pricing table (index file id 70712899090, read 2026-10-02); Valkey = 0.8 × Redis OSS', date: '2026-10-02', uncertain: true },
    { what: 'EFS Standard storage, Elastic reads and writes', source: 'factualminds.com "Amazon EFS Pricing" (us-east-1)', date: '2026-06-13' },
    { what: 'CloudWatch Logs ingestion and storage', source: 'c3x.dev "CloudWatch Logs cost optimization" (us-east-1)', date: '2026-06' },
  ],
} as const;

/** The traffic a bill is computed for, and what it makes the redirector do. */
export interface Traffic {
  readonly label: string;
  readonly requestsPerMonth: number;
}

/** Assumptions of both bills, stated in the docs. */
export const ASSUMPTIONS = {
  /** A redirect: the 302 with its Location and Link headers. */
  responseBytes: 1000,
  /** One nginx access-log line in CloudWatch Logs. */
  logBytesPerRequest: 250,
  /** Each request on a new connection (HTTP clients fetch one file per connection): the ALB's LCU dimension that counts. */
  newConnectionPerRequest: 1,
  /** The tree: XCP-ng's 50 GiB and a year's 10 GiB of growth (lib/presets). */
  treeGB: 60,
  /** What the copy's syncs write in a month, and how many changed syncs each make mirrorbits walk it. */
  syncWrittenGBPerMonth: 20,
  changedSyncsPerMonth: 300,
  /** Files and directories in the tree: one walk is one metadata read of each (bench:scaled). */
  treeEntries: 25_000,
  /** Each scheduled sync and reconcile runs a minute (Fargate bills a minute at least). */
  taskMinutes: 1,
  /** mirrorbits scans each mirror's rsync listing every 30 minutes through the NAT gateways. */
  mirrors: 50,
  listingMB: 2,
} as const;

export interface BillLine { readonly what: string; readonly usd: number }
export interface Bill { readonly lines: readonly BillLine[]; readonly total: number }

const bill = (lines: BillLine[]): Bill => ({ lines, total: lines.reduce((s, l) => s + l.usd, 0) });
const P = REDIRECTOR_PRICES;
const A = ASSUMPTIONS;
const egress = (t: Traffic) => Math.max(0, (t.requestsPerMonth * A.responseBytes) / 1e9 - P.egress.freeGB) * P.egress.usdPerGB;
const logs = (t: Traffic) => ((t.requestsPerMonth * A.logBytesPerRequest) / 1e9) * (P.logs.ingestGB + P.logs.storageGBMonth * 3);

/** One machine (the default): the example's c6gn.large, its volumes and address, its logs and alarms. */
export function singleBill(t: Traffic): Bill {
  return bill([
    { what: 'EC2 c6gn.large', usd: P.ec2UsdPerHour['c6gn.large'] * HOURS },
    { what: 'gp3: 90 GB data, 20 GB root', usd: 110 * P.gp3UsdPerGBMonth },
    { what: 'public IPv4', usd: P.publicIpv4UsdPerHour * HOURS },
    { what: 'CloudWatch: 10 metrics, 10 alarms', usd: 10 * P.cloudWatch.metricMonth + 10 * P.cloudWatch.alarmMonth },
    { what: 'egress (redirects)', usd: egress(t) },
  ]);
}

/** The scaled profile with its config: tasks, load balancer, NAT gateways, Redis, EFS, logs, alarms. */
export function scaledBill(t: Traffic, s: ScaledConfig): Bill {
  const taskHour = (s.taskCpu / 1024) * P.fargate.vcpuHour + (s.taskMemoryMiB / 1024) * P.fargate.gbHour;
  const oneMinuteTask = ((0.5 * P.fargate.vcpuHour + 1 * P.fargate.gbHour) / 60) * A.taskMinutes;
  const scheduledRuns = (30 * 24 * 60) / 5 + 30 * 24 + 4;
  const perSecond = t.requestsPerMonth / (HOURS * 3600);
  const lcus = Math.max((perSecond * A.newConnectionPerRequest) / P.alb.newConnectionsPerLcu, (t.requestsPerMonth * A.responseBytes) / 1e9 / HOURS / P.alb.processedGBPerLcuHour);
  const natGB = (A.mirrors * 48 * 30 * A.listingMB) / 1000 + A.syncWrittenGBPerMonth;
  const node = P.valkeyNodeUsdPerHour[s.redisNodeType];
  if (node === undefined) throw new Error(`no price for ${s.redisNodeType} in lib/roles/redirector/scaled/cost.ts`);
  const walksGB = (A.changedSyncsPerMonth * A.treeEntries * 4096) / 1024 ** 3;
  return bill([
    { what: `Fargate: ${s.minTasks} service tasks (${s.taskCpu / 1024} vCPU, ${s.taskMemoryMiB / 1024} GB)`, usd: s.minTasks * taskHour * HOURS },
    { what: 'Fargate: scheduled sync, reconcile, GeoIP', usd: scheduledRuns * oneMinuteTask },
    { what: 'ALB: hours and LCUs', usd: (P.alb.hour + lcus * P.alb.lcuHour) * HOURS },
    { what: 'NAT gateways: 2, hours and data', usd: 2 * P.nat.hour * HOURS + natGB * P.nat.gb },
    { what: 'public IPv4: 2 NAT, 2 ALB', usd: 4 * P.publicIpv4UsdPerHour * HOURS },
    { what: `ElastiCache Valkey: 2 × ${s.redisNodeType}`, usd: 2 * node * HOURS },
    { what: 'EFS: the copy, its writes, the index walks', usd: A.treeGB * P.efs.standardGBMonth + A.syncWrittenGBPerMonth * P.efs.writeGB + walksGB * P.efs.readGB },
    { what: 'CloudWatch: access logs, 5 metrics, 7 alarms', usd: logs(t) + 5 * P.cloudWatch.metricMonth + 7 * P.cloudWatch.alarmMonth },
    { what: 'egress (redirects)', usd: egress(t) },
  ]);
}

/** The traffic the docs state: a project like XCP-ng's, and one like Jenkins' or VideoLAN's. */
export const STATED_TRAFFIC: readonly Traffic[] = [
  { label: '10 million redirects a month (about 4 a second)', requestsPerMonth: 10_000_000 },
  { label: '300 million redirects a month (about 115 a second)', requestsPerMonth: 300_000_000 },
];

const usd = (n: number) => `$${n.toFixed(2)}`;
const sum = (b: Bill, ...i: number[]) => i.reduce((s, k) => s + b.lines[k].usd, 0);

/** docs/redirector-scaled.md's cost table, row by row, for the stated traffic. */
export function costTableRows(s: ScaledConfig, traffic: readonly Traffic[] = STATED_TRAFFIC): string[] {
  const single = traffic.map(singleBill);
  const scaled = traffic.map((t) => scaledBill(t, s));
  const row = (label: string, values: string[]) => `| ${label} | ${values.join(' | ')} |`;
  return [
    row('single: EC2 c6gn.large', single.map((b) => usd(sum(b, 0)))),
    row('single: gp3 (90 GB data, 20 GB root), IPv4, CloudWatch', single.map((b) => usd(sum(b, 1, 2, 3)))),
    row('single: egress', single.map((b) => usd(sum(b, 4)))),
    row('**single, total**', single.map((b) => `**${usd(b.total)}**`)),
    row(`scaled: Fargate, ${s.minTasks} service tasks and the scheduled tasks`, scaled.map((b) => usd(sum(b, 0, 1)))),
    row('scaled: ALB', scaled.map((b) => usd(sum(b, 2)))),
    row('scaled: 2 NAT gateways and 4 public IPv4 addresses', scaled.map((b) => usd(sum(b, 3, 4)))),
    row(`scaled: ElastiCache, 2 × ${s.redisNodeType}`, scaled.map((b) => usd(sum(b, 5)))),
    row(`scaled: EFS (${ASSUMPTIONS.treeGB} GB, writes, walks)`, scaled.map((b) => usd(sum(b, 6)))),
    row('scaled: CloudWatch (access logs, metrics, alarms)', scaled.map((b) => usd(sum(b, 7)))),
    row('scaled: egress', scaled.map((b) => usd(sum(b, 8)))),
    row('**scaled, total**', scaled.map((b) => `**${usd(b.total)}**`)),
  ];
}
