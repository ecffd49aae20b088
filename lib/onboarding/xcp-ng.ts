import { DEFAULTS } from '../config/defaults';
import { Facts, blank, contact } from './fields';

/*
 * XCP-ng: the e-mail its mirrors page asks for (docs.xcp-ng.org/project/mirrors, "Send your
 * application"), one line per field of the page's example, filled from the config and the stack.
 */

const ADDRESS = 'mirrors@xcp-ng.org';

export function xcpNgApplication(f: Facts): string {
  const c = f.c;
  const first = f.trees[0];
  const each = (label: string, pick: (t: Facts['trees'][number]) => string | undefined, missing: string) => {
    const values = f.trees.map(pick).filter((v): v is string => v !== undefined);
    return `${label}: ${values.length > 0 ? values.join(', ') : missing}`;
  };
  const lines = [
    `To: ${ADDRESS}`,
    `Subject: Mirror application for ${c.hostname}`,
    '',
    'Hello,',
    '',
    `We would like to add ${c.hostname} to the XCP-ng mirrors. It is set up as your mirrors page`,
    'asks, and here are its details in the order of the page\'s example:',
    '',
    `Server name: ${c.hostname}`,
    `City: ${c.site.city}`,
    `Country: ${f.country}`,
    `GPS coordinates: ${c.site.coordinates === 'auto' ? 'auto' : c.site.coordinates}`,
    `Bandwidth: ${f.bandwidth}`,
    each('Source mirror', (t) => t.tree.upstream, blank('the mirror you sync from')),
    `Hostname, IPv4 and IPv6: ${c.hostname}, ${f.ipv4}, ${f.ipv6}`,
    `Host or IP to authorize: ${f.ipv4}, ${f.ipv6}`,
    `Sync frequency: ${first ? first.schedule : blank('how often the mirror syncs')}`,
    each('HTTP URL', (t) => t.urls.http, 'none (HTTP is off)'),
    each('HTTPS URL', (t) => t.urls.https, 'none (HTTPS is off)'),
    each('RSYNC URL', (t) => t.urls.rsync, 'none (rsync is off)'),
    `Workaround for Let's Encrypt certificates: ${workaround(f)}`,
    `Other prerequisites checked: ${blank(`"yes" once \`mirrorfleet check ${c.hostname} --preset xcp-ng\` passes`)}`,
    `Main contact: ${contact(c)}`,
    '',
    'Thank you,',
    c.admin.name,
  ];
  return `${lines.join('\n')}\n`;
}

function workaround(f: Facts): string {
  const c = f.c;
  if (!c.https.enabled) return 'not required (no HTTPS)';
  if (c.tls.acmeServer !== DEFAULTS.acmeServer) return `not required (certificates from ${c.tls.acmeServer}, not Let's Encrypt)`;
  return c.tls.preferredChain === 'ISRG Root X1'
    ? 'applied (certbot asks for the chain to ISRG Root X1)'
    : `not applied: the certificate chain is "${c.tls.preferredChain}"; the page asks for ISRG Root X1`;
}
