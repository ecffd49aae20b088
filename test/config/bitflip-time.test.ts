import { parseBitflipTime } from '../../lib/config/bitflip-time';
import { parseConfig } from '../../lib/config/load';
import { MirrorConfigError } from '../../lib/config/problems';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { renderUnits } from '../../lib/render/systemd';
import { describeWith, run } from '../support/tools';

/*
 * A bitflip's time (N17): real, in the future, with its zone; the timer it renders is read by
 * systemd itself (systemd-analyze calendar) and elapses at the instant the config names.
 */
const NOW = new Date('2026-12-01T00:00:00Z');

const config = (at: string) =>
  parseConfig(`preset: xcp-ng
hostname: mirror.example.org
admin: { name: Ops, email: ops@example.org }
site: { city: Paris, country: FR }
timezone: Europe/Paris
bandwidthMbps: 1000
bitflips:
  - { path: xcp-ng/isos/8.4, at: "${at}" }
`);

describe('bitflip times', () => {
  it.each([
    ['2099-04-20 14:00 UTC', '2099-04-20T14:00:00.000Z'],
    ['2099-04-20 16:00 Europe/Berlin', '2099-04-20T14:00:00.000Z'],
    ['2099-01-20 16:00 Europe/Berlin', '2099-01-20T15:00:00.000Z'],
    ['2099-04-20 07:00 America/Los_Angeles', '2099-04-20T14:00:00.000Z'],
    ['2028-02-29 00:00 Asia/Tokyo', '2028-02-28T15:00:00.000Z'],
  ])('%s is %s', (at, utc) => {
    const t = parseBitflipTime(at, NOW);
    expect(t.ok && t.utc.toISOString()).toBe(utc);
  });

  it.each([
    ['2027-02-30 12:00 UTC', '2027-02-30 is not a date'],
    ['2027-02-28 25:61 UTC', '25:61 is not a time of day'],
    ['2027-13-01 12:00 UTC', '2027-13-01 is not a date'],
    ['2027-04-20 14:00', 'the zone is missing'],
    ['2027-04-20 14:00 Mars/Olympus', 'Mars/Olympus is not a time zone'],
    ['2026-11-30 23:59 UTC', 'it is past, so its timer would never fire'],
    ['tomorrow', ''],
  ])('%s is refused: %s', (at, why) => {
    const t = parseBitflipTime(at, NOW);
    expect(t.ok).toBe(false);
    expect(!t.ok && t.reason).toBe(`a time "YYYY-MM-DD HH:MM ZONE" in the future, with ZONE UTC or an IANA zone such as Europe/Berlin${why ? `: ${why}` : ''}`);
  });

  it('the loader refuses a date that does not exist, with its position', () => {
    let error: unknown;
    try {
      config('2027-02-30 25:61 UTC');
    } catch (e) {
      error = e;
    }
    expect((error as MirrorConfigError).lines).toEqual([
      'mirror.yaml:8:34 bitflips[0].at: "2027-02-30 25:61 UTC" — a time "YYYY-MM-DD HH:MM ZONE" in the future, with ZONE UTC or an IANA zone such as Europe/Berlin: 2027-02-30 is not a date',
    ]);
  });
});

describeWith(['systemd-analyze'], 'the bitflip timer, read by systemd', () => {
  it.each([
    ['2099-04-20 14:00 UTC', 'Mon 2099-04-20 14:00:00 UTC'],
    ['2099-04-20 16:00 Europe/Berlin', 'Mon 2099-04-20 14:00:00 UTC'],
    ['2099-11-03 02:30 America/New_York', 'Tue 2099-11-03 07:30:00 UTC'],
  ])('%s elapses at %s', (at, next) => {
    const timer = renderUnits(config(at), NODE_LAYOUT).find((u) => u.name === 'mirrorfleet-bitflip-1.timer')!;
    const spec = /^OnCalendar=(.*)$/m.exec(timer.content)![1];
    const r = run('systemd-analyze', ['calendar', '--iterations=1', spec], { env: { ...process.env, TZ: 'UTC', SYSTEMD_COLORS: '0' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Next elapse: ${next}\\n`));
  });
});
