/**
 * The Prometheus alert rules shipped for Hetzner nodes (assets/prometheus): the AWS alarms'
 * thresholds, checked and unit-tested by the real promtool on synthetic series.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { scheduleIntervalMinutes } from '../../lib/config/schedule';
import { THRESHOLDS as ALARMS, syncAgeAlarmSeconds } from '../../lib/host/metrics';
import { EXAMPLES, REPO, exampleConfig, tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';

const DIR = path.join(REPO, 'assets', 'prometheus');
const RULES = path.join(DIR, 'mirrorfleet-rules.yml');
const TESTS = path.join(DIR, 'mirrorfleet-rules.test.yml');
const rules = parse(fs.readFileSync(RULES, 'utf8')).groups.flatMap((g: { rules: unknown[] }) => g.rules) as { alert?: string; record?: string; expr: string; labels?: { severity: string }; annotations?: { summary: string } }[];
const expr = (alert: string) => rules.find((r) => r.alert === alert)!.expr.replace(/\s+/g, ' ').trim();

describe('the alert rules use the AWS alarms\' thresholds', () => {
  it('data volume: warn at 80 % used, critical at 90 %; root at 90 %', () => {
    expect(expr('MirrorfleetDataVolumeFilling')).toBe(`mirrorfleet:data_volume_avail:ratio < ${(100 - ALARMS.dataDiskWarningPercent) / 100}`);
    expect(expr('MirrorfleetDataVolumeFull')).toBe(`mirrorfleet:data_volume_avail:ratio < ${(100 - ALARMS.dataDiskCriticalPercent) / 100}`);
    expect(expr('MirrorfleetRootFilesystemFull')).toBe(`mirrorfleet:root_fs_avail:ratio < ${(100 - ALARMS.rootDiskPercent) / 100}`);
  });

  it('sync age: two intervals plus an hour (syncAgeAlarmSeconds)', () => {
    expect(expr('MirrorfleetSyncStale')).toContain('> 2 * mirrorfleet_sync_interval_seconds + 3600');
    for (const example of EXAMPLES) {
      const tree = exampleConfig(example).trees[0];
      expect(syncAgeAlarmSeconds(scheduleIntervalMinutes(tree.schedule))).toBe(2 * scheduleIntervalMinutes(tree.schedule) * 60 + 3600);
    }
  });

  it('certificate: 21 days left (and a critical step at 7)', () => {
    expect(expr('MirrorfleetCertificateExpiring')).toBe(`(mirrorfleet_cert_not_after_timestamp_seconds - time()) / 86400 < ${ALARMS.certDaysLeft}`);
    expect(expr('MirrorfleetCertificateExpiringSoon')).toBe(`(mirrorfleet_cert_not_after_timestamp_seconds - time()) / 86400 < ${ALARMS.certDaysCritical}`);
  });

  it('every alert has a severity and a summary, and every alert is unit-tested', () => {
    const alerts = rules.filter((r) => r.alert).map((r) => ({ alert: r.alert!, labels: r.labels!, annotations: r.annotations! }));
    expect(alerts.map((a) => a.labels.severity).every((s) => s === 'warning' || s === 'critical')).toBe(true);
    expect(alerts.every((a) => a.annotations.summary.length > 0)).toBe(true);
    const tested = new Set(parse(fs.readFileSync(TESTS, 'utf8')).tests.flatMap((t: { alert_rule_test?: { alertname: string }[] }) => (t.alert_rule_test ?? []).map((a) => a.alertname)));
    expect(alerts.map((a) => a.alert).filter((a) => !tested.has(a))).toEqual([]);
  });
});

describeWith(['promtool'], 'promtool', () => {
  it('`promtool check rules` accepts the rules file', () => {
    const r = run('promtool', ['check', 'rules', RULES]);
    expect(r.stdout).toContain('SUCCESS: 12 rules found');
    expect(r.status).toBe(0);
  });

  it('`promtool test rules` passes: every alert fires past its threshold and not before', () => {
    const r = run('promtool', ['test', 'rules', TESTS]);
    expect(`${r.stdout}${r.stderr}`).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('the unit tests can fail: a moved threshold or a broken expression is caught', () => {
    const dir = tmpDir('promtool');
    try {
      fs.copyFileSync(TESTS, path.join(dir, 'mirrorfleet-rules.test.yml'));
      fs.writeFileSync(path.join(dir, 'mirrorfleet-rules.yml'), fs.readFileSync(RULES, 'utf8').replace('/ 86400 < 21', '/ 86400 < 14'));
      const moved = run('promtool', ['test', 'rules', path.join(dir, 'mirrorfleet-rules.test.yml')]);
      expect(moved.status).toBe(1);
      expect(moved.stdout + moved.stderr).toContain('alertname: MirrorfleetCertificateExpiring, time: 2h');
      fs.writeFileSync(path.join(dir, 'broken.yml'), fs.readFileSync(RULES, 'utf8').replace('mirrorfleet_sync_success == 0', 'mirrorfleet_sync_success ==='));
      expect(run('promtool', ['check', 'rules', path.join(dir, 'broken.yml')]).status).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
