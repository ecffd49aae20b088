import { NodeConfig } from '../config/node-config';
import { NodeLayout, acmeWebroot, certLive } from './layout';

/**
 * The mirror site (sites-available/mirrorfleet.conf): one :80 vhost, and a :443 vhost that
 * appears once the certificate exists. Both serve the same tree with the same rules.
 */
export function renderApacheSite(c: NodeConfig, l: NodeLayout): string {
  const port = (listen: string) => listen.replace(/^.*:/, '');
  const httpPort = port(l.httpListen[0]);
  const httpsPort = port(l.httpsListen[0]);
  const live = certLive(l);
  const tls = c.https.enabled
    ? `
# HTTPS, enabled by the certificate's presence (certbot's deploy hook reloads Apache).
<IfFile "${live}/fullchain.pem">
<VirtualHost *:${httpsPort}>
    ServerName ${c.hostname}
    SSLEngine on
    SSLCertificateFile ${live}/fullchain.pem
    SSLCertificateKeyFile ${live}/privkey.pem
${indent(mirrorBody(c, l, 'ssl'))}
</VirtualHost>
</IfFile>
`
    : '';
  const plain = c.http.enabled
    ? mirrorBody(c, l, 'plain')
    : `${acmeAlias(l)}
# HTTPS-only mirror: everything but the ACME challenge moves to HTTPS.
RewriteEngine On
RewriteCond %{REQUEST_URI} !^/\\.well-known/acme-challenge/
RewriteRule ^ https://${c.hostname}%{REQUEST_URI} [R=301,L]
ErrorLog ${l.apacheLogDir}/mirror-error.log
CustomLog ${l.apacheLogDir}/mirror-access.log mirror`;
  return `# mirrorfleet: ${c.preset.title} mirror ${c.hostname} (N1-N9)
# Written by mirrorfleet; changes here are lost on the next deploy.

<VirtualHost *:${httpPort}>
    ServerName ${c.hostname}
${indent(plain)}
</VirtualHost>
${tls}`;
}

function acmeAlias(l: NodeLayout): string {
  const webroot = acmeWebroot(l);
  return `# ACME http-01 challenges for certbot --webroot (N19): never redirected, never listed.
Alias /.well-known/acme-challenge/ ${webroot}/.well-known/acme-challenge/
<Directory ${webroot}/.well-known/acme-challenge>
    Options None
    AllowOverride None
    Require all granted
</Directory>`;
}

/** Everything a mirror vhost serves; identical on HTTP and HTTPS. */
function mirrorBody(c: NodeConfig, l: NodeLayout, kind: 'plain' | 'ssl'): string {
  const root = c.storage.mountPoint;
  const metadata = c.preset.metadataPatterns.map((p) => `<LocationMatch "${p}">
    Header set Cache-Control "max-age=0, must-revalidate"
    ExpiresActive On
    ExpiresDefault "now"
</LocationMatch>`);
  const rangeRefusal = c.http.refuseIsoRanges
    ? `
# Download accelerators: refuse ranged ISO requests (N5; breaks resumed downloads).
RewriteEngine On
RewriteCond %{HTTP:Range} [0-9]
RewriteRule \\.iso$ - [F]
`
    : '';
  return `DocumentRoot ${root}
${acmeAlias(l)}

<Directory ${root}>
    Options ${c.http.listings === 'all' ? '+Indexes' : '-Indexes'} +FollowSymLinks
    AllowOverride None
    Require all granted
    IndexOptions FancyIndexing VersionSort HTMLTable NameWidth=* IgnoreCase SuppressDescription
    IndexIgnore .~tmp~ lost+found .incoming
</Directory>
${listingDirs(c)}
# rsync's in-flight files (--delay-updates) are never served (N8).
<DirectoryMatch "/\\.~tmp~(/|$)">
    Require all denied
</DirectoryMatch>
<Directory ${root}/lost+found>
    Require all denied
</Directory>
# Hidden directories beside the trees (a master's upload area, M1) are never served.
<DirectoryMatch "^${root.replace(/[.]/g, '\\.')}/\\.">
    Require all denied
</DirectoryMatch>

# Byte-exact content: checksums and Content-Length must match the upstream (N8).
SetEnv no-gzip 1
SetEnv no-brotli 1
# Fedora guide: ISO and RPM files as application/octet-stream (N4).
AddType application/octet-stream .iso .rpm

# Repository metadata must not be cached by proxies (N3).
${metadata.join('\n')}
${rangeRefusal}
ErrorLog ${l.apacheLogDir}/mirror${kind === 'ssl' ? '-ssl' : ''}-error.log
CustomLog ${l.apacheLogDir}/mirror${kind === 'ssl' ? '-ssl' : ''}-access.log mirror`;
}

/** Directory listings (N7): the trace directories always, the rest as the config says. */
function listingDirs(c: NodeConfig): string {
  const root = c.storage.mountPoint;
  const listed = c.http.listings === 'all' || c.http.listings === 'none' ? [] : c.http.listings;
  const dirs = [
    ...listed.map((p) => `${root}${p.replace(/\/+$/, '')}`),
    ...(c.http.listings === 'all' ? [] : c.trees.map((t) => `${t.path}/project/trace`)),
  ];
  if (dirs.length === 0) return '';
  return `\n# Listings (N7): the guide's required directories and the trace directories checkers read.\n${dirs
    .map((d) => `<Directory ${d}>\n    Options +Indexes\n</Directory>`)
    .join('\n')}\n`;
}

const indent = (s: string) =>
  s
    .split('\n')
    .map((line) => (line ? `    ${line}` : line))
    .join('\n');
