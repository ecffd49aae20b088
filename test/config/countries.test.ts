import * as fs from 'node:fs';
import { COUNTRIES, COUNTRY_ALIASES } from '../../lib/config/countries';
import { countryProblem, specialUseProblem } from '../../lib/config/site';

/*
 * lib/config/countries.ts against the tzdata installed here (Debian's tzdata package): the same
 * codes and names, and a zone for exactly the countries whose zones all keep one clock.
 */
const TZDATA = '/usr/share/zoneinfo';
const tab = (file: string) =>
  fs
    .readFileSync(`${TZDATA}/${file}`, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t'));

const offsets = (zone: string) => {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const out: string[] = [];
  for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2031, 0, 1); t += 15 * 86400e3) out.push(f.formatToParts(t).find((p) => p.type === 'timeZoneName')!.value);
  return out.join(',');
};

const describeTz = fs.existsSync(`${TZDATA}/iso3166.tab`) || process.env.CI ? describe : describe.skip;

describeTz('the country table (tzdata: apt-get install -y tzdata)', () => {
  it('has every ISO 3166 code and name of iso3166.tab', () => {
    expect(Object.fromEntries(Object.entries(COUNTRIES).map(([k, c]) => [k, c.name]))).toEqual(Object.fromEntries(tab('iso3166.tab').map(([k, n]) => [k, n])));
  });

  it('gives a zone to exactly the countries whose zone.tab zones keep the same offsets, 2026-2030', () => {
    const zones: Record<string, string[]> = {};
    for (const [cc, , zone] of tab('zone.tab')) (zones[cc] ??= []).push(zone);
    const expected = Object.fromEntries(
      Object.keys(COUNTRIES).map((cc) => {
        const z = zones[cc] ?? [];
        return [cc, z.length > 0 && new Set(z.map(offsets)).size === 1 ? z[0] : undefined];
      }),
    );
    expect(Object.fromEntries(Object.entries(COUNTRIES).map(([k, c]) => [k, c.zone]))).toEqual(expected);
  });
});

describe('site.country', () => {
  it.each(['FR', 'GB', 'DE', 'US', 'FI', 'AQ'])('%s is a country', (code) => expect(countryProblem(code)).toBeUndefined());
  it.each([
    ['UK', '(did you mean "GB"? ISO 3166 reserves UK; Britain (UK) is GB)'],
    ['uk', '(did you mean "GB"? ISO 3166 reserves UK; Britain (UK) is GB)'],
    ['fr', '(did you mean "FR"?)'],
    ['Germany', '(did you mean "DE", Germany?)'],
    ['Frnace', '(did you mean "FR", France?)'],
    ['XX', ': XX is not assigned to a country'],
    ['EU', ': EU is not assigned to a country'],
  ])('%s is refused %s', (code, tail) => expect(countryProblem(code)).toBe(`a two-letter upper-case ISO 3166 country code such as FR${tail.startsWith(':') ? '' : ' '}${tail}`));
  it('every alias points at a country', () => Object.values(COUNTRY_ALIASES).forEach((cc) => expect(COUNTRIES[cc]).toBeDefined()));
});

describe('hostname', () => {
  it.each(['mirror.local', 'MIRROR.LOCAL', 'a.b.test', 'mirror.example', 'x.invalid', 'mirror.localhost', 'nas.home.arpa', 'x.onion', 'x.internal', 'mirror.lan', 'mirror.localdomain', '1.0.168.192.in-addr.arpa'])('%s is under a special-use domain', (h) => {
    expect(specialUseProblem(h)).toMatch(/^a public host name: \.\S+ is a special-use domain/);
  });
  it.each(['mirror.example.org', 'mirror.example.com', 'ftp.fau.de', 'mirror.local.example.org', 'testmirror.net', 'mirror.localhost.example.net'])('%s is a public name', (h) => {
    expect(specialUseProblem(h)).toBeUndefined();
  });
});
