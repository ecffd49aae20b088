import { NodeConfig, TreeConfig } from '../config/node-config';
import { describeSchedule } from '../config/schedule';
import { nodeUrls, TreeUrls } from '../roles/mirror-node/urls';
import { Deployed } from './outputs';

/*
 * The facts an application is made of, each from the config or the deployed stack, and the two
 * kinds of gap: a blank only the provider can fill (never invented), and an address the stack
 * has not reported yet (rerun with --outputs).
 */

/** A field the config cannot know: the provider fills it in. */
export const blank = (what: string) => `[fill in: ${what}]`;
/** A value the deployed stack reports; without --outputs it is not known yet. */
export const pending = (what: string) => `[after deploy: ${what}]`;

export interface Facts {
  readonly c: NodeConfig;
  readonly ipv4: string;
  readonly ipv6: string;
  readonly deployed?: Deployed;
  readonly country: string;
  readonly bandwidth: string;
  readonly trees: readonly { readonly tree: TreeConfig; readonly urls: TreeUrls; readonly schedule: string }[];
}

export function facts(c: NodeConfig, deployed?: Deployed): Facts {
  const urls = nodeUrls(c);
  return {
    c,
    deployed,
    ipv4: deployed?.ipv4 ?? pending('IPv4 address'),
    ipv6: deployed?.ipv6 ?? pending('IPv6 address'),
    country: countryName(c.site.country),
    bandwidth: bandwidthText(c.bandwidthMbps),
    trees: c.trees.map((tree, i) => ({ tree, urls: urls.trees[i], schedule: describeSchedule(tree.schedule) })),
  };
}

/** "FR" → "France" (the runtime's ICU data), or the code itself when it has no name. */
export function countryName(code: string): string {
  try {
    return new Intl.DisplayNames(['en'], { type: 'region' }).of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

/** 1000 → "1 Gbit/s", 2500 → "2.5 Gbit/s", 100 → "100 Mbit/s". */
export const bandwidthText = (mbps: number) => (mbps >= 1000 && mbps % 100 === 0 ? `${mbps / 1000} Gbit/s` : `${mbps} Mbit/s`);

/** The tree's URLs, one per line, each with its label; protocols the node does not serve are left out. */
export function urlLines(u: TreeUrls, indent = ''): string[] {
  return [
    ...(u.http ? [`${indent}HTTP:  ${u.http}`] : []),
    ...(u.https ? [`${indent}HTTPS: ${u.https}`] : []),
    ...(u.rsync ? [`${indent}rsync: ${u.rsync}`] : []),
  ];
}

export const contact = (c: NodeConfig) => `${c.admin.name} <${c.admin.email}>`;
export const location = (f: Facts) => `${f.c.site.city}, ${f.country}`;
