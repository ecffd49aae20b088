import type { RedirectorConfig } from '../../project/redirector';
import { acmeWebroot, certLive } from '../../render/layout';
import { RedirectorLayout, repositoryPath } from './layout';

/*
 * nginx in front of mirrorbits (R1, R7). It sets X-Forwarded-For to the peer it sees, replacing
 * whatever the client sent: mirrorbits locates clients by the left-most entry of that header, so
 * a header passed through would let any client choose its country. It serves /healthz itself
 * (no Redis involved), the ACME challenge, directory listings of the local copy; files and the
 * ?mirrorlist / ?mirrorstats pages go to mirrorbits on loopback.
 *
 * Behind a load balancer (the scaled profile) the peer is the balancer, which appends the client
 * to the header it received: `trustedProxies` makes nginx take the client from that header,
 * walking it from the right past trusted addresses only, before replacing it as above.
 */

export interface NginxSiteOptions {
  /** Networks whose X-Forwarded-For and X-Forwarded-Proto nginx believes (the load balancer's VPC). */
  readonly trustedProxies?: readonly string[];
}

/** The site: the map and the :80 server; the HTTPS server is renderNginxTls, installed with the certificate. */
export function renderNginxSite(r: RedirectorConfig, rl: RedirectorLayout, opts: NginxSiteOptions = {}): string {
  return `# mirrorfleet: the redirector ${r.node.hostname} (R1, R7). Written by mirrorfleet.

log_format mirrorfleet '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
                       '"$upstream_http_location" "$http_user_agent" $request_time';

# The mirror list and statistics pages are mirrorbits', even on a directory.
map $args $mirrorfleet_mirrorbits_page {
    ~(^|&)(mirrorlist|mirrorstats)(=|&|$) 1;
    default 0;
}

${trustedMaps(opts)}upstream mirrorfleet_mirrorbits {
    server ${rl.mirrorbitsHttp};
    keepalive 32;
}

server {
    listen ${rl.nginxHttpPort};
    listen [::]:${rl.nginxHttpPort};
    server_name ${r.node.hostname};
${body(r, rl, opts)}
}

include ${rl.nginxConfDir}/mirrorfleet-tls/*.conf;
`;
}

/** The HTTPS server, copied into place by the certificate's deploy hook once the files exist. */
export function renderNginxTls(r: RedirectorConfig, rl: RedirectorLayout): string {
  const live = certLive(rl.host);
  return `# mirrorfleet: HTTPS for ${r.node.hostname}, installed by mirrorfleet-cert-deploy once the certificate exists.
server {
    # Debian 12's nginx (1.22): http2 is a listen flag.
    listen ${rl.nginxHttpsPort} ssl http2;
    listen [::]:${rl.nginxHttpsPort} ssl http2;
    server_name ${r.node.hostname};
    ssl_certificate ${live}/fullchain.pem;
    ssl_certificate_key ${live}/privkey.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
${body(r, rl)}
}
`;
}

/** Which scheme the client used: the trusted balancer's word for it, else the connection's own. */
function trustedMaps(opts: NginxSiteOptions): string {
  if (!opts.trustedProxies?.length) return '';
  return `# Only a trusted proxy's peer address says the request came through it (the original peer,
# before real_ip_header rewrites $remote_addr).
geo $realip_remote_addr $mirrorfleet_from_proxy {
    default 0;
${opts.trustedProxies.map((c) => `    ${c} 1;`).join('\n')}
}

map "$mirrorfleet_from_proxy:$http_x_forwarded_proto" $mirrorfleet_forwarded_proto {
    ~^1:(?<proto>https?)$ $proto;
    default $scheme;
}

`;
}

function body(r: RedirectorConfig, rl: RedirectorLayout, opts: NginxSiteOptions = {}): string {
  const trusted = opts.trustedProxies?.length
    ? `
    # The client is the right-most address no trusted proxy wrote: a client's own entries, left
    # of it, never count (R7).
${opts.trustedProxies.map((c) => `    set_real_ip_from ${c};`).join('\n')}
    real_ip_header X-Forwarded-For;
    real_ip_recursive on;
`
    : '';
  const proto = opts.trustedProxies?.length ? '$mirrorfleet_forwarded_proto' : '$scheme';
  return `${trusted}    access_log ${rl.nginxLogDir}/mirrorfleet-access.log mirrorfleet;
    error_log ${rl.nginxLogDir}/mirrorfleet-error.log;

    location ^~ /.well-known/acme-challenge/ {
        root ${acmeWebroot(rl.host)};
        default_type text/plain;
    }

    # The load balancer's and the monitors' check: nginx alone, no Redis, no mirrorbits.
    location = /healthz {
        default_type text/plain;
        return 200 "ok\\n";
    }

    location / {
        root ${repositoryPath(r)};
        error_page 418 = @mirrorbits;
        if ($mirrorfleet_mirrorbits_page) { return 418; }
        # Directories are listed from the local copy; files (and what is missing) go to mirrorbits.
        autoindex on;
        try_files $uri/ @mirrorbits;
    }

    location @mirrorbits {
        proxy_pass http://mirrorfleet_mirrorbits;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        # Replaced, never appended: the client's own header must not choose its location (R7).
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-Proto ${proto};
        proxy_redirect off;
    }`;
}
