import { CERT_NAME, NodeLayout, acmeWebroot } from '../render/layout';
import { renderShellVars } from '../render/shell';
import { HostFile, assetScript } from './files';
import { UnitFile } from './units';

/*
 * The host's TLS certificate (N19), the same for every role that serves HTTPS: certbot's first
 * issuance through the webroot (retried every 30 s behind a self-check, docs/adr/0024), the
 * preferred chain written into the renewal file by certbot itself, a deploy hook that reloads the
 * web server gracefully and publishes the expiry as a metric. Renewal is Debian's certbot.timer.
 */

export interface CertificateSettings {
  readonly hostname: string;
  /** The contact the CA writes to about expiry. */
  readonly email: string;
  readonly acmeServer: string;
  /** The root whose chain certbot keeps ("ISRG Root X1"). */
  readonly preferredChain: string;
  /**
   * The web server the deploy hook reloads: Apache turns HTTPS on by itself (`<IfFile>`); nginx
   * gets its HTTPS server block installed from `tlsSite` first, as it cannot start without the files.
   * @default apache2
   */
  readonly webServer?: 'apache2' | 'nginx';
  readonly tlsSite?: { readonly template: string; readonly enabled: string };
}

/** Debian packages: certbot, and `host` for the self-check (it asks DNS, not /etc/hosts). */
export const CERTIFICATE_PACKAGES = ['certbot', 'bind9-host'] as const;
export const CERT_SERVICE = 'mirrorfleet-cert.service';
export const CERT_TIMER = 'mirrorfleet-cert.timer';

/**
 * certbot's first issuance: webroot, an ECDSA key, the preferred chain on the command line (so
 * certbot writes preferred_chain into the renewal file), the deploy hook saved as renew_hook.
 */
export function certbotIssueArgs(s: CertificateSettings, l: NodeLayout): string[] {
  return [
    'certonly',
    '--non-interactive',
    '--agree-tos',
    '--email', s.email,
    '--server', s.acmeServer,
    '--webroot', '--webroot-path', acmeWebroot(l),
    '--domain', s.hostname,
    '--cert-name', CERT_NAME,
    '--key-type', 'ecdsa',
    '--elliptic-curve', 'secp256r1',
    '--preferred-chain', s.preferredChain,
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
export function renderCertEnv(s: CertificateSettings, l: NodeLayout): string {
  return renderShellVars(`mirrorfleet: TLS certificate for ${s.hostname}. Written by mirrorfleet.`, {
    DOMAIN: s.hostname,
    CERT_LIVE: `${l.letsencryptDir}/live/${CERT_NAME}`,
    ACME_WEBROOT: acmeWebroot(l),
    METRICS_DIR: l.metricsDir,
    // Where the self-check fetches its token: the port the CA's http-01 validation uses.
    HTTP_PORT: httpPort(l),
    CERT_STATE_DIR: `${l.stateDir}/cert`,
    CERTBOT_ARGS: certbotIssueArgs(s, l),
    WEB_SERVER: s.webServer === 'nginx' ? 'nginx' : undefined,
    TLS_SITE: s.tlsSite?.template,
    TLS_SITE_ENABLED: s.tlsSite?.enabled,
  });
}

/** First issuance retries every 30 s until it works (DNS may not point at the host yet); renewal is certbot.timer's. */
export function certificateUnits(s: CertificateSettings, l: NodeLayout): UnitFile[] {
  return [
    {
      name: CERT_SERVICE,
      enable: false,
      content: `[Unit]
Description=Obtain the TLS certificate for ${s.hostname} (once; certbot.timer renews)
Wants=network-online.target
After=network-online.target ${s.webServer ?? 'apache2'}.service

[Service]
Type=oneshot
ExecStart=${l.binDir}/mirrorfleet-cert ${l.etcDir}/cert.env
# Issued and deployed: the retry timer has done its job (a rebuilt node's provisioning enables it again).
ExecStartPost=/usr/bin/systemctl disable --now --no-block ${CERT_TIMER}
`,
    },
    {
      name: CERT_TIMER,
      enable: true,
      content: `[Unit]
Description=Retry the first TLS certificate issuance for ${s.hostname}

[Timer]
# Cheap while DNS is not right yet: mirrorfleet-cert asks the CA only once its self-check passes.
OnBootSec=30s
OnUnitInactiveSec=30s
AccuracySec=1s

[Install]
WantedBy=timers.target
`,
    },
  ];
}

/** Everything the certificate needs on the host: its settings, its units and its two scripts. */
export function certificateFiles(s: CertificateSettings, l: NodeLayout): HostFile[] {
  return [
    { path: `${l.etcDir}/cert.env`, content: renderCertEnv(s, l), mode: '0644' },
    ...certificateUnits(s, l).map((u) => ({ path: `${l.systemdDir}/${u.name}`, content: u.content, mode: '0644' })),
    assetScript('mirrorfleet-cert', l.binDir),
    assetScript('mirrorfleet-cert-deploy', l.binDir),
  ];
}
