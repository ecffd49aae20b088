import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLOUDS } from '../../lib/config/clouds';
import { DEFAULTS } from '../../lib/config/defaults';
import { loadConfigFile, parseConfig } from '../../lib/config/load';
import { describeSchedule, onCalendar, parseSchedule } from '../../lib/config/schedule';
import { autoMaxRequestWorkers, volumeSizeGiB } from '../../lib/config/sizing';
import { PRESETS } from '../../lib/presets';
import { EXAMPLES, REPO, exampleConfig } from '../support/fixtures';

const MINIMAL = `preset: xcp-ng
hostname: Mirror.Example.org
admin: { name: Ops, email: ops@example.org }
site: { city: Lyon, country: FR }
bandwidthMbps: 100
`;

describe('the examples', () => {
  it.each(EXAMPLES)('examples/%s.yaml is valid and uses its own preset', (name) => {
    expect(exampleConfig(name).preset.id).toBe(name);
  });

  // A node's mirror.yaml has a hostname at the top; project.yaml and its mirror list do not.
  const nodeExamples = fs.readdirSync(path.join(REPO, 'examples')).filter((f) => /^hostname:/m.test(fs.readFileSync(path.join(REPO, 'examples', f), 'utf8')));
  it('the node examples are the three presets\' and the public Fedora node', () => expect(nodeExamples.sort()).toEqual(['fedora-public.yaml', 'fedora.yaml', 'gentoo.yaml', 'xcp-ng.yaml']));
  it.each(nodeExamples)('examples/%s is valid on both clouds', (file) => {
    expect(() => loadConfigFile(path.join(REPO, 'examples', file), [...CLOUDS.aws.checks, ...CLOUDS.hcloud.checks])).not.toThrow();
  });
});

describe('defaults and presets', () => {
  it('fills a minimal xcp-ng config from the preset and DEFAULTS', () => {
    const c = parseConfig(MINIMAL);
    expect(c.hostname).toBe('mirror.example.org');
    expect(c.trees).toEqual([
      {
        name: 'xcp-ng',
        upstream: 'rsync://updates.xcp-ng.org/repo/',
        path: '/srv/mirror/xcp-ng',
        urlPath: '/xcp-ng/',
        schedule: { everyMinutes: 15 },
        excludes: [],
        bandwidthLimitMbps: undefined,
        presetTree: 'xcp-ng',
        mirrorManagerCategories: {},
        // The sync engine's settings: test/config/sync-config.test.ts.
        strategy: 'rsync',
        fileList: undefined,
        precheck: undefined,
        preBitflip: false,
        metadataLast: ['repodata/', '.treeinfo', 'SHA256SUMS*'],
        maxDeletePercent: 25,
        minFreeMiB: 1024,
        retries: 3,
        maxRuntimeMinutes: 660,
        verifySchedule: { everyHours: 24, from: '03:00' },
      },
    ]);
    expect(c.timezone).toBe(DEFAULTS.timezone);
    expect(c.tls).toEqual({ email: 'ops@example.org', preferredChain: 'ISRG Root X1', acmeServer: DEFAULTS.acmeServer });
    expect(c.rsync).toEqual({ enabled: true, maxConnections: 100, private: undefined });
    expect(c.http.perIpConnectionLimit).toBeUndefined();
    expect(c.http.maxRequestWorkers).toBe(150);
    expect(c.storage).toEqual({ sizeGiB: 90, filesystem: 'ext4', mountPoint: '/srv/mirror', device: '/dev/vdb', plannedYears: 2 });
  });

  it("applies the fedora preset's per-IP cap of 6 unless the config turns it off", () => {
    const fedora = MINIMAL.replace('xcp-ng', 'fedora') + 'reports: { reportMirror: { site: Example } }\n';
    expect(parseConfig(fedora).http.perIpConnectionLimit).toBe(6);
    expect(parseConfig(`${fedora}http: { perIpConnectionLimit: "off" }\n`).http.perIpConnectionLimit).toBeUndefined();
  });

  it('sizes volumes from tree size, growth and headroom, never below the guide minimum (N20)', () => {
    const tree = (p: keyof typeof PRESETS) => [PRESETS[p].trees[0].sizing];
    // (50 + 10 * 2) * 1.25 = 87.5 -> 90
    expect(volumeSizeGiB(tree('xcp-ng'), 2)).toBe(90);
    // (1126 + 200 * 2) * 1.25 = 1907.5 -> 1910: inside the guide's "1-2TB volume"
    expect(volumeSizeGiB(tree('fedora'), 2)).toBe(1910);
    // Gentoo: (800 + 50 * 2) * 1.25 = 1125 -> 1130, and the 800 GiB minimum holds for any plan
    expect(volumeSizeGiB(tree('gentoo'), 2, 800)).toBe(1130);
    expect(volumeSizeGiB([{ treeGiB: 100, growthGiBPerYear: 0 }], 1, 800)).toBe(800);
  });

  it('sizes the Apache pool from bandwidth: one worker per 2 Mbit/s in steps of 25, 150 to 4000 (N2)', () => {
    expect(autoMaxRequestWorkers(100)).toBe(150);
    expect(autoMaxRequestWorkers(1000)).toBe(500);
    expect(autoMaxRequestWorkers(1010)).toBe(525);
    expect(autoMaxRequestWorkers(100000)).toBe(4000);
  });
});

describe('time zone and certificate chain', () => {
  const gentoo = (country: string) => MINIMAL.replace('preset: xcp-ng', 'preset: gentoo').replace('country: FR', `country: ${country}`);

  it("a Gentoo node without timezone syncs at midnight in its country's one zone", () => {
    const c = parseConfig(gentoo('FI'));
    expect(c.timezone).toBe('Europe/Helsinki');
    expect(onCalendar(c.trees[0].schedule, c.timezone)).toBe('*-*-* 00/4:00:00 Europe/Helsinki');
    expect(parseConfig(`${gentoo('US')}timezone: America/Chicago\n`).timezone).toBe('America/Chicago');
  });

  it('other presets keep UTC unless the config says', () => {
    expect(parseConfig(MINIMAL).timezone).toBe('UTC');
  });

  it("accepts both roots Let's Encrypt serves, and any root of another ACME server", () => {
    expect(parseConfig(`${MINIMAL}tls: { preferredChain: ISRG Root X2 }\n`).tls.preferredChain).toBe('ISRG Root X2');
    expect(parseConfig(`${MINIMAL}tls: { preferredChain: Pebble Root CA 0a1b2c, acmeServer: "https://acme.example.org/dir" }\n`).tls.preferredChain).toBe('Pebble Root CA 0a1b2c');
  });

  it('a private ACME server may issue for a special-use name; Let\'s Encrypt may not', () => {
    const internal = MINIMAL.replace('Mirror.Example.org', 'mirror.corp.internal');
    expect(parseConfig(`${internal}tls: { acmeServer: "https://ca.corp.internal/acme/directory" }\n`).hostname).toBe('mirror.corp.internal');
    expect(() => parseConfig(internal)).toThrow(/hostname: "mirror\.corp\.internal" — a public host name: \.internal is a special-use domain, for private networks \(ICANN, 2024\); Let's Encrypt does not issue for it/);
  });
});

describe('schedules', () => {
  it.each([
    ['every 15 minutes', { everyMinutes: 15 }, '*-*-* *:00/15:00'],
    ['every 1 minute', { everyMinutes: 1 }, '*-*-* *:00/1:00'],
    ['every 60 minutes', { everyMinutes: 60 }, '*-*-* *:00:00'],
    ['every 4 hours from 00:00', { everyHours: 4, from: '00:00' }, '*-*-* 00/4:00:00 Europe/Paris'],
    ['every 6 hours from 03:30', { everyHours: 6, from: '03:30' }, '*-*-* 03/6:30:00 Europe/Paris'],
    ['every 24 hours from 05:10', { everyHours: 24, from: '05:10' }, '*-*-* 05:10:00 Europe/Paris'],
  ])('"%s" parses and maps to OnCalendar=%s', (text, schedule, calendar) => {
    const parsed = parseSchedule(text)!;
    expect(parsed).toEqual(schedule);
    expect(onCalendar(parsed, 'Europe/Paris')).toBe(calendar);
    expect(describeSchedule(parsed)).toBe(text.replace('every 1 minute', 'every minute'));
  });

  it.each(['every 7 minutes', 'every 0 minutes', 'every 5 hours', 'hourly', 'every 4 hours from 24:00', '*:0/15'])('rejects "%s"', (text) => {
    expect(parseSchedule(text)).toBeUndefined();
  });
});
