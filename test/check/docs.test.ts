/*
 * docs/onboarding.md and the README's use case stay true to the code: every check is in the
 * table, the application shown is the golden one, the cost table is the price table's
 * arithmetic, and the README names the three commands and the page.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHECK_IDS } from '../../lib/check/types';
import { awsBill } from '../../lib/cost/aws';
import { money, total } from '../../lib/cost/bill';
import { hcloudBill } from '../../lib/cost/hcloud';
import { trafficShare } from '../../lib/cost/report';
import { EXAMPLES, REPO, docSection, exampleConfig } from '../support/fixtures';

const doc = fs.readFileSync(path.join(REPO, 'docs', 'onboarding.md'), 'utf8');

describe('docs/onboarding.md', () => {
  it('the checks table has every check, in the order the checker prints them', () => {
    const section = docSection('docs/onboarding.md', 'Checking a live mirror');
    const listed = section.split('\n').filter((l) => l.startsWith('| `')).flatMap((l) => [...l.split('|')[1].matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]));
    expect(listed).toEqual([...CHECK_IDS]);
  });

  it('shows the XCP-ng application as the golden file has it', () => {
    expect(doc).toContain(fs.readFileSync(path.join(REPO, 'test', 'golden-application', 'xcp-ng.aws.txt'), 'utf8').trimEnd());
  });

  it.each(EXAMPLES)('the cost row of examples/%s.yaml at 10 and 100 TB', (example) => {
    const c = exampleConfig(example);
    const a = [10, 100].map((tb) => awsBill(c, tb, 'us-east-1')).map((b) => `$${money(total(b))} (egress ${trafficShare(b)} %)`);
    const h = [10, 100].map((tb) => `€${money(total(hcloudBill(c, tb)))}`);
    expect(doc).toContain(`| \`examples/${example}.yaml\` | ${a[0]} | ${a[1]} | ${h[0]} | ${h[1]} |`);
  });
});

describe('README: From a deployed node to an approved mirror', () => {
  const section = docSection('README.md', 'From a deployed node to an approved mirror');
  it('names the three commands and the page with the details', () => {
    for (const c of ['mirrorfleet application --config', 'mirrorfleet check ', 'mirrorfleet cost --config']) expect(section).toContain(c);
    expect(section).toContain('[docs/onboarding.md](docs/onboarding.md)');
  });
});
