import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadProjectFile } from '../../lib/project/project';
import { SCALED_DEFAULTS, scaledSchema } from '../../lib/project/redirector-scaled';
import { REDIRECTOR_PRICES, STATED_TRAFFIC, costTableRows, scaledBill, singleBill } from '../../lib/roles/redirector/scaled/cost';
import { REPO, docSection } from '../support/fixtures';
import { projectWith } from './support';

/* docs/redirector-scaled.md and the README's profiles table held to the code they describe. */
const doc = fs.readFileSync(path.join(REPO, 'docs', 'redirector-scaled.md'), 'utf8');
const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
const defaults = { ...SCALED_DEFAULTS, image: 'registry.example.org/infra/mirrorbits@sha256:' + '0'.repeat(64) };

describe('the scaled profile\'s documentation', () => {
  it('the cost table is the computed bill, line by line, for the stated traffic and prices', () => {
    const table = docSection('docs/redirector-scaled.md', 'Cost');
    for (const row of costTableRows(defaults)) expect(table).toContain(`${row}\n`);
    expect(table).toContain(`| Line | ${STATED_TRAFFIC.map((t) => t.label.replace(/ \(.*$/, '')).join(' | ')} |`);
    expect(table).toContain(`as of ${REDIRECTOR_PRICES.asOf}`);
  });

  it('the README\'s profiles table gives the same totals and the date', () => {
    const section = docSection('README.md', 'Run the redirector');
    const single = STATED_TRAFFIC.map((t) => `$${singleBill(t).total.toFixed(2)}`).join(' | ');
    const scaled = STATED_TRAFFIC.map((t) => `$${scaledBill(t, defaults).total.toFixed(2)}`).join(' | ');
    expect(section).toMatch(new RegExp(`^\\| \`single\` .* \\| ${single.replace(/\$/g, '\\$')} \\| `, 'm'));
    expect(section).toMatch(new RegExp(`^\\| \`scaled\` .* \\| ${scaled.replace(/\$/g, '\\$')} \\| `, 'm'));
    expect(section).toContain(`prices as of ${REDIRECTOR_PRICES.asOf}`);
    expect(readme).toContain('[docs/redirector-scaled.md](docs/redirector-scaled.md)');
  });

  it('the keys table names every scaled key with its default', () => {
    const keys = docSection('docs/redirector-scaled.md', 'The `scaled` keys');
    for (const key of Object.keys(scaledSchema.shape)) expect(keys).toMatch(new RegExp(`\`redirector\\.scaled\\.${key}\``));
    for (const [key, value] of Object.entries(SCALED_DEFAULTS)) {
      const row = keys.split('\n').find((l) => l.includes(`\`redirector.scaled.${key}\``))!;
      expect({ key, row: row.includes(`\`${value}\``) }).toEqual({ key, row: true });
    }
  });

  it('the block it shows is the switch, valid with the example project', () => {
    const block = /```yaml\n(redirector:\n[^`]+)```/.exec(doc)![1];
    const scaled = /  scaled:\n(    .*\n)+/.exec(block)![0];
    const file = projectWith((s) => s.replace('  profile: single\n', '  profile: scaled\n').replace(/  scaled:\n(    .*\n)+/, scaled));
    expect(loadProjectFile(file).redirector!.scaled!.image).toMatch(/@sha256:[0-9a-f]{64}$/);
  });

  it('names the ADRs it cites, which exist', () => {
    for (const m of doc.matchAll(/\(adr\/([^)]+)\)/g)) expect(fs.existsSync(path.join(REPO, 'docs', 'adr', m[1]))).toBe(true);
    expect([...doc.matchAll(/adr\/(006[5-9])-/g)].map((m) => m[1]).sort().filter((v, i, a) => a.indexOf(v) === i)).toEqual(['0065', '0066', '0067', '0068', '0069']);
  });
});
