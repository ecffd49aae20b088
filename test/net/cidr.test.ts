import { canonicalCidr, isWholeInternetText, parseCidr } from '../../lib/net/cidr';

/* The one CIDR parser behind every firewall source and every config check (lib/net/cidr.ts). */
describe('parseCidr', () => {
  it.each([
    ['198.51.100.7', '198.51.100.7/32'],
    ['198.51.100.0/24', '198.51.100.0/24'],
    ['2001:db8:100::/64', '2001:db8:100::/64'],
    ['2001:DB8::1', '2001:db8::1/128'],
    ['::ffff:198.51.100.0/120', '::ffff:c633:6400/120'],
    ['2001:db8:0:0:0:0:0:0/32', '2001:db8::/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['::/0', '::/0'],
    ['::0/0', '::/0'],
  ])('accepts %s as %s', (input, canonical) => {
    expect(canonicalCidr(input)).toBe(canonical);
  });

  it.each([
    ['0.0.0.0/00', 'without leading zeros'],
    ['198.51.100.0/024', 'without leading zeros'],
    ['198.51.100.7/', 'without leading zeros'],
    ['198.51.100.7/33', 'at most 32'],
    ['2001:db8::/129', 'at most 128'],
    ['198.51.100.7/24', 'did you mean 198.51.100.0/24 (or the single address 198.51.100.7)?'],
    ['2001:db8:100:0:5::1/64', 'did you mean 2001:db8:100::/64'],
    ['198.51.100.256', 'such as'],
    ['fe80::1%eth0', 'such as'],
    ['198.51.100.0/24/8', 'such as'],
    ['example.org', 'such as'],
    ['', 'such as'],
  ])('refuses %s, saying %s', (input, reason) => {
    const p = parseCidr(input);
    expect(p.ok).toBe(false);
    expect(p.ok ? '' : p.reason).toContain(reason);
    expect(() => canonicalCidr(input)).toThrow(`not a CIDR: "${input}"`);
  });

  it('knows every spelling of the whole Internet, and nothing else', () => {
    expect(['0.0.0.0/0', '::/0', '::0/0', ' 0.0.0.0/0 ', '0:0:0:0:0:0:0:0/0'].map(isWholeInternetText)).toEqual([true, true, true, true, true]);
    expect(['0.0.0.0/1', '0.0.0.0/00', '::/1', '10.0.0.0/8', 'nonsense'].map(isWholeInternetText)).toEqual([false, false, false, false, false]);
  });
});
