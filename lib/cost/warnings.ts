import { NodeConfig } from '../config/node-config';
import { awsBill } from './aws';
import { kindTotal, money, num } from './bill';
import { hcloudBill } from './hcloud';
import { GB_PER_TB, HOURS_PER_MONTH } from './prices';

/*
 * `validate`'s cost warning: bandwidthMbps is what the provider offers to serve, so it bounds
 * the traffic and with it the bill. When serving that rate all month would cost more than the
 * threshold in traffic alone, say so before the first invoice does (docs/adr/0051).
 */

/** A month's traffic bill above which a provider should decide knowingly (USD on AWS, EUR on Hetzner). */
export const TRAFFIC_BILL_WARNING = 1000;

/** TB (of 1,024 GB) a node moves in a month when it serves `mbps` the whole time. */
export const trafficAtFullRateTB = (mbps: number) => (mbps * 1e6 / 8) * HOURS_PER_MONTH * 3600 / 2 ** 30 / GB_PER_TB;

export type Cloud = 'aws' | 'hcloud';

/** One line per cloud whose traffic bill at the declared bandwidth passes the threshold. */
export function costWarnings(c: NodeConfig, clouds: readonly Cloud[] = ['aws', 'hcloud']): string[] {
  const tb = trafficAtFullRateTB(c.bandwidthMbps);
  const lead = `bandwidthMbps ${c.bandwidthMbps}: serving that rate all month moves ${num(Math.round(tb))} TB`;
  const advice = `\`mirrorfleet cost --config FILE --traffic TB\` prices the traffic you expect`;
  const out: string[] = [];
  for (const cloud of clouds) {
    try {
      const bill = cloud === 'aws' ? awsBill(c, tb) : hcloudBill(c, tb);
      const traffic = kindTotal(bill, 'traffic');
      if (traffic > TRAFFIC_BILL_WARNING) {
        const sym = bill.currency === 'USD' ? '$' : '€';
        out.push(`warning: ${lead}; on ${bill.title} its traffic alone would cost ${sym}${money(traffic)} a month (over ${sym}${num(TRAFFIC_BILL_WARNING)}); ${advice}`);
      }
    } catch {
      // A config that cannot run on this cloud gets its errors from the cloud's own rules.
    }
  }
  return out;
}
