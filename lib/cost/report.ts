import { NodeConfig } from '../config/node-config';
import { awsBill, AWS_PRICED_REGIONS } from './aws';
import { Bill, BillLine, kindTotal, money, num, symbol, total } from './bill';
import { hcloudBill } from './hcloud';
import { AWS_PRICES, HCLOUD_PRICES } from './prices';

/*
 * `mirrorfleet cost`: the node's monthly bill on AWS (each region the table prices, the
 * config's own first) and on Hetzner Cloud, side by side, then each bill's arithmetic. The
 * sentence on egress is the point: on AWS a mirror pays for the bytes it serves.
 */

export interface CostReport {
  readonly bills: readonly Bill[];
  /** Clouds the config cannot be deployed to, and why. */
  readonly skipped: readonly string[];
  readonly text: string;
}

const KINDS: readonly [BillLine['kind'], string][] = [
  ['server', 'server'],
  ['storage', 'storage'],
  ['addresses', 'addresses'],
  ['traffic', 'traffic out'],
  ['monitoring', 'monitoring'],
];

export function awsRegionsFor(c: NodeConfig): string[] {
  return [...new Set([...(c.aws.region ? [c.aws.region] : []), ...AWS_PRICED_REGIONS])];
}

export function costReport(c: NodeConfig, trafficTB: number): CostReport {
  const bills: Bill[] = [];
  const skipped: string[] = [];
  const attempt = (what: string, make: () => Bill) => {
    try {
      bills.push(make());
    } catch (e) {
      skipped.push(`${what}: ${(e as Error).message.split('\n').slice(1).join('; ')}`);
    }
  };
  for (const region of awsRegionsFor(c)) attempt(`AWS ${region}`, () => awsBill(c, trafficTB, region));
  attempt('Hetzner Cloud', () => hcloudBill(c, trafficTB));
  return { bills, skipped, text: renderCost(c, trafficTB, bills, skipped) };
}

/** The share of a bill that is traffic, as a whole percentage. */
export const trafficShare = (b: Bill) => (total(b) > 0 ? Math.round((kindTotal(b, 'traffic') / total(b)) * 100) : 0);

function renderCost(c: NodeConfig, trafficTB: number, bills: readonly Bill[], skipped: readonly string[]): string {
  const out: string[] = [
    `Monthly cost of ${c.hostname} (${c.preset.title} mirror node) serving ${num(trafficTB)} TB a month`,
    `(1 TB = 1,024 GB, as both clouds count traffic; net of VAT; prices as of ${AWS_PRICES.asOf}, lib/cost/prices.ts)`,
    '',
  ];
  const cell = (b: Bill, amount: number) => `${symbol(b)}${money(amount)}`;
  const rows: string[][] = [
    ['', ...bills.map((b) => b.title)],
    ...KINDS.map(([kind, label]) => [label, ...bills.map((b) => cell(b, kindTotal(b, kind)))]),
    ['total', ...bills.map((b) => cell(b, total(b)))],
  ];
  out.push(...table(rows), '');
  const aws = bills.find((b) => b.cloud === 'aws');
  const hz = bills.find((b) => b.cloud === 'hcloud');
  if (aws) {
    const share = trafficShare(aws);
    out.push(
      share >= 50
        ? `Egress is ${share} % of the ${aws.title} bill (${cell(aws, kindTotal(aws, 'traffic'))} of ${cell(aws, total(aws))}): on AWS a mirror pays mostly for the bytes it serves, not for the machine.`
        : `Egress is ${share} % of the ${aws.title} bill at this traffic; it grows by about $90 for every further TB.`,
    );
  }
  if (hz) {
    const included = HCLOUD_PRICES.traffic[hz.title.replace('Hetzner ', '') as keyof typeof HCLOUD_PRICES.traffic].includedTB;
    out.push(
      trafficTB <= included
        ? `On ${hz.title}, ${num(trafficTB)} TB is within the ${included} TB included with the server.`
        : `On ${hz.title}, traffic beyond the ${included} TB included is ${trafficShare(hz)} % of the bill.`,
    );
  }
  for (const s of skipped) out.push(`Not priced: ${s}`);
  for (const b of bills) {
    out.push('', `${b.title} (${b.currency} a month)`);
    out.push(...table([...b.lines.map((l) => [`  ${l.item}`, l.arithmetic, money(l.amount)]), ['  total', '', money(total(b))]], [false, false, true]));
    for (const n of b.notes) out.push(`  note: ${n}`);
  }
  out.push('', 'Sources and dates: lib/cost/prices.ts (from pricing.md; verify a figure before you rely on it).');
  return `${out.join('\n')}\n`;
}

function widths(rows: readonly (readonly string[])[]): number[] {
  return rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i].length))) ?? [];
}

/** Left-aligned columns (right-aligned where `right` says), two spaces apart. */
function table(rows: readonly (readonly string[])[], right: readonly boolean[] = []): string[] {
  const w = widths(rows);
  return rows.map((r) => r.map((c, i) => (right[i] ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd());
}
