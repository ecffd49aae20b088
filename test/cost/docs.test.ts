/*
 * The cost tables of the docs are the price table's arithmetic (lib/cost), not a second copy:
 * docs/aws.md's bill, docs/hetzner.md's rows and docs/onboarding.md's closing table are held
 * against the bills computed here.
 */
import { awsBill, egressUsd } from '../../lib/cost/aws';
import { money, total } from '../../lib/cost/bill';
import { hcloudBill } from '../../lib/cost/hcloud';
import { HCLOUD_PRICES } from '../../lib/cost/prices';
import { awsExampleConfig } from '../aws/support';
import { EXAMPLES, docSection, exampleConfig } from '../support/fixtures';

describe('docs/aws.md: What it costs', () => {
  const doc = docSection('docs/aws.md', 'What it costs');
  const bill = awsBill(awsExampleConfig('xcp-ng'), 10, 'us-east-1');

  it.each(bill.lines.map((l) => [l.item, l]))('%s: a row of the bill', (_, l) => {
    expect(doc).toContain(`| ${l.item} | ${l.arithmetic} | ${money(l.amount)} |`);
  });

  it('the total, the egress share and the 50 TB egress', () => {
    expect(doc).toContain(`| **Total** | | **≈ ${money(total(bill))}** |`);
    expect(doc).toContain(`Egress is ${Math.round((bill.lines.find((l) => l.kind === 'traffic')!.amount / total(bill)) * 100)} % of it`);
    expect(doc).toContain(`$${money(egressUsd(50 * 1024).amount)}`);
  });
});

describe('docs/hetzner.md: What it costs per month', () => {
  const doc = docSection('docs/hetzner.md', 'What it costs per month');

  it.each(EXAMPLES)('the row of examples/%s.yaml', (example) => {
    const c = exampleConfig(example);
    const [b10, b50] = [hcloudBill(c, 10), hcloudBill(c, 50)];
    const server = b10.lines.find((l) => l.kind === 'server')!;
    const volume = b10.lines.find((l) => l.kind === 'storage')!;
    const row = `| \`examples/${example}.yaml\`: ${server.item}, ${c.storage.sizeGiB} GB | €${money(server.amount)} | €${money(HCLOUD_PRICES.primaryIpv4EurPerMonth)} | ${volume.arithmetic} = €${money(volume.amount)} | **€${money(total(b10))}** | **€${money(total(b50))}** |`;
    expect(doc).toContain(row);
  });
});
