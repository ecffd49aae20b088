import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeConfig } from '../../lib/config/node-config';
import { mirrorNodeFiles } from '../../lib/roles/mirror-node/role';
import { EXAMPLES, exampleConfig, testLayout, tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';

/** Writes an example's units, the role's and the host's, the way a node has them (scripts from assets/, so ExecStart resolves). */
function writeUnits(config: NodeConfig): { dir: string; files: string[] } {
  const root = tmpDir('units');
  const layout = testLayout(root);
  fs.mkdirSync(layout.systemdDir, { recursive: true });
  const units = mirrorNodeFiles(config, layout).filter((f) => path.dirname(f.path) === layout.systemdDir);
  expect(units.map((u) => path.basename(u.path))).toContain('mirrorfleet-cert.timer');
  const files = units.map((u) => {
    fs.writeFileSync(u.path, u.content);
    return u.path;
  });
  return { dir: root, files };
}

/** The local wall-clock times systemd will start a timer at, read from `systemd-analyze calendar`. */
function nextElapses(expression: string, timezone: string, iterations: number): Date[] {
  const r = run('systemd-analyze', ['calendar', `--iterations=${iterations}`, expression], { env: { ...process.env, TZ: timezone, SYSTEMD_COLORS: '0' } });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return [...r.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/g)].map((m) => new Date(`${m[1]}Z`));
}

describeWith(['systemd-analyze'], 'systemd units, checked by systemd-analyze', () => {
  describe.each(EXAMPLES)('examples/%s.yaml', (example) => {
    const config = exampleConfig(example);
    const { dir, files } = writeUnits(config);
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('every unit passes `systemd-analyze verify` with nothing on stderr', () => {
      const r = run('systemd-analyze', ['verify', '--man=no', ...files], { env: { ...process.env, SYSTEMD_COLORS: '0' } });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });

    it('every unit starts in one boot transaction with cloud-init and networkd: no ordering cycle', () => {
      // A target standing for multi-user.target on a cloud node: our units, the daemons, and the
      // cloud-init and network units of the host's real packages, all in one transaction.
      const target = path.join(path.dirname(files[0]), 'boot-order-check.target');
      const others = ['cloud-init-local.service', 'cloud-init.service', 'cloud-config.service', 'cloud-final.service', 'systemd-networkd.service', 'systemd-networkd-wait-online.service', 'apache2.service', 'rsync.service'];
      fs.writeFileSync(target, `[Unit]\nDescription=boot order check\nWants=${[...files.map((f) => path.basename(f)), ...others].join(' ')}\n`);
      const r = run('systemd-analyze', ['verify', '--man=no', target], { env: { ...process.env, SYSTEMD_COLORS: '0' } });
      fs.rmSync(target);
      expect(r.stderr).not.toMatch(/ordering cycle|deleted to break/);
      expect(r.stderr).not.toMatch(/not found|Failed to/);
    });

    it.each(config.trees.map((t) => t.name))("tree %s: the timer's calendar starts syncs on the preset's grid", (tree) => {
      const t = config.trees.find((x) => x.name === tree)!;
      const timer = fs.readFileSync(files.find((f) => f.endsWith(`mirrorfleet-sync-${tree}.timer`))!, 'utf8');
      const calendar = /^OnCalendar=(.+)$/m.exec(timer)![1];
      // Times printed in the node's own zone, read back as if UTC: so hours below are local hours.
      const starts = nextElapses(calendar, config.timezone, 8);
      expect(starts).toHaveLength(8);
      const gaps = starts.slice(1).map((s, i) => (s.getTime() - starts[i].getTime()) / 60_000);
      if ('everyMinutes' in t.schedule) {
        expect(new Set(gaps)).toEqual(new Set([t.schedule.everyMinutes]));
        for (const s of starts) expect(s.getUTCMinutes() % t.schedule.everyMinutes).toBe(0);
      } else {
        const [h, m] = t.schedule.from.split(':').map(Number);
        expect(new Set(gaps)).toEqual(new Set([t.schedule.everyHours * 60]));
        for (const s of starts) {
          expect((s.getUTCHours() - h + 24) % t.schedule.everyHours).toBe(0);
          expect(s.getUTCMinutes()).toBe(m);
        }
      }
    });
  });

  it('gentoo syncs every 4 hours from midnight in the node time zone, whatever the system zone', () => {
    // GIVEN the gentoo example (Europe/Helsinki)
    const config = exampleConfig('gentoo');
    const { dir, files } = writeUnits(config);
    const calendar = /^OnCalendar=(.+)$/m.exec(fs.readFileSync(files.find((f) => f.endsWith('.timer') && f.includes('sync'))!, 'utf8'))![1];
    fs.rmSync(dir, { recursive: true, force: true });
    // WHEN systemd computes the starts with the system clock in UTC
    const utcStarts = nextElapses(calendar, 'UTC', 6);
    // THEN they are 00, 04, 08, 12, 16, 20 Helsinki time (22, 02, ... UTC in winter, 21, 01, ... in summer)
    const helsinkiHours = utcStarts.map((d) => Number(new Intl.DateTimeFormat('en-GB', { hour: '2-digit', hour12: false, timeZone: 'Europe/Helsinki' }).format(d)));
    expect(new Set(helsinkiHours)).toEqual(new Set([0, 4, 8, 12, 16, 20]));
  });

  it('sees an ordering cycle (the check can fail): a unit after sysinit but before network-pre', () => {
    const dir = tmpDir('cycle');
    fs.writeFileSync(path.join(dir, 'early.service'), '[Unit]\nWants=network-pre.target\nBefore=network-pre.target\n[Service]\nType=oneshot\nExecStart=/bin/true\n');
    fs.writeFileSync(path.join(dir, 'check.target'), '[Unit]\nWants=early.service cloud-init.service systemd-networkd.service systemd-networkd-wait-online.service\n');
    const r = run('systemd-analyze', ['verify', '--man=no', path.join(dir, 'check.target')], { env: { ...process.env, SYSTEMD_COLORS: '0' } });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).toMatch(/Found ordering cycle/);
  });

  it('fails verification of a unit with a bad key (the check can fail)', () => {
    const dir = tmpDir('badunit');
    const file = path.join(dir, 'broken.service');
    fs.writeFileSync(file, '[Service]\nType=oneshott\nExecStart=/bin/true\n');
    const r = run('systemd-analyze', ['verify', '--man=no', file]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.stderr).toMatch(/oneshott/);
  });
});
