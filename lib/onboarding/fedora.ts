import { Facts, blank, contact, location } from './fields';

/*
 * Fedora: what its mirroring page (fedoraproject.org/wiki/Infrastructure/Mirroring, "Signing up")
 * has a new public mirror do: introduce itself on the mirror-admin list, then register a Site and
 * a Host with their Categories in MirrorManager, then run report_mirror after each sync.
 */

export function fedoraApplication(f: Facts): string {
  const c = f.c;
  const rm = c.reports.reportMirror;
  const categories = f.trees.flatMap((t) =>
    Object.entries(t.tree.mirrorManagerCategories).flatMap(([name, rel]) => [
      `     ${name}`,
      ...(['http', 'https', 'rsync'] as const).flatMap((p) => (t.urls[p] ? [`       ${t.urls[p]}${rel.replace(/^\/|\/$/g, '')}/`] : [])),
    ]),
  );
  const lines = [
    `Fedora mirror sign-up for ${c.hostname}`,
    '',
    '1. Introduce the mirror on the mirror-admin list (you need a Fedora account)',
    '',
    `   To: ${blank('the mirror-admin list address given on the Fedora mirroring page')}`,
    `   Subject: New public mirror ${c.hostname} (${f.country})`,
    '',
    '   Hello,',
    '',
    `   We run ${c.hostname} in ${location(f)}, and would like it to be a public Fedora mirror.`,
    `   IP addresses: ${f.ipv4}, ${f.ipv6}`,
    `   Country: ${f.country}`,
    `   Outbound bandwidth for the mirror: ${f.bandwidth}`,
    ...f.trees.map((t) => `   Content: ${t.tree.name} from ${t.tree.upstream}, synced ${t.schedule}`),
    `   report_mirror runs after every successful sync.`,
    `   Contact: ${contact(c)}`,
    '',
    `   Subscribe ${c.admin.email} to the mirror-admin list as well: new releases are announced there.`,
    '',
    '2. Register in MirrorManager (log in with the Fedora account)',
    '',
    '   Site',
    `     Name: ${rm?.site ?? blank('the site name (reports.reportMirror.site)')}`,
    `     Password: ${blank('a site password of your own; report_mirror sends it (step 3)')}`,
    `     Organization URL: ${blank('your organisation\'s web page')}`,
    '     Private: no',
    `     Other admins: ${blank('Fedora account names, if any')}`,
    '   Host',
    `     Name: ${rm?.host ?? c.hostname}`,
    `     Country: ${c.site.country}`,
    `     Bandwidth (Mbit/s): ${c.bandwidthMbps}`,
    '     Private: no',
    `     Internet2 or another research network: ${blank('yes or no')}`,
    `     ASN: ${blank('your BGP AS number, only if clients on it should be sent here')}`,
    `     Netblocks: ${blank('your address ranges, only if clients in them should be sent here')}`,
    `     ACL IP addresses (for rsync from the tier-1 mirrors): ${f.ipv4}, ${f.ipv6}`,
    '   Categories and their URLs',
    ...(categories.length > 0 ? categories : [`     ${blank('the MirrorManager categories this host carries and their URLs')}`]),
    '',
    '3. report_mirror',
    '',
    ...(rm
      ? [
          '   Write the site password on the node into',
          `     ${rm.passwordFile}`,
          '   (mode 0640, owner root, group mirror). After each successful sync the node then reports',
          `   to ${rm.server} as site "${rm.site}", host "${rm.host}".`,
        ]
      : [`   ${blank('reports.reportMirror in mirror.yaml (site, host): the node reports after each sync once it is set')}`]),
  ];
  return `${lines.join('\n')}\n`;
}
