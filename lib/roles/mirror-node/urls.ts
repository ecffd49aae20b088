import type { NodeConfig } from '../../config/node-config';

/*
 * The node's public URLs, in one place: the stack outputs of both clouds and the mirror
 * application read them from here, so what a project is told is what the node serves.
 */

export interface TreeUrls {
  readonly tree: string;
  readonly http?: string;
  readonly https?: string;
  readonly rsync?: string;
}

export interface NodeUrls {
  readonly http?: string;
  readonly https?: string;
  readonly rsync?: string;
  /** The preferred base URL: HTTPS when served, else HTTP. */
  readonly site: string;
  readonly trees: readonly TreeUrls[];
}

export function nodeUrls(c: NodeConfig): NodeUrls {
  const http = c.http.enabled ? `http://${c.hostname}/` : undefined;
  const https = c.https.enabled ? `https://${c.hostname}/` : undefined;
  const rsync = c.rsync.enabled ? `rsync://${c.hostname}/` : undefined;
  return {
    http,
    https,
    rsync,
    site: https ?? `http://${c.hostname}/`,
    trees: c.trees.map((t) => ({
      tree: t.name,
      ...(http ? { http: `http://${c.hostname}${t.urlPath}` } : {}),
      ...(https ? { https: `https://${c.hostname}${t.urlPath}` } : {}),
      ...(rsync ? { rsync: `rsync://${c.hostname}/${t.name}/` } : {}),
    })),
  };
}
