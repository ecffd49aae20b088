import { isIP } from 'node:net';

/*
 * The one CIDR parser every check and every firewall uses. Strict on purpose: a firewall source
 * is a security decision, so "0.0.0.0/00", "10.0.0.5/24" or "1.2.3.4/" are errors the user must
 * look at, not spellings to guess the meaning of.
 */

/** A parsed, whole network: the address with its host bits cleared. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly bits: number;
  /** The canonical spelling: "198.51.100.7/32", "2001:db8::/64" (a bare address gets /32 or /128). */
  readonly text: string;
}

export type CidrParse = { ok: true; cidr: Cidr } | { ok: false; reason: string };

const EXAMPLE = 'an IPv4 or IPv6 address or CIDR such as 198.51.100.7, 198.51.100.0/24 or 2001:db8::/48';

export function parseCidr(input: string): CidrParse {
  const parts = input.split('/');
  const addr = parts[0];
  const family = isIP(addr);
  if (family === 0 || parts.length > 2 || addr.includes('%')) return { ok: false, reason: EXAMPLE };
  const width = family === 4 ? 32 : 128;
  const bitsText = parts[1];
  if (bitsText !== undefined && !/^(0|[1-9]\d{0,2})$/.test(bitsText)) {
    return { ok: false, reason: `${EXAMPLE}; the prefix length is a whole number 0–${width} without leading zeros` };
  }
  const bits = bitsText === undefined ? width : Number(bitsText);
  if (bits > width) return { ok: false, reason: `${EXAMPLE}; an IPv${family} prefix length is at most ${width}` };
  const value = family === 4 ? ipv4ToBigInt(addr) : ipv6ToBigInt(addr);
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - bits)) - 1n);
  const network = value & mask;
  const text = `${family === 4 ? bigIntToIpv4(network) : bigIntToIpv6(network)}/${bits}`;
  if (network !== value) {
    return { ok: false, reason: `a network without host bits: did you mean ${text} (or the single address ${addr})?` };
  }
  return { ok: true, cidr: { family: family as 4 | 6, network, bits, text } };
}

/** The canonical CIDR of a valid input; throws on an invalid one (config checks ran first). */
export function canonicalCidr(input: string): string {
  const p = parseCidr(input);
  if (!p.ok) throw new Error(`not a CIDR: "${input}": ${p.reason}`);
  return p.cidr.text;
}

/** Prefix length 0 on either family: every address there is. */
export const isWholeInternet = (c: Cidr) => c.bits === 0;

/** Whether `input` is a CIDR spelling of the whole Internet (0.0.0.0/0, ::/0, ::0/0…). */
export function isWholeInternetText(input: string): boolean {
  const p = parseCidr(input.trim());
  return p.ok && isWholeInternet(p.cidr);
}

function ipv4ToBigInt(addr: string): bigint {
  return addr.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

function bigIntToIpv4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((sh) => String((n >> sh) & 255n)).join('.');
}

function ipv6ToBigInt(addr: string): bigint {
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, undefined];
  const parse = (part: string) =>
    (part ? part.split(':') : []).flatMap((g) => {
      if (!g.includes('.')) return [parseInt(g, 16)];
      const [a, b, c, d] = g.split('.').map(Number); // an embedded IPv4 tail
      return [(a << 8) | b, (c << 8) | d];
    });
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

function bigIntToIpv6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(16 * (7 - i))) & 0xffffn));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}
