import { CheckReport, CheckResult } from './types';

/*
 * The checker's output: one line per check (what it checked, then what it saw or why it did not
 * look), a required check's failure in capitals, and a last line that says whether the mirror
 * meets its preset. `--json` prints the report itself.
 */

const MARK: Record<CheckResult['status'], [string, string]> = {
  pass: ['pass', 'pass'],
  fail: ['FAIL', 'fail'],
  skipped: ['SKIP', 'skip'],
};

export function formatCheckLine(r: CheckResult): string {
  const [requiredMark, optionalMark] = MARK[r.status];
  return `${(r.required ? requiredMark : optionalMark).padEnd(4)}  ${r.id.padEnd(15)}  ${r.title}${r.required ? '' : ' (recommended)'}: ${r.detail}`;
}

export function formatReport(report: CheckReport): string {
  const lines = [`mirrorfleet check ${report.target} --preset ${report.preset} (${report.addresses.join(', ')})`, ...report.results.map(formatCheckLine)];
  const required = report.results.filter((r) => r.required);
  const count = (s: CheckResult['status']) => required.filter((r) => r.status === s).length;
  const t = report.traffic;
  const recommended = report.results.filter((r) => !r.required && r.status === 'fail').length;
  lines.push(
    `${report.ok ? 'meets' : 'does not meet'} the ${report.preset} prerequisites: ${count('pass')} of ${required.length} required checks pass` +
      `${count('fail') ? `, ${count('fail')} fail` : ''}${count('skipped') ? `, ${count('skipped')} not seen` : ''}` +
      `${recommended ? `; ${recommended} recommended check${recommended === 1 ? '' : 's'} fail${recommended === 1 ? 's' : ''}` : ''}` +
      ` (${t.connections} connections, ${t.seconds} s, to ${t.peers.join(', ') || 'nobody'})`,
  );
  return `${lines.join('\n')}\n`;
}

/** Why each required check that did not pass fails the run (for a --json reader and the tests). */
export const blocking = (report: CheckReport) => report.results.filter((r) => r.required && r.status !== 'pass');
