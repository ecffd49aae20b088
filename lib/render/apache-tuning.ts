import { NodeConfig } from '../config/node-config';
import { NodeLayout, certLive } from './layout';

/** Log format with bytes in and out (%I %O, N6) and the serve time in µs. */
export const MIRROR_LOG_FORMAT = '"%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" %I %O \\"%{User-Agent}i\\" %D"';

/** The event MPM's numbers for a configured MaxRequestWorkers (N2). */
export interface MpmSizing {
  readonly threadsPerChild: number;
  /** MaxRequestWorkers as Apache applies it: a whole number of processes. */
  readonly workers: number;
  /** Processes MaxRequestWorkers needs; all started by StartServers. */
  readonly processes: number;
  /** Twice the processes: room for a whole generation still finishing its downloads. */
  readonly serverLimit: number;
  readonly minSpareThreads: number;
  /** Never below the pool: idle processes are not stopped (each stop holds a slot until its downloads end). */
  readonly maxSpareThreads: number;
}

export function mpmSizing(maxRequestWorkers: number): MpmSizing {
  const threadsPerChild = 25;
  // Apache lowers a MaxRequestWorkers that is not a multiple of ThreadsPerChild (AH00513: 30 runs
  // as 25, 160 as 150): round up so at least the configured number of downloads is served.
  const processes = Math.ceil(maxRequestWorkers / threadsPerChild);
  const workers = processes * threadsPerChild;
  const minSpareThreads = threadsPerChild;
  // Apache raises MaxSpareThreads below MinSpareThreads + ThreadsPerChild to that sum.
  const maxSpareThreads = Math.max(workers, minSpareThreads + threadsPerChild);
  return { threadsPerChild, workers, processes, serverLimit: 2 * processes, minSpareThreads, maxSpareThreads };
}

/**
 * Server-wide tuning (conf-available/mirrorfleet.conf): keep-alive per the Fedora guide (N2),
 * an event MPM pool sized from the bandwidth, and TLS settings old installers still accept.
 */
export function renderApacheTuning(c: NodeConfig): string {
  const m = mpmSizing(c.http.maxRequestWorkers);
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

# Event MPM sized for ${c.bandwidthMbps} Mbit/s: ${m.workers} concurrent downloads (N2) in ${m.processes} processes,
# all started at once and kept; ServerLimit leaves room for as many again, still finishing
# their downloads after a graceful reload (certificate renewal, deploy). docs/adr/0040
<IfModule mpm_event_module>
    ServerLimit             ${m.serverLimit}
    StartServers            ${m.processes}
    ThreadLimit             64
    ThreadsPerChild         ${m.threadsPerChild}
    MinSpareThreads         ${m.minSpareThreads}
    MaxSpareThreads         ${m.maxSpareThreads}
    MaxRequestWorkers       ${m.workers}
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
