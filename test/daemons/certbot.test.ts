import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { NodeConfig } from '../../lib/config/node-config';
import { renderCertEnv } from '../../lib/host/certificate';
import { nodeCertificate } from '../../lib/roles/mirror-node/role';
import { NodeLayout, certLive } from '../../lib/render/layout';
import { TestApache, startApache } from '../support/apache';
import { exampleConfigAt, REPO, testLayout, tmpDir } from '../support/fixtures';
import { Pebble, certCn, startPebble } from '../support/pebble';
import { freePort } from '../support/ports';
import { describeWith, run } from '../support/tools';

/**
 * N19/N21 end to end: the real mirrorfleet-cert runs the real certbot against a local pebble CA,
 * which validates http-01 through the real Apache serving the rendered config; certbot's deploy
 * hook (the real mirrorfleet-cert-deploy) reloads that Apache, which then serves HTTPS.
 */
const HOST = 'mirror.test';
const PRESENT = `mirrorfleet-cert: certificate for ${HOST} present; renewal is certbot.timer's job\n`;
// The test's DNS (challtestsrv) listens on port 53 here; mirrorfleet-cert's `host` reaches it
// through a resolv.conf bind-mounted in a mount namespace of its own.
const DNS_ADDRESS = '127.0.0.153';

describeWith(['certbot', 'pebble', 'pebble-challtestsrv', 'apache2', 'openssl', 'curl', 'host', 'unshare'], 'certificate flow: certbot + pebble + the rendered Apache', () => {
  let root: string;
  let layout: NodeLayout;
  let config: NodeConfig;
  let pebble: Pebble | undefined;
  let apache: TestApache | undefined;
  let env: NodeJS.ProcessEnv;
  let certEnv: string;
  let resolvConf: string;
  let preferred: { cn: string; pem: string };
  let firstSerial: string;

  const live = (f: string) => path.join(certLive(layout), f);
  const state = (f: string) => path.join(layout.stateDir, 'cert', f);
  const metricsFile = () => path.join(layout.metricsDir, 'mirrorfleet_cert.prom');
  const diagnostics = () => `${pebble?.logs() ?? ''}\n${apache?.logs() ?? ''}`;
  const ossl = (args: string[], input?: string) => run('openssl', args, { input });
  const serialOf = (file: string) => normSerial(ossl(['x509', '-noout', '-serial', '-in', file]).stdout.replace(/^serial=/, ''));
  const notAfterOf = (file: string) => Date.parse(ossl(['x509', '-noout', '-enddate', '-in', file]).stdout.replace(/^notAfter=/, '').trim()) / 1000;
  const mirrorfleetCert = (extraEnv: NodeJS.ProcessEnv = {}, envFile = certEnv) =>
    run(
      'unshare',
      ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolvConf, path.join(REPO, 'assets', 'mirrorfleet-cert'), envFile],
      { env: { ...env, ...extraEnv }, timeoutMs: 45_000 },
    );
  /** Backdates a state file, as if the script had written it `minutes` ago. */
  const age = (file: string, minutes: number) => fs.utimesSync(file, new Date(Date.now() - minutes * 60_000), new Date(Date.now() - minutes * 60_000));

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('the certificate tests run as root (a mount namespace, DNS on port 53)');
    root = tmpDir('cert');
    const [http, https] = [await freePort(), await freePort()];
    layout = testLayout(root, { http, https });
    fs.mkdirSync(path.join(root, 'pebble'));
    pebble = await startPebble(path.join(root, 'pebble'), http, { dnsAddress: DNS_ADDRESS });
    resolvConf = path.join(root, 'resolv.conf');
    fs.writeFileSync(resolvConf, `nameserver ${DNS_ADDRESS}\n`);
    // An alternate root: the default chain (root 0) would not prove --preferred-chain works.
    preferred = pebble.roots[2];
    config = exampleConfigAt('xcp-ng', `${root}/srv/mirror`, {
      hostname: HOST,
      tls: { email: 'hostmaster@example.org', acmeServer: pebble.directory, preferredChain: preferred.cn },
    });
    certEnv = `${layout.etcDir}/cert.env`;
    fs.mkdirSync(layout.etcDir, { recursive: true });
    fs.writeFileSync(certEnv, renderCertEnv(nodeCertificate(config)!, layout));
    apache = await startApache(config, layout);
    env = { ...apache.env, REQUESTS_CA_BUNDLE: pebble.apiCaFile };
  }, 30_000);

  afterAll(async () => {
    await apache?.stop();
    await pebble?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('before any certificate: HTTP serves the ACME webroot, the HTTPS port refuses connections', async () => {
    expect(pebble!.roots.map((r) => r.cn)).toEqual([expect.stringMatching(/^Pebble Root CA /), expect.any(String), expect.any(String)]);
    expect(new Set(pebble!.roots.map((r) => r.cn)).size).toBe(3);
    const challengeDir = path.join(layout.stateDir, 'acme', '.well-known', 'acme-challenge');
    fs.mkdirSync(challengeDir, { recursive: true });
    fs.writeFileSync(path.join(challengeDir, 'probe'), 'probe-token\n');
    const r = run('curl', ['-sS', '-H', `Host: ${HOST}`, `http://127.0.0.1:${apache!.httpPort}/.well-known/acme-challenge/probe`]);
    fs.rmSync(path.join(challengeDir, 'probe'));
    expect(r.stdout).toBe('probe-token\n');
    expect(await connectError(apache!.httpsPort)).toBe('ECONNREFUSED');
  });

  it('cert.env tells the self-check the HTTP port and where to keep its state', () => {
    const text = fs.readFileSync(certEnv, 'utf8');
    expect(text).toContain(`HTTP_PORT=${apache!.httpPort}\n`);
    expect(text).toContain(`CERT_STATE_DIR=${layout.stateDir}/cert\n`);
  });

  it('first boot before DNS points here: the self-check fails, the CA is not asked, nothing is issued', async () => {
    // The name resolves elsewhere (nothing listens on 127.0.0.2).
    await pebble!.setA(HOST, ['127.0.0.2']);
    const r = mirrorfleetCertWithoutCertbot();
    expect(r.stderr).toBe(
      `mirrorfleet-cert: not asking the CA yet: ${HOST} resolves to 127.0.0.2; 127.0.0.2 does not serve this node's ACME webroot on port ${apache!.httpPort} (does its DNS point at this node yet?); retrying later\n`,
    );
    expect(r.status).toBe(1);
    expect(fs.existsSync(state('dns-waiting'))).toBe(true);
    expect(fs.existsSync(state('ca-failed'))).toBe(false);
    expect(fs.existsSync(live('fullchain.pem'))).toBe(false);
    expect(fs.existsSync(metricsFile())).toBe(false);
    expect(await connectError(apache!.httpsPort)).toBe('ECONNREFUSED');
    // The self-check's token does not stay in the webroot.
    expect(fs.readdirSync(path.join(layout.stateDir, 'acme', '.well-known', 'acme-challenge'))).toEqual([]);
  });

  it('a self-check failing for an hour (a node that cannot reach its own address) asks the CA anyway, once', async () => {
    age(state('dns-waiting'), 61);
    const r = mirrorfleetCert();
    expect(r.stderr).toContain(`mirrorfleet-cert: the self-check has failed for an hour (${HOST} resolves to 127.0.0.2;`);
    expect(r.stderr).toContain(`mirrorfleet-cert: issuance for ${HOST} failed at the CA; asking again in 900 s`);
    // certbot relays pebble's reason: it fetched the challenge from the address DNS gave it.
    expect(r.stdout + r.stderr).toMatch(/127\.0\.0\.2.*(refused|connect)/i);
    expect(r.status).toBe(1);
    expect(fs.existsSync(state('ca-failed'))).toBe(true);
    const again = mirrorfleetCertWithoutCertbot();
    expect(again.stderr).toMatch(/not asking the CA yet: .*; retrying later\n$/);
    expect(again.status).toBe(1);
  });

  it('an AAAA record that misses the node keeps it waiting though the A record is right (the CA tries IPv6 too)', async () => {
    await pebble!.clearA(HOST);
    // 100::/64 is the discard prefix: nothing answers there.
    await pebble!.setAAAA(HOST, ['100::1']);
    const r = mirrorfleetCertWithoutCertbot();
    expect(r.stderr).toContain(`not asking the CA yet: ${HOST} resolves to 127.0.0.1 100::1; [100::1] does not serve this node's ACME webroot`);
    expect(r.status).toBe(1);
  });

  it('DNS now points here (A and AAAA), but the CA refused the name minutes ago: it waits out 15 minutes first', async () => {
    await pebble!.clearAAAA(HOST);
    await pebble!.setAAAA(HOST, ['::1']);
    age(state('ca-failed'), 5);
    const r = mirrorfleetCertWithoutCertbot();
    await pebble!.clearAAAA(HOST);
    expect(r.stderr).toMatch(new RegExp(`^mirrorfleet-cert: ${HOST} reaches this node; the CA refused it 30\\d s ago, asking again in (59\\d|600) s\\n$`));
    expect(r.status).toBe(1);
    // The self-check passed: the wait for DNS is over.
    expect(fs.existsSync(state('dns-waiting'))).toBe(false);
  });

  it('a refusal by the CA while DNS is right restarts the 15 minutes', () => {
    age(state('ca-failed'), 16);
    const unreachableCa = path.join(layout.etcDir, 'cert-unreachable-ca.env');
    fs.writeFileSync(unreachableCa, renderCertEnv({ ...nodeCertificate(config)!, acmeServer: pebble!.directory.replace(/\/dir$/, '/no-such-directory') }, layout));
    const r = mirrorfleetCert({}, unreachableCa);
    expect(r.stderr).toContain(`mirrorfleet-cert: issuance for ${HOST} failed at the CA; asking again in 900 s`);
    expect(r.status).toBe(1);
    expect(Date.now() - fs.statSync(state('ca-failed')).mtimeMs).toBeLessThan(60_000);
  });

  it('the timer\'s next run after the wait, with DNS pointing here, issues the certificate', () => {
    age(state('ca-failed'), 16);
    const r = mirrorfleetCert();
    if (r.status !== 0) throw new Error(`mirrorfleet-cert failed (${r.status}):\n${r.stdout}\n${r.stderr}\n${diagnostics()}`);
    expect(r.stdout).toContain(`mirrorfleet-cert: certificate for ${HOST} issued`);
    expect(r.stdout + r.stderr).toContain(`mirrorfleet-cert-deploy: ${HOST} certificate valid until`);
    expect(fs.statSync(live('fullchain.pem')).size).toBeGreaterThan(0);
    expect(fs.readdirSync(path.join(layout.stateDir, 'cert'))).toEqual([]);
    firstSerial = serialOf(live('cert.pem'));
  });

  it('the certificate is ECDSA P-256 for the host name', () => {
    const text = ossl(['x509', '-noout', '-text', '-in', live('cert.pem')]).stdout;
    expect(text).toContain('id-ecPublicKey');
    expect(text).toContain('prime256v1');
    expect(text).toMatch(new RegExp(`Subject Alternative Name:\\s*\\n\\s*DNS:${HOST.replace('.', '\\.')}\\s*\\n`));
    expect(serialOf(live('fullchain.pem'))).toBe(firstSerial);
  });

  it('the chain ends at the preferred (alternate) root, not the default one', () => {
    expectPreferredChain();
  });

  it('certbot saved the renewal settings: webroot, ECDSA, preferred chain, the deploy hook as renew_hook', () => {
    const conf = renewalParams(fs.readFileSync(path.join(layout.letsencryptDir, 'renewal', 'mirrorfleet.conf'), 'utf8'));
    expect(conf).toMatchObject({
      authenticator: 'webroot',
      key_type: 'ecdsa',
      elliptic_curve: 'secp256r1',
      preferred_chain: preferred.cn,
      server: pebble!.directory,
      renew_hook: `${layout.binDir}/mirrorfleet-cert-deploy ${layout.etcDir}/cert.env`,
    });
    expect(conf.webroot_path).toBe(`${layout.stateDir}/acme,`);
  });

  it('the deploy hook wrote the expiry metric and Apache now serves the certificate over HTTPS', async () => {
    expectMetric(notAfterOf(live('cert.pem')));
    // apache2ctl graceful only signals Apache: the new listener may take a moment.
    expect(await waitForServedSerial(apache!.httpsPort, preferred.pem, firstSerial)).toBe(firstSerial);
    // The served chain leads to the preferred root only: root 0 cannot verify it.
    await expect(servedSerial(apache!.httpsPort, pebble!.roots[0].pem)).rejects.toThrow(/issuer|verify/i);
  });

  it('runs again quietly once the certificate exists, without running certbot', () => {
    const r = mirrorfleetCertWithoutCertbot();
    expect(r.stdout).toBe(PRESENT);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(serialOf(live('cert.pem'))).toBe(firstSerial);
  });

  it('certbot renew (the certbot.timer path) renews, reruns the hook, and Apache serves the new certificate', async () => {
    fs.rmSync(metricsFile());
    const r = run(
      'certbot',
      [
        'renew', '--force-renewal', '--no-random-sleep-on-renew', '--non-interactive',
        '--server', pebble!.directory,
        '--config-dir', layout.letsencryptDir, '--work-dir', layout.letsencryptWorkDir, '--logs-dir', layout.letsencryptLogsDir,
      ],
      { env, timeoutMs: 45_000 },
    );
    if (r.status !== 0) throw new Error(`certbot renew failed (${r.status}):\n${r.stdout}\n${r.stderr}\n${diagnostics()}`);
    const renewed = serialOf(live('cert.pem'));
    expect(renewed).not.toBe(firstSerial);
    expect(r.stdout + r.stderr).toContain(`mirrorfleet-cert-deploy: ${HOST} certificate valid until`);
    expectMetric(notAfterOf(live('cert.pem')));
    expectPreferredChain();
    expect(await waitForServedSerial(apache!.httpsPort, preferred.pem, renewed)).toBe(renewed);
  });

  it('a failing deploy hook is not lost: mirrorfleet-cert exits 1, and its next run finishes the deploy', async () => {
    // A fresh node's first issuance while Apache's config does not pass configtest.
    const before = await servedSerial(apache!.httpsPort, preferred.pem);
    const del = run('certbot', ['delete', '--non-interactive', '--cert-name', 'mirrorfleet', '--config-dir', layout.letsencryptDir, '--work-dir', layout.letsencryptWorkDir, '--logs-dir', layout.letsencryptLogsDir], { env });
    expect(del.status).toBe(0);
    fs.rmSync(metricsFile());
    const broken = path.join(layout.apacheConfDir, 'conf-enabled', 'zz-broken.conf');
    fs.writeFileSync(broken, 'NotAnApacheDirective on\n');
    let failed;
    try {
      failed = mirrorfleetCert();
    } finally {
      fs.rmSync(broken);
    }
    expect(failed.stderr).toContain(`mirrorfleet-cert: certificate for ${HOST} issued but its deploy hook failed; retrying later`);
    expect(failed.status).toBe(1);
    const issued = serialOf(live('cert.pem'));
    expect(fs.existsSync(metricsFile())).toBe(false);
    expect(await servedSerial(apache!.httpsPort, preferred.pem)).toBe(before);

    const retried = mirrorfleetCertWithoutCertbot();
    expect(retried.stdout).toContain(`mirrorfleet-cert-deploy: ${HOST} certificate valid until`);
    expect(retried.stdout).toContain(PRESENT);
    expect(retried.status).toBe(0);
    expectMetric(notAfterOf(live('cert.pem')));
    expect(await waitForServedSerial(apache!.httpsPort, preferred.pem, issued)).toBe(issued);

    const quiet = mirrorfleetCertWithoutCertbot();
    expect([quiet.status, quiet.stdout]).toEqual([0, PRESENT]);
  });

  /** mirrorfleet-cert with a `certbot` on PATH that fails the test if it is run at all. */
  function mirrorfleetCertWithoutCertbot() {
    const stubDir = path.join(root, 'stub-bin');
    const marker = path.join(root, 'certbot-was-run');
    fs.mkdirSync(stubDir, { recursive: true });
    fs.writeFileSync(path.join(stubDir, 'certbot'), `#!/bin/sh\ntouch '${marker}'\nexit 99\n`, { mode: 0o755 });
    const r = mirrorfleetCert({ PATH: `${stubDir}:${env.PATH}` });
    expect(fs.existsSync(marker)).toBe(false);
    return r;
  }

  function expectPreferredChain(): void {
    const chain = pems(fs.readFileSync(live('chain.pem'), 'utf8'));
    const top = chain[chain.length - 1];
    expect(certCn(top, 'issuer')).toBe(preferred.cn);
    expect(certCn(top, 'issuer')).not.toBe(pebble!.roots[0].cn);
    const full = pems(fs.readFileSync(live('fullchain.pem'), 'utf8'));
    expect(certCn(full[full.length - 1], 'issuer')).toBe(preferred.cn);
    // openssl agrees: the leaf verifies up to the preferred root and not up to root 0.
    const rootFile = (i: number) => {
      const f = path.join(root, `root-${i}.pem`);
      fs.writeFileSync(f, pebble!.roots[i].pem);
      return f;
    };
    const verify = (i: number) => ossl(['verify', '-CAfile', rootFile(i), '-untrusted', live('chain.pem'), live('cert.pem')]);
    expect(verify(pebble!.roots.indexOf(preferred)).stdout).toContain(': OK');
    expect(verify(0).status).not.toBe(0);
  }

  function expectMetric(notAfter: number): void {
    const prom = fs.readFileSync(metricsFile(), 'utf8');
    expect(prom).toContain('# TYPE mirrorfleet_cert_not_after_timestamp_seconds gauge');
    const m = new RegExp(`^mirrorfleet_cert_not_after_timestamp_seconds\\{domain="${HOST}"\\} (\\d+)$`, 'm').exec(prom);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBe(notAfter);
  }
});

/** The error code of a TCP connection attempt to 127.0.0.1:port, or 'connected'. */
function connectError(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** The serial of the certificate served on 127.0.0.1:port for HOST, verified against `ca`. */
function servedSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: HOST, ca }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.end();
      resolve(normSerial(serial));
    });
    s.on('error', reject);
  });
}

/** After a graceful reload old workers may still answer briefly: poll for the expected serial. */
async function waitForServedSerial(port: number, ca: string, expected: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await servedSerial(port, ca).catch((e: Error) => e.message);
    if (last === expected) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

const normSerial = (s: string) => s.trim().toUpperCase().replace(/^0+/, '');

function pems(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

/** `key = value` lines of a certbot renewal file (configobj), later keys winning. */
function renewalParams(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}
