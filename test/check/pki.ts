import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../support/tools';

/*
 * Two roots and an intermediate CA certified by each (the same name and key, as Let's Encrypt's
 * intermediates are cross-signed), so one leaf can be served with either chain: the preferred
 * root's or the other one's. openssl makes them; Apache serves them.
 */

export interface TestPki {
  readonly preferred: { readonly cn: string; readonly pem: string };
  readonly other: { readonly cn: string; readonly pem: string };
  /** fullchain.pem contents: leaf + intermediate certified by the preferred root, or by the other. */
  readonly fullchain: { readonly preferred: string; readonly other: string };
  readonly key: string;
}

export function makePki(dir: string, hostname: string): TestPki {
  fs.mkdirSync(dir, { recursive: true });
  const f = (n: string) => path.join(dir, n);
  const ossl = (...args: string[]) => {
    const r = run('openssl', args);
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n';
  for (const [name, cn] of [['preferred', 'mirrorfleet Test Root X1'], ['other', 'mirrorfleet Test Old Root']]) {
    ossl('req', '-x509', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.pem`), '-days', '3', '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  }
  ossl('req', ...ec, '-keyout', f('inter.key'), '-out', f('inter.csr'), '-subj', '/O=mirrorfleet test/CN=mirrorfleet Test R11');
  fs.writeFileSync(f('ca.ext'), ca);
  for (const root of ['preferred', 'other']) {
    ossl('x509', '-req', '-in', f('inter.csr'), '-CA', f(`${root}.pem`), '-CAkey', f(`${root}.key`), '-CAcreateserial', '-days', '3', '-extfile', f('ca.ext'), '-out', f(`inter-${root}.pem`));
  }
  ossl('req', ...ec, '-keyout', f('leaf.key'), '-out', f('leaf.csr'), '-subj', `/CN=${hostname}`);
  fs.writeFileSync(f('leaf.ext'), `subjectAltName=DNS:${hostname}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`);
  ossl('x509', '-req', '-in', f('leaf.csr'), '-CA', f('inter-preferred.pem'), '-CAkey', f('inter.key'), '-CAcreateserial', '-days', '2', '-extfile', f('leaf.ext'), '-out', f('leaf.pem'));
  const read = (n: string) => fs.readFileSync(f(n), 'utf8');
  return {
    preferred: { cn: 'mirrorfleet Test Root X1', pem: read('preferred.pem') },
    other: { cn: 'mirrorfleet Test Old Root', pem: read('other.pem') },
    fullchain: { preferred: read('leaf.pem') + read('inter-preferred.pem'), other: read('leaf.pem') + read('inter-other.pem') },
    key: read('leaf.key'),
  };
}
