import { HCLOUD_LOCATIONS, hcloudNodeSpec } from '../config/hcloud';
import { NodeConfig } from '../config/node-config';
import { HCLOUD_PRICES, HcloudPricedLocation } from './prices';
import { Bill, BillLine, num } from './bill';

/*
 * What one mirror node costs on Hetzner Cloud a month (pricing.md §3.2): the server, the data
 * volume, the primary IPv4 (IPv6 is free) and the traffic beyond the location's allowance.
 * Monitoring is node_exporter on the node: nothing to pay.
 */

export function hcloudBill(c: NodeConfig, trafficTB: number): Bill {
  const spec = hcloudNodeSpec(c);
  const loc = HCLOUD_PRICES.traffic[spec.location as HcloudPricedLocation];
  const server = HCLOUD_PRICES.serverEurPerMonth[spec.serverType];
  const notes: string[] = [];
  if (server === undefined) notes.push(`${spec.serverType}: no price in the table; the total leaves the server out`);
  if (HCLOUD_LOCATIONS[spec.location].zone !== 'eu-central') notes.push(`${spec.location}: the table has EU server prices and about ${loc.includedTB} TB included traffic here (uncertain)`);
  const over = Math.max(0, trafficTB - loc.includedTB);
  const lines: BillLine[] = [
    { kind: 'server', item: spec.serverType, arithmetic: server === undefined ? 'unknown' : `${server.toFixed(2)} a month`, amount: server ?? 0 },
    { kind: 'storage', item: `Volume ${spec.volumeGB} GB`, arithmetic: `${spec.volumeGB} × ${HCLOUD_PRICES.volumeEurPerGBMonth}`, amount: spec.volumeGB * HCLOUD_PRICES.volumeEurPerGBMonth },
    { kind: 'addresses', item: 'Primary IPv4 (IPv6 free)', arithmetic: `${HCLOUD_PRICES.primaryIpv4EurPerMonth.toFixed(2)} a month`, amount: HCLOUD_PRICES.primaryIpv4EurPerMonth },
    {
      kind: 'traffic',
      item: `Traffic, ${num(trafficTB)} TB out (${loc.includedTB} TB included)`,
      arithmetic: over > 0 ? `(${num(trafficTB)} − ${loc.includedTB}) × ${loc.eurPerExtraTB.toFixed(2)}` : `0 (within the ${loc.includedTB} TB included)`,
      amount: over * loc.eurPerExtraTB,
    },
  ];
  return { cloud: 'hcloud', title: `Hetzner ${spec.location}`, currency: 'EUR', lines, notes: [...notes, 'prices for servers ordered after 2026-06-15; a server keeps the price of its order date'] };
}
