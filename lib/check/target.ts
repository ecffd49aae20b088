import * as dns from 'node:dns';
import * as net from 'node:net';
import { Preset } from '../presets/types';

/*
 * What the checker is pointed at: a host name (or a URL whose path names one tree), its
 * addresses (DNS, or given, for a node whose name does not point at it yet) and the ports of
 * each protocol. Everything the checker sends goes to these addresses only.
 */

export interface CheckTree {
  /** The rsync module: a mirrorfleet node serves tree NAME at /NAME/ and rsync://host/NAME/. */
  readonly module: string;
  /** URL path of the tree, with a trailing "/". */
  readonly urlPath: string;
}

export interface Target {
  readonly host: string;
  readonly v4: readonly string[];
  readonly v6: readonly string[];
  readonly ports: { readonly http: number; readonly https: number; readonly rsync: number };
  readonly trees: readonly CheckTree[];
}

export class TargetError extends Error {
  override readonly name = 'TargetError';
}

export interface TargetOptions {
  /** Addresses to use instead of DNS. */
  readonly addresses?: readonly string[];
  /** Ports other than 80, 443 and 873 (a URL's port applies to its scheme). */
  readonly ports?: Partial<Target['ports']>;
}

/** Parses URL-or-HOST and resolves it; the trees are the URL's path or the preset's trees. */
export async function resolveTarget(input: string, preset: Preset, o: TargetOptions = {}): Promise<Target> {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `http://${input}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TargetError(`"${input}" is neither a host name nor a URL (https://mirror.example.org/tree/)`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (!['http', 'https', 'rsync'].includes(scheme)) throw new TargetError(`"${input}": the checker speaks http, https and rsync, not ${scheme}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new TargetError(`"${input}" names no host`);
  const ports = { http: 80, https: 443, rsync: 873, ...o.ports };
  if (url.port && /^[a-z]+:\/\//i.test(input)) ports[scheme as keyof typeof ports] = Number(url.port);

  const segments = url.pathname.split('/').filter(Boolean);
  let trees: CheckTree[];
  if (segments.length > 0) {
    const urlPath = `/${segments.join('/')}/`;
    trees = [{ module: scheme === 'rsync' ? segments[0] : segments[segments.length - 1], urlPath: scheme === 'rsync' ? `/${segments[0]}/` : urlPath }];
  } else if (preset.trees.length > 0) {
    trees = preset.trees.map((t) => ({ module: t.name, urlPath: `/${t.name}/` }));
  } else {
    throw new TargetError(`preset ${preset.id} has no default tree: give the tree's URL, such as https://${host}/TREE/`);
  }

  const addresses = o.addresses ?? (net.isIP(host) ? [host] : await lookup(host));
  for (const a of addresses) if (!net.isIP(a)) throw new TargetError(`"${a}" is not an IPv4 or IPv6 address`);
  return { host, v4: addresses.filter((a) => net.isIPv4(a)), v6: addresses.filter((a) => net.isIPv6(a)), ports, trees };
}

async function lookup(host: string): Promise<string[]> {
  try {
    return (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch (e) {
    throw new TargetError(`${host}: no address (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give --address if its name does not point at it yet`);
  }
}
