/**
 * The Prometheus rules for a project's own hosts (assets/prometheus/mirrorfleet-project-rules.yml):
 * the AWS alarms' thresholds (lib/host/metrics.ts), checked and unit-tested by the real promtool.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { ALL_TEXTFILE_METRICS, THRESHOLDS } from '../../lib/host/metrics';
import { REPO, tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';

const DIR = path.join(REPO, 'assets', 'prometheus');
const RULES = path.join(DIR, 'mirrorfleet-project-rules.yml');
const TESTS = path.join(DIR, 'mirrorfleet-project-rules.test.yml');
const rules = parse(fs.readFileSync(RULES, 'utf8')).groups.flatMap((g: { rules: unknown[] }) => g.rules) as { alert: string; expr: string; for?: string }[];
const rule = (alert: string) => rules.find((r) => r.alert === alert)!;

describe('the project rules use the AWS alarms\' thresholds and the table\'s names', () => {
  it('mirrors down for 15 minutes, Redis at 80 %, GeoIP at 14 days, 10 % fallbacks', () => {
    expect(rule('MirrorfleetMirrorsDown').for).toBe(`${THRESHOLDS.mirrorsDownMinutes}m`);
    expect(rule('MirrorfleetRedisMemory').expr).toContain(`> ${THRESHOLDS.redisMemoryPercent / 100}`);
    expect(rule('MirrorfleetGeoipStale').expr).toContain(`> ${THRESHOLDS.geoipAgeDays} * 86400`);
    expect(rule('MirrorfleetFallbackRate').expr).toContain(`> ${THRESHOLDS.fallbackPercent / 100}`);
  });

  it('reads only metrics the hosts write, and every alert is unit-tested', () => {
    const used = [...new Set(rules.flatMap((r) => [...r.expr.matchAll(/\bmirrorfleet_[a-z_]+\b/g)].map((m) => m[0])))];
    expect(used.filter((n) => !ALL_TEXTFILE_METRICS.includes(n as never))).toEqual([]);
    const tested = new Set(parse(fs.readFileSync(TESTS, 'utf8')).tests.flatMap((t: { alert_rule_test: { alertname: string }[] }) => t.alert_rule_test.map((a) => a.alertname)));
    expect(rules.map((r) => r.alert).filter((a) => !tested.has(a))).toEqual([]);
  });
});

describeWith(['promtool'], 'promtool on the project rules', () => {
  it('accepts them and passes their unit tests', () => {
    expect(run('promtool', ['check', 'rules', RULES]).stdout).toContain('SUCCESS: 6 rules found');
    const r = run('promtool', ['test', 'rules', TESTS]);
    expect(`${r.stdout}${r.stderr}`).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('the tests can fail: a moved threshold is caught', () => {
    const dir = tmpDir('promtool-project');
    try {
      fs.copyFileSync(TESTS, path.join(dir, 'mirrorfleet-project-rules.test.yml'));
      fs.writeFileSync(path.join(dir, 'mirrorfleet-project-rules.yml'), fs.readFileSync(RULES, 'utf8').replace('> 0.8', '> 0.95'));
      expect(run('promtool', ['test', 'rules', path.join(dir, 'mirrorfleet-project-rules.test.yml')]).status).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
