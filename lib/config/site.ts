import { COUNTRIES, COUNTRY_ALIASES } from './countries';
import { didYouMean } from './problems';

/*
 * Where a node is and what it is called: a country ISO 3166 assigns, and a host name a public
 * certificate authority can issue for (never under a special-use domain).
 */

export const COUNTRY_HELP = 'a two-letter upper-case ISO 3166 country code such as FR';

/** Why `code` is not an ISO 3166 country code, with the code meant when it can be told; undefined when it is one. */
export function countryProblem(code: string): string | undefined {
  if (COUNTRIES[code]) return undefined;
  const upper = code.toUpperCase();
  const alias = COUNTRY_ALIASES[upper];
  if (alias) return `${COUNTRY_HELP} (did you mean "${alias}"? ISO 3166 reserves ${upper}; ${COUNTRIES[alias].name} is ${alias})`;
  if (COUNTRIES[upper]) return `${COUNTRY_HELP} (did you mean "${upper}"?)`;
  const byName = Object.entries(COUNTRIES).find(([, c]) => c.name.toLowerCase() === code.toLowerCase());
  const guess = byName?.[0] ?? nameGuess(code);
  if (guess) return `${COUNTRY_HELP} (did you mean "${guess}", ${COUNTRIES[guess].name}?)`;
  return /^[A-Z]{2}$/.test(code) ? `${COUNTRY_HELP}: ${code} is not assigned to a country` : COUNTRY_HELP;
}

function nameGuess(text: string): string | undefined {
  if (text.length < 4) return undefined;
  const names = Object.fromEntries(Object.entries(COUNTRIES).map(([k, c]) => [c.name, k]));
  const name = didYouMean(text, Object.keys(names));
  return name ? names[name] : undefined;
}

/**
 * Domains no public certificate authority issues for: the special-use names of the IANA registry
 * (RFC 6761 and its successors) and the names ICANN keeps out of the public DNS. Longest first,
 * so home.arpa is named before arpa. The documentation names example.com, .net and .org are left
 * to certbot: every example of this project uses them (docs/adr/0046).
 */
const SPECIAL_USE_DOMAINS: readonly [string, string][] = [
  ['home.arpa', 'home networks (RFC 8375)'],
  ['local', 'multicast DNS on the local link (RFC 6762)'],
  ['localhost', 'the host itself (RFC 6761)'],
  ['test', 'testing (RFC 6761)'],
  ['example', 'documentation (RFC 6761)'],
  ['invalid', 'names that must not resolve (RFC 6761)'],
  ['onion', 'Tor onion services (RFC 7686)'],
  ['alt', 'names outside the DNS (RFC 9476)'],
  ['arpa', 'the DNS infrastructure (RFC 3172)'],
  ['internal', 'private networks (ICANN, 2024)'],
  ['localdomain', 'the local host\'s domain, never delegated'],
  ['lan', 'private networks, never delegated'],
  ['home', 'private networks, kept out of the root zone by ICANN'],
  ['corp', 'private networks, kept out of the root zone by ICANN'],
  ['mail', 'a name ICANN keeps out of the root zone'],
];

/** Why a host name cannot get a public certificate, or undefined when it can. */
export function specialUseProblem(hostname: string): string | undefined {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  const hit = SPECIAL_USE_DOMAINS.find(([d]) => h === d || h.endsWith(`.${d}`));
  return hit ? `a public host name: .${hit[0]} is a special-use domain, for ${hit[1]}; no public certificate authority issues for it` : undefined;
}
