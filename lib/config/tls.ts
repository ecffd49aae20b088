import { NodeConfig } from './node-config';
import { Problem, didYouMean } from './problems';
import { MirrorConfigInput } from './schema';
import { specialUseProblem } from './site';

/*
 * tls.preferredChain (N19) names the root certbot asks the CA to chain to. For Let's Encrypt the
 * roots are known (letsencrypt.org/certificates): a name it does not serve would leave certbot on
 * the default chain without a word, so it is refused. Another ACME server's roots are its own.
 */
export const ACME_ROOTS: Readonly<Record<string, { readonly ca: string; readonly roots: readonly string[] }>> = {
  'https://acme-v02.api.letsencrypt.org/directory': { ca: 'Let\'s Encrypt', roots: ['ISRG Root X1', 'ISRG Root X2'] },
  'https://acme-staging-v02.api.letsencrypt.org/directory': { ca: 'Let\'s Encrypt staging', roots: ['(STAGING) Pretend Pear X1', '(STAGING) Bogus Broccoli X2'] },
};

/**
 * With a public CA (Let's Encrypt, the default), the host name must be one it can issue for and
 * the preferred chain one of its roots. A private ACME server (an organisation's own CA, pebble in
 * the tests) may issue for .internal or .test names, and its roots are its own.
 */
export function checkTls(input: MirrorConfigInput, c: NodeConfig): Problem[] {
  const known = ACME_ROOTS[c.tls.acmeServer];
  if (!known) return [];
  const problems: Problem[] = [];
  const special = specialUseProblem(c.hostname);
  if (special) problems.push({ path: ['hostname'], allowed: special.replace('no public certificate authority issues for it', `${known.ca} does not issue for it`) });
  if (!known.roots.includes(c.tls.preferredChain)) {
    const guess = didYouMean(c.tls.preferredChain, known.roots);
    problems.push({
      path: input.tls?.preferredChain !== undefined ? ['tls', 'preferredChain'] : ['tls', 'acmeServer'],
      allowed: `${guess ? `did you mean "${guess}"? ` : ''}a root ${known.ca} serves: ${known.roots.map((r) => `"${r}"`).join(' or ')}`,
    });
  }
  return problems;
}
