import { NodeConfig } from '../config/node-config';
import { NodeLayout, certLive } from './layout';

/** Log format with bytes in and out (%I %O, N6) and the serve time in µs. */
export const MIRROR_LOG_FORMAT = '"%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" %I %O \\"%{User-Agent}i\\" %D"';

/**
 * Server-wide tuning (conf-available/mirrorfleet.conf): keep-alive per the Fedora guide (N2),
 * an event MPM pool sized from the bandwidth, and TLS settings old installers still accept.
 */
export function renderApacheTuning(c: NodeConfig): string {
  const threadsPerChild = 25;
  // Apache lowers a MaxRequestWorkers that is not a multiple of ThreadsPerChild (AH00513: 30 runs
  // as 25, 160 as 150): round up so at least the configured number of downloads is served.
  const workers = Math.ceil(c.http.maxRequestWorkers / threadsPerChild) * threadsPerChild;
  const serverLimit = Math.max(16, Math.ceil(workers / threadsPerChild));
  return `# mirrorfleet: Apache tuning for the ${c.preset.title} mirror ${c.hostname}
# Written by mirrorfleet; changes here are lost on the next deploy.

# Fedora guide: "KeepAlive On, KeepAliveTimeout 2, MaxKeepAliveRequests 100" (N2)
KeepAlive On
KeepAliveTimeout 2
MaxKeepAliveRequests 100
# Debian's 300 s holds workers on dead clients; downloads keep sending, so 60 s is plenty.
Timeout 60

# The node's name for redirects and messages (Debian's security.conf keeps its own tokens).
ServerName ${c.hostname}
# Large static files: let the kernel copy them (plain HTTP).
EnableSendfile On

# Event MPM sized for ${c.bandwidthMbps} Mbit/s: ${workers} concurrent downloads (N2).
<IfModule mpm_event_module>
    ServerLimit             ${serverLimit}
    StartServers            2
    ThreadLimit             64
    ThreadsPerChild         ${threadsPerChild}
    MinSpareThreads         ${threadsPerChild}
    MaxSpareThreads         ${Math.max(75, Math.ceil(workers / 4 / threadsPerChild) * threadsPerChild)}
    MaxRequestWorkers       ${workers}
    MaxConnectionsPerChild  0
</IfModule>

# Bytes received and sent per request, so partial downloads are counted (N6).
LogFormat ${MIRROR_LOG_FORMAT} mirror

<IfModule ssl_module>
    SSLProtocol -all +TLSv1.2 +TLSv1.3
    SSLHonorCipherOrder off
    SSLSessionTickets off
</IfModule>
`;
}

/**
 * ports.conf: HTTP always (ACME needs it even when the mirror is HTTPS-only); HTTPS only once
 * certbot has written the certificate, so Apache starts before the first issuance.
 */
export function renderApachePorts(c: NodeConfig, l: NodeLayout): string {
  const http = l.httpListen.map((a) => `Listen ${a}`).join('\n');
  const https = c.https.enabled
    ? `\n<IfFile "${certLive(l)}/fullchain.pem">\n${l.httpsListen.map((a) => `    Listen ${a} https`).join('\n')}\n</IfFile>\n`
    : '';
  return `# mirrorfleet: listeners (a bare port listens on IPv4 and IPv6, N9)
${http}
${https}`;
}
