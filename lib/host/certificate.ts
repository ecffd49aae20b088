import { NodeConfig } from '../config/node-config';
import { CERT_NAME, NodeLayout, acmeWebroot } from '../render/layout';
import { renderShellVars } from '../render/shell';

/**
 * certbot's first issuance (N19): webroot through Apache, an ECDSA key, the preferred chain
 * passed on the command line so certbot itself writes preferred_chain into the renewal file,
 * and the deploy hook saved as renew_hook so every renewal reloads Apache gracefully.
 * Renewal is Debian's certbot.timer running `certbot renew`.
 */
export function certbotIssueArgs(c: NodeConfig, l: NodeLayout): string[] {
  return [
    'certonly',
    '--non-interactive',
    '--agree-tos',
    '--email', c.tls.email,
    '--server', c.tls.acmeServer,
    '--webroot', '--webroot-path', acmeWebroot(l),
    '--domain', c.hostname,
    '--cert-name', CERT_NAME,
    '--key-type', 'ecdsa',
    '--elliptic-curve', 'secp256r1',
    '--preferred-chain', c.tls.preferredChain,
    '--deploy-hook', `${l.binDir}/mirrorfleet-cert-deploy ${l.etcDir}/cert.env`,
    '--config-dir', l.letsencryptDir,
    '--work-dir', l.letsencryptWorkDir,
    '--logs-dir', l.letsencryptLogsDir,
  ];
}

/** The port of the first HTTP `Listen` (`80`, `127.0.0.1:8080`). */
function httpPort(l: NodeLayout): string {
  const m = /(\d+)$/.exec(l.httpListen[0] ?? '');
  if (!m) throw new Error(`layout.httpListen[0] has no port: ${JSON.stringify(l.httpListen[0])}`);
  return m[1];
}

/** cert.env: read by mirrorfleet-cert (issuance) and mirrorfleet-cert-deploy (the hook). */
export function renderCertEnv(c: NodeConfig, l: NodeLayout): string | undefined {
  if (!c.https.enabled) return undefined;
  return renderShellVars(`mirrorfleet: TLS certificate for ${c.hostname}. Written by mirrorfleet.`, {
    DOMAIN: c.hostname,
    CERT_LIVE: `${l.letsencryptDir}/live/${CERT_NAME}`,
    ACME_WEBROOT: acmeWebroot(l),
    METRICS_DIR: l.metricsDir,
    // Where the self-check fetches its token: the port the CA's http-01 validation uses.
    HTTP_PORT: httpPort(l),
    CERT_STATE_DIR: `${l.stateDir}/cert`,
    CERTBOT_ARGS: certbotIssueArgs(c, l),
  });
}
