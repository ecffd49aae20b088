import * as fs from 'node:fs';
import * as path from 'node:path';
import { must, sh } from './sh';

/**
 * The test world's stand-in for the public Web PKI: one CA that signs the certificates of the
 * world's HTTPS services (pebble's ACME API, the GitHub and MirrorManager stand-ins). The host
 * installs it in the node's trust store before boot, as a cloud image trusts the real roots.
 */
export interface WorldCa {
  readonly caFile: string;
  /** A key and certificate for `dnsNames`/`ips`, signed by the CA. */
  issue(name: string, dnsNames: readonly string[], ips: readonly string[]): { cert: string; key: string };
}

export function makeWorldCa(dir: string): WorldCa {
  fs.mkdirSync(dir, { recursive: true });
  const f = (n: string) => path.join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  must('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=mirrorfleet boot-test world CA']);
  return {
    caFile: f('ca.pem'),
    issue(name, dnsNames, ips) {
      const san = [...dnsNames.map((d) => `DNS:${d}`), ...ips.map((i) => `IP:${i}`)].join(',');
      must('openssl', ['req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${dnsNames[0] ?? ips[0]}`]);
      fs.writeFileSync(f(`${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`);
      must('openssl', ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.pem`)]);
      return { cert: f(`${name}.pem`), key: f(`${name}.key`) };
    },
  };
}

/** Subject or issuer CN of a PEM certificate. */
export function certField(pem: string, field: 'subject' | 'issuer'): string {
  const r = sh('openssl', ['x509', '-noout', `-${field}`, '-nameopt', 'multiline'], { input: pem });
  return /commonName\s*=\s*(.+)/.exec(r.stdout)?.[1].trim() ?? '';
}

/** Splits a PEM bundle into its certificates. */
export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}
