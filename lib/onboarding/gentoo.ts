import { Facts, blank, contact, location } from './fields';

/*
 * Gentoo: the text of the ticket its source-mirrors page asks a new mirror to file
 * (wiki.gentoo.org/wiki/Project:Mirrors/Source_mirrors, "Requesting inclusion"): every field of
 * the request, and what the page holds a mirror to (bandwidth, connections, disk, schedule,
 * listings, the one allowed exclude).
 */

export function gentooApplication(f: Facts): string {
  const c = f.c;
  const lines = [
    `Where: Gentoo's bug tracker, product "Mirrors" (log in first)`,
    `Summary: New source mirror ${c.hostname} (${location(f)})`,
    '',
    `We would like ${c.hostname} to become a Gentoo community source mirror. The initial`,
    'fetch is complete and the update job is in place.',
    '',
    `Mirror host name: ${c.hostname}`,
    `Sponsor name: ${blank('who hosts and pays for the mirror')}`,
    `Sponsor URL: ${blank('the sponsor\'s web page')}`,
    `Sponsor logo URL: ${blank('a logo for the mirror list, if you want one shown')}`,
    `Location: ${location(f)} (${c.site.country})`,
    `Administrative contact: ${contact(c)}`,
    `Upstream bandwidth: ${f.bandwidth}`,
    `Concurrent connections: up to ${c.http.maxRequestWorkers}`,
    `Disk: ${c.storage.sizeGiB} GiB for the mirror`,
    `IPv4 address: ${f.ipv4}`,
    `IPv6 address: ${f.ipv6}`,
    ...f.trees.flatMap((t) => [
      `URLs of ${t.tree.name}:`,
      ...(['http', 'https', 'rsync'] as const).flatMap((p) => (t.urls[p] ? [`  ${t.urls[p]}`] : [])),
      `Synced from: ${t.tree.upstream}`,
      `Schedule: ${t.schedule} (${c.timezone})`,
      `Excluded: ${t.tree.excludes.length > 0 ? t.tree.excludes.join(', ') : 'nothing'}`,
    ]),
    // The loader refuses a Gentoo config without these listings (lib/config/prerequisites.ts).
    `Directory listings: ${f.trees.flatMap((t) => c.preset.requiredListings.map((l) => `${t.tree.urlPath.replace(/\/$/, '')}${l}/`)).join(', ')}`,
    `Admin on the gentoo-mirrors list: ${blank('yes once subscribed')}`,
  ];
  return `${lines.join('\n')}\n`;
}
