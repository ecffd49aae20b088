/*
 * The cost arithmetic (lib/cost) against figures computed by hand from the price table
 * (pricing.md §1.4, §3.1, §3.2), and the alarm count it prices against the synthesized stack.
 */
import { awsBill, cloudWatchCounts, egressUsd } from '../../lib/cost/aws';
import { total } from '../../lib/cost/bill';
import { hcloudBill } from '../../lib/cost/hcloud';
import { costReport, trafficShare } from '../../lib/cost/report';
import { costWarnings, trafficAtFullRateTB } from '../../lib/cost/warnings';
import { awsExampleConfig, resourcesOf, synthNode } from '../aws/support';
import { hcloudConfig } from '../hcloud/helpers';
import { EXAMPLES, exampleConfig } from '../support/fixtures';

const cents = (x: number) => Math.round(x * 100) / 100;

describe('AWS egress through the tiers', () => {
  it.each([
    [0, 0, '0 (within the 100 GB free)'],
    [100, 0, '0 (within the 100 GB free)'],
    [1124, 92.16, '(1,124 − 100 free) × 0.09'], // 1,024 billable GB × 0.09
    [10_240, 912.6, '(10,240 − 100 free) × 0.09'], // pricing.md §3.1
    [51_200, 4394.2, '(10,240 − 100 free) × 0.09 + 40,960 × 0.085'], // pricing.md §3.1: 912.60 + 3,481.60
    [102_400, 7978.2, '(10,240 − 100 free) × 0.09 + 40,960 × 0.085 + 51,200 × 0.07'], // + 3,584.00
    [204_800, 14_122.2, '(10,240 − 100 free) × 0.09 + 40,960 × 0.085 + 102,400 × 0.07 + 51,200 × 0.05'], // 912.60 + 3,481.60 + 7,168 + 2,560
  ])('%d GB cost $%d: %s', (gb, usd, arithmetic) => {
    const e = egressUsd(gb);
    expect(cents(e.amount)).toBe(usd);
    expect(e.arithmetic).toBe(arithmetic);
  });
});

describe('AWS bill of a node', () => {
  it('examples/xcp-ng.yaml at 10 TB: c6gn.large, 90 GB gp3, 20 GB root, one IPv4, egress, 7 metrics, 6 alarms', () => {
    const b = awsBill(awsExampleConfig('xcp-ng'), 10, 'us-east-1');
    expect(b.lines.map((l) => [l.item, l.arithmetic, cents(l.amount)])).toEqual([
      ['c6gn.large', '0.0864 × 730 h', 63.07],
      ['Data volume, gp3 90 GB', '90 × 0.08', 7.2],
      ['Root volume, gp3 20 GB', '20 × 0.08', 1.6],
      ['Public IPv4 (the Elastic IP)', '0.005 × 730 h', 3.65],
      ['Egress, 10 TB = 10,240 GB', '(10,240 − 100 free) × 0.09', 912.6],
      ['Custom metrics: 3 per tree + 2 disks + memory + certificate', '7 × 0.30', 2.1],
      ['Alarms', '6 × 0.10', 0.6],
    ]);
    // 63.072 + 7.2 + 1.6 + 3.65 + 912.6 + 2.1 + 0.6
    expect(cents(total(b))).toBe(990.82);
    expect(trafficShare(b)).toBe(92);
  });

  it('prices Frankfurt storage at $0.0952 and says where it borrowed us-east-1 prices', () => {
    const b = awsBill(awsExampleConfig('fedora'), 100, 'eu-central-1');
    expect(cents(b.lines.find((l) => l.item.startsWith('Data volume'))!.amount)).toBe(cents(1910 * 0.0952));
    expect(b.notes).toContain('c6gn.large: no eu-central-1 price in the table, us-east-1\'s is shown (Frankfurt was 14-20 % dearer for the types priced there)');
  });

  it('a region the table does not price gets us-east-1 prices and a note', () => {
    const b = awsBill(awsExampleConfig('gentoo'), 1, 'ap-south-1');
    expect(b.title).toBe('AWS ap-south-1');
    expect(b.notes[0]).toBe('no ap-south-1 prices in the table: us-east-1\'s are shown');
  });

  it('counts the alarms the stack really creates', () => {
    for (const e of EXAMPLES) {
      const c = awsExampleConfig(e);
      const { template } = synthNode(c);
      expect(resourcesOf(template, 'AWS::CloudWatch::Alarm')).toHaveLength(cloudWatchCounts(c).alarms);
    }
  });
});

describe('Hetzner bill of a node (pricing.md §3.2 arithmetic)', () => {
  it.each([
    ['fedora', 10, 129.24], // 19.49 + 0.50 + 1,910 × 0.0572 (109.252) + 0
    ['fedora', 50, 159.24], // + (50 − 20) × 1.00
    ['xcp-ng', 10, 25.14], // 19.49 + 0.50 + 90 × 0.0572 (5.148)
    ['gentoo', 50, 114.63], // 19.49 + 0.50 + 1,130 × 0.0572 (64.636) + 30
    ['gentoo', 100, 164.63], // + 80
  ] as const)('examples/%s.yaml at %d TB: €%d', (example, tb, eur) => {
    expect(cents(total(hcloudBill(exampleConfig(example), tb)))).toBe(eur);
  });

  it('Singapore: about 1 TB included, €7.40 per further TB', () => {
    const b = hcloudBill(hcloudConfig('xcp-ng', { 'hcloud.location': 'sin' }), 11);
    expect(b.lines.find((l) => l.kind === 'traffic')).toMatchObject({ arithmetic: '(11 − 1) × 7.40', amount: 74 });
  });
});

describe('the side-by-side report', () => {
  it('puts AWS regions and Hetzner in columns and says plainly that egress dominates', () => {
    const r = costReport(exampleConfig('xcp-ng'), 10);
    expect(r.bills.map((b) => b.title)).toEqual(['AWS us-east-1', 'AWS eu-central-1', 'Hetzner fsn1']);
    const lines = r.text.split('\n');
    expect(lines.find((l) => l.startsWith('total'))).toBe('total        $990.82        $992.49           €25.14');
    expect(r.text).toContain('Egress is 92 % of the AWS us-east-1 bill ($912.60 of $990.82): on AWS a mirror pays mostly for the bytes it serves, not for the machine.');
    expect(r.text).toContain('On Hetzner fsn1, 10 TB is within the 20 TB included with the server.');
  });

  it('the config\'s own region comes first', () => {
    const r = costReport(hcloudConfig('xcp-ng', { 'aws.region': 'eu-west-1' }), 1);
    expect(r.bills.map((b) => b.title)).toEqual(['AWS eu-west-1', 'AWS us-east-1', 'AWS eu-central-1', 'Hetzner fsn1']);
  });
});

describe('validate\'s cost warning', () => {
  it('1000 Mbit/s all month is 298.8 TB (1e9 / 8 × 2,628,000 s / 2^40)', () => {
    expect(Math.round(trafficAtFullRateTB(1000) * 10) / 10).toBe(298.8);
  });

  it('warns for AWS at 1000 Mbit/s, not for Hetzner in the EU (€279 beyond the 20 TB)', () => {
    expect(costWarnings(exampleConfig('xcp-ng'))).toEqual([
      'warning: bandwidthMbps 1000: serving that rate all month moves 299 TB; on AWS us-east-1 its traffic alone would cost $19,179.17 a month (over $1,000); `mirrorfleet cost --config FILE --traffic TB` prices the traffic you expect',
    ]);
  });

  it('warns for Hetzner in Singapore (€7.40 per TB beyond about 1 TB)', () => {
    const w = costWarnings(hcloudConfig('xcp-ng', { 'hcloud.location': 'sin' }), ['hcloud']);
    expect(w).toHaveLength(1);
    expect(w[0]).toContain('on Hetzner sin its traffic alone would cost €2,203.')
  });

  it('checks only the clouds it is asked about', () => {
    expect(costWarnings(exampleConfig('xcp-ng'), ['hcloud'])).toEqual([]);
  });
});
