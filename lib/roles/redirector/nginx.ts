import type { RedirectorConfig } from '../../project/redirector';
import { acmeWebroot, certLive } from '../../render/layout';
import { RedirectorLayout, repositoryPath } from './layout';

/*
 * nginx in front of mirrorbits (R1, R7). It sets X-Forwarded-For to the peer it sees, replacing
 * whatever the client sent: mirrorbits locates clients by the left-most entry of that header, so
 * a header passed through would let any client choose its country. It serves /healthz itself
 * (no Redis involved), the ACME challenge, directory listings of the local copy; files and the
 * ?mirrorlist / ?mirrorstats pages go to mirrorbits on loopback.
 */

/** The site: the map and the :80 server; the HTTPS server is renderNginxTls, installed with the certificate. */
export function renderNginxSite(r: RedirectorConfig, rl: RedirectorLayout): string {
  return `# mirrorfleet: the redirector ${r.node.hostname} (R1, R7). Written by mirrorfleet.

log_format mirrorfleet '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
                       '"$upstream_http_location" "$http_user_agent" $request_time';

# The mirror list and statistics pages are mirrorbits', even on a directory.
map $args $mirrorfleet_mirrorbits_page {
    ~(^|&)(mirrorlist|mirrorstats)(=|&|$) 1;
    default 0;
}

upstream mirrorfleet_mirrorbits {
    server ${rl.mirrorbitsHttp};
    keepalive 32;
}

server {
    listen ${rl.nginxHttpPort};
    listen [::]:${rl.nginxHttpPort};
    server_name ${r.node.hostname};
${body(r, rl)}
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

function body(r: RedirectorConfig, rl: RedirectorLayout): string {
  return `    access_log ${rl.nginxLogDir}/mirrorfleet-access.log mirrorfleet;
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
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_redirect off;
    }`;
}
