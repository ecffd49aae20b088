import { Facts, contact, location, urlLines } from './fields';

/*
 * A project without a preset: a neutral summary of what any mirror list needs to know, in the
 * order a reviewer reads it.
 */

export function customApplication(f: Facts): string {
  const c = f.c;
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const lines = [
    `Mirror summary: ${c.hostname}`,
    '',
    `Host name: ${c.hostname}`,
    `Location: ${location(f)} (coordinates: ${c.site.coordinates})`,
    `Contact: ${contact(c)}`,
    `Bandwidth: ${f.bandwidth}`,
    `IPv4 address: ${f.ipv4}`,
    `IPv6 address: ${f.ipv6}`,
    `Protocols: HTTP ${yes(c.http.enabled)}, HTTPS ${yes(c.https.enabled)}, rsync ${yes(c.rsync.enabled)} (read-only, --checksum refused)`,
    `Storage: ${c.storage.sizeGiB} GiB`,
    '',
    ...f.trees.flatMap((t) => [
      `Tree ${t.tree.name}`,
      `  Synced from: ${t.tree.upstream}, ${t.schedule} (${c.timezone})`,
      `  Excluded: ${t.tree.excludes.length > 0 ? t.tree.excludes.join(', ') : 'nothing'}`,
      ...urlLines(t.urls, '  '),
      ...(c.reports.trace ? [`  Trace file: ${t.urls.https ?? t.urls.http ?? t.urls.rsync}project/trace/${c.hostname}`] : []),
      '',
    ]),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}
