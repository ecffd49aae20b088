import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { freePort, waitForPort } from './ports';
import { run } from './tools';

/**
 * A local ACME CA for the certificate tests: the real pebble server plus pebble-challtestsrv as
 * its DNS (every name answers 127.0.0.1 unless a test says otherwise), so pebble validates
 * http-01 challenges against the test's Apache on `httpPort`. Debian's pebble ships no TLS
 * certificate for its own API, so one is made here with openssl; certbot trusts it through
 * REQUESTS_CA_BUNDLE.
 */
export interface Pebble {
  /** ACME directory URL: the config's tls.acmeServer. */
  readonly directory: string;
  /** CA of pebble's own HTTPS API (REQUESTS_CA_BUNDLE for certbot). */
  readonly apiCaFile: string;
  /** The roots pebble issues under: [0] is the default chain, the rest are alternates. */
  readonly roots: readonly { readonly cn: string; readonly pem: string }[];
  /** Makes the fake DNS answer `addresses` for A queries on `host` (overrides the default). */
  setA(host: string, addresses: string[]): Promise<void>;
  /** Back to the default answer (127.0.0.1) for `host`. */
  clearA(host: string): Promise<void>;
  /** Makes the fake DNS answer `addresses` for AAAA queries on `host` (default: none). */
  setAAAA(host: string, addresses: string[]): Promise<void>;
  clearAAAA(host: string): Promise<void>;
  /** pebble's and challtestsrv's output so far, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

/** openssl: a throwaway CA and a certificate for 127.0.0.1/localhost signed by it. */
export function makeApiCert(dir: string): { ca: string; cert: string; key: string } {
  const f = (name: string) => path.join(dir, name);
  const ossl = (...args: string[]) => {
    const r = run('openssl', args);
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl('req', '-x509', ...ec, '-keyout', f('api-ca.key'), '-out', f('api-ca.pem'), '-days', '2', '-subj', '/CN=mirrorfleet test pebble API CA');
  ossl('req', ...ec, '-keyout', f('api.key'), '-out', f('api.csr'), '-subj', '/CN=localhost');
  fs.writeFileSync(
    f('api.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n',
  );
  ossl('x509', '-req', '-in', f('api.csr'), '-CA', f('api-ca.pem'), '-CAkey', f('api-ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('api.ext'), '-out', f('api.pem'));
  return { ca: f('api-ca.pem'), cert: f('api.pem'), key: f('api.key') };
}

/** The subject CN of a PEM certificate. */
export function certCn(pem: string, field: 'subject' | 'issuer' = 'subject'): string {
  const r = run('openssl', ['x509', '-noout', `-${field}`, '-nameopt', 'multiline'], { input: pem });
  const m = /commonName\s*=\s*(.+)/.exec(r.stdout);
  if (!m) throw new Error(`no ${field} CN in certificate: ${r.stderr}`);
  return m[1].trim();
}

/** GET over HTTPS trusting only `ca`; resolves with status and body. */
export function httpsGet(url: string, ca: string, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function postJson(url: string, payload: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const http = require('node:http') as typeof import('node:http');
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(JSON.stringify(payload));
  });
}

function startLogged(cmd: string, args: string[], logFile: string, env: NodeJS.ProcessEnv): ChildProcess {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts challtestsrv and pebble (in `dir`), validating http-01 on 127.0.0.1:`httpPort`.
 * `dnsAddress` puts the DNS on port 53 of that address, where a resolv.conf can point (a glibc or
 * BIND resolver takes no port); else it is on a free port of 127.0.0.1, for pebble alone.
 */
export async function startPebble(dir: string, httpPort: number, opts: { alternateRoots?: number; dnsAddress?: string } = {}): Promise<Pebble> {
  const alternateRoots = opts.alternateRoots ?? 2;
  const api = makeApiCert(dir);
  const [acme, mgmt, tlsPort, dnsMgmt] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const dnsListen = opts.dnsAddress ? `${opts.dnsAddress}:53` : `127.0.0.1:${await freePort()}`;
  const configFile = path.join(dir, 'pebble.json');
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acme}`,
        managementListenAddress: `127.0.0.1:${mgmt}`,
        certificate: api.cert,
        privateKey: api.key,
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const logFiles = [path.join(dir, 'challtestsrv.log'), path.join(dir, 'pebble.log')];
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const c of children.reverse()) await stopChild(c);
  };
  try {
    children.push(
      startLogged(
        'pebble-challtestsrv',
        ['-dns01', dnsListen, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${dnsMgmt}`, '-defaultIPv6', '', '-defaultIPv4', '127.0.0.1'],
        logFiles[0],
        process.env,
      ),
    );
    await waitForPort(dnsMgmt);
    children.push(
      startLogged('pebble', ['-config', configFile, '-dnsserver', dnsListen, '-strict=false'], logFiles[1], {
        ...process.env,
        PEBBLE_VA_NOSLEEP: '1',
        PEBBLE_ALTERNATE_ROOTS: String(alternateRoots),
        PEBBLE_WFE_NONCEREJECT: '0',
        // Every order is validated for real: no authorization reuse between orders.
        PEBBLE_AUTHZREUSE: '0',
      }),
    );
    await waitForPort(acme);
    await waitForPort(mgmt);
    const ca = fs.readFileSync(api.ca, 'utf8');
    const roots = [];
    for (let i = 0; i <= alternateRoots; i++) {
      const r = await httpsGet(`https://127.0.0.1:${mgmt}/roots/${i}`, ca);
      if (r.status !== 200) throw new Error(`pebble /roots/${i}: HTTP ${r.status}`);
      roots.push({ cn: certCn(r.body), pem: r.body });
    }
    const dnsApi = `http://127.0.0.1:${dnsMgmt}`;
    const fqdn = (h: string) => (h.endsWith('.') ? h : `${h}.`);
    return {
      directory: `https://127.0.0.1:${acme}/dir`,
      apiCaFile: api.ca,
      roots,
      setA: (host, addresses) => postJson(`${dnsApi}/add-a`, { host: fqdn(host), addresses }),
      clearA: (host) => postJson(`${dnsApi}/clear-a`, { host: fqdn(host) }),
      setAAAA: (host, addresses) => postJson(`${dnsApi}/add-aaaa`, { host: fqdn(host), addresses }),
      clearAAAA: (host) => postJson(`${dnsApi}/clear-aaaa`, { host: fqdn(host) }),
      logs: () => logFiles.map((f) => `==> ${f}\n${fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : ''}`).join('\n'),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
