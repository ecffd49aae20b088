import { InstanceTypeInfo, awsNodeSpec } from '../config/aws';
import { NodeConfig } from '../config/node-config';
import { AWS_PRICES, AwsPricedRegion, AwsRegionPrices, GB_PER_TB, HOURS_PER_MONTH } from './prices';
import { Bill, BillLine, num } from './bill';

/*
 * What one mirror node costs on AWS a month (pricing.md §3.1): the instance mirrorfleet picks,
 * its two gp3/st1 volumes, the Elastic IP, egress through the tiers, and the CloudWatch metrics
 * and alarms the stack creates. IPv6, SNS mails and the S3 bundle cost nothing noticeable.
 */

export const AWS_PRICED_REGIONS = Object.keys(AWS_PRICES.regions) as AwsPricedRegion[];
const US_EAST_1 = AWS_PRICES.regions['us-east-1'];

/** Metrics and alarms the stack creates (constructs/aws/host-alarms.ts, mirror-node.ts; a test counts them in the template). */
export function cloudWatchCounts(c: NodeConfig): { metrics: number; alarms: number } {
  const https = c.https.enabled ? 1 : 0;
  // Metrics: data and root disk, memory, certificate days; per tree sync age, success, hook failures.
  // Alarms: data disk warning and critical, root disk, certificate, EC2 status; per tree sync age.
  return { metrics: 3 + https + 3 * c.trees.length, alarms: 4 + https + c.trees.length };
}

/** Egress for `gb` GB in a month, through the tiers, after the free allowance; with its arithmetic. */
export function egressUsd(gb: number, p: AwsRegionPrices['egress'] = US_EAST_1.egress): { amount: number; arithmetic: string } {
  const parts: string[] = [];
  let amount = 0;
  let from = 0;
  for (const tier of p.tiers) {
    const inTier = Math.max(0, Math.min(gb, tier.upToGB) - from);
    if (inTier > 0) {
      // The free allowance comes off the first tier that has traffic.
      const free = from === 0 ? Math.min(p.freeGB, inTier) : 0;
      amount += (inTier - free) * tier.usdPerGB;
      parts.push(free > 0 ? `(${num(inTier)} − ${num(free)} free) × ${tier.usdPerGB}` : `${num(inTier)} × ${tier.usdPerGB}`);
    }
    from = tier.upToGB;
  }
  return { amount, arithmetic: gb <= p.freeGB ? `0 (within the ${p.freeGB} GB free)` : parts.join(' + ') };
}

/** The bill of the config's node in `region` (a priced region; else us-east-1's prices, said in the notes). */
export function awsBill(c: NodeConfig, trafficTB: number, region: string = c.aws.region ?? 'us-east-1'): Bill {
  const spec = awsNodeSpec(c);
  const priced = region in AWS_PRICES.regions;
  const p: AwsRegionPrices = priced ? AWS_PRICES.regions[region as AwsPricedRegion] : US_EAST_1;
  const notes: string[] = priced ? [] : [`no ${region} prices in the table: us-east-1's are shown`];
  const instance = instanceUsdPerHour(spec.instanceType, p, region, notes);
  const data = spec.dataVolume;
  const gb = trafficTB * GB_PER_TB;
  const egress = egressUsd(gb, p.egress);
  const cw = cloudWatchCounts(c);
  const lines: BillLine[] = [
    { kind: 'server', item: spec.instanceType.name, arithmetic: `${instance} × ${HOURS_PER_MONTH} h`, amount: instance * HOURS_PER_MONTH },
    { kind: 'storage', item: `Data volume, ${data.type} ${data.sizeGiB} GB`, arithmetic: `${data.sizeGiB} × ${p.ebsUsdPerGBMonth[data.type]}`, amount: data.sizeGiB * p.ebsUsdPerGBMonth[data.type] },
    ...(data.throughputMiBps
      ? [{ kind: 'storage' as const, item: `gp3 throughput above 125 MiB/s (${data.throughputMiBps} MiB/s)`, arithmetic: `${data.throughputMiBps - 125} × ${p.gp3ThroughputUsdPerMiBpsMonth}`, amount: (data.throughputMiBps - 125) * p.gp3ThroughputUsdPerMiBpsMonth }]
      : []),
    { kind: 'storage', item: `Root volume, gp3 ${spec.rootVolumeGiB} GB`, arithmetic: `${spec.rootVolumeGiB} × ${p.ebsUsdPerGBMonth.gp3}`, amount: spec.rootVolumeGiB * p.ebsUsdPerGBMonth.gp3 },
    { kind: 'addresses', item: 'Public IPv4 (the Elastic IP)', arithmetic: `${p.publicIpv4UsdPerHour} × ${HOURS_PER_MONTH} h`, amount: p.publicIpv4UsdPerHour * HOURS_PER_MONTH },
    { kind: 'traffic', item: `Egress, ${num(trafficTB)} TB = ${num(gb)} GB`, arithmetic: egress.arithmetic, amount: egress.amount },
    { kind: 'monitoring', item: `Custom metrics: 3 per tree + 2 disks + memory${c.https.enabled ? ' + certificate' : ''}`, arithmetic: `${cw.metrics} × ${p.cloudWatch.metricUsdPerMonth.toFixed(2)}`, amount: cw.metrics * p.cloudWatch.metricUsdPerMonth },
    { kind: 'monitoring', item: 'Alarms', arithmetic: `${cw.alarms} × ${p.cloudWatch.alarmUsdPerMonth.toFixed(2)}`, amount: cw.alarms * p.cloudWatch.alarmUsdPerMonth },
  ];
  return { cloud: 'aws', title: `AWS ${region}`, currency: 'USD', lines, notes: [...notes, ...p.uncertain.map((u) => `uncertain: ${u}`)] };
}

function instanceUsdPerHour(i: InstanceTypeInfo, p: AwsRegionPrices, region: string, notes: string[]): number {
  const own = p.instanceUsdPerHour[i.name];
  if (own !== undefined) return own;
  if (p !== US_EAST_1) notes.push(`${i.name}: no ${region} price in the table, us-east-1's is shown (Frankfurt was 14-20 % dearer for the types priced there)`);
  return i.usdPerHour;
}
