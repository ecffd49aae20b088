import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import type { ProjectConfig } from '../../../project/project';
import type { RedirectorConfig } from '../../../project/redirector';
import { treeConfPath } from '../../../render/layout';
import { renderTreeConf } from '../../../render/tree-conf';
import { renderRedirectorEnv } from '../files';
import { renderMirrorbitsConf } from '../mirrorbits-conf';
import { renderNginxSite } from '../nginx';
import { RedirectorLayout } from '../layout';
import { NGINX_CONF, SCALED_LAYOUT } from './layout';

/*
 * The files of the scaled redirector's containers (R5), from the single machine's renderers:
 * mirrorbits.conf with the differences a cluster on shared storage needs, nginx with the load
 * balancer as its only trusted proxy, the sync's tree file and the scripts' redirector.env.
 * A task definition carries them as one JSON object (MIRRORFLEET_FILES) that mirrorfleet-task
 * writes out before anything runs.
 */

/** Stands for ElastiCache's primary endpoint (host:port), known at deploy only. */
export const REDIS_ADDRESS = '@REDIS_ADDRESS@';

/**
 * mirrorbits.conf of the service and of the tasks' own short-lived daemons: Redis is
 * ElastiCache's primary endpoint; the repository is read from EFS only when a daemon starts and
 * when the sync task asks after a changed sync (no periodic walk: each one costs EFS metadata
 * reads on every task, docs/adr/0067); no download log (nginx logs every request to CloudWatch).
 */
export function renderScaledMirrorbitsConf(p: ProjectConfig, r: RedirectorConfig, rl: RedirectorLayout = SCALED_LAYOUT): string {
  const s = r.scaled!;
  const single = parse(renderMirrorbitsConf(r, p.master.node, rl)) as Record<string, unknown>;
  const conf = { ...single, Templates: s.imageTemplates, LogDir: '', RedisAddress: REDIS_ADDRESS, RepositoryScanInterval: 0 };
  return `# mirrorfleet: mirrorbits for ${r.node.hostname}, scaled profile (R1, R5). Written by mirrorfleet.\n${stringify(conf)}`;
}

/** nginx's main configuration in the service task: the single machine's site, the VPC trusted. */
export function renderScaledNginxConf(r: RedirectorConfig, trustedProxies: readonly string[], rl: RedirectorLayout = SCALED_LAYOUT): string {
  return `# mirrorfleet: nginx in front of mirrorbits in one task of ${r.node.hostname}'s service (R1, R5, R7).
# Written by mirrorfleet; TLS ends at the load balancer.
daemon off;
worker_processes auto;
pid ${path.posix.dirname(rl.mirrorbitsConf)}/nginx.pid;
error_log stderr;

events {
    worker_connections 4096;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    server_tokens off;
    # Longer than the load balancer's idle timeout (60 s): nginx never closes a connection it may reuse.
    keepalive_timeout 75s;

${indent(renderNginxSite(r, rl, { trustedProxies }))}}
`;
}

const indent = (text: string) => text.split('\n').map((l) => (l ? `    ${l}` : l)).join('\n');

/** What each task writes before it runs: path → content. */
export interface ScaledFiles {
  /** The service's first container: nginx's and mirrorbits' configuration. */
  readonly service: Record<string, string>;
  /** The sync task: the tree file mirror-sync reads, the scripts' env, its own mirrorbits' config. */
  readonly sync: Record<string, string>;
  readonly geoip: Record<string, string>;
  readonly reconcile: Record<string, string>;
}

export function scaledFiles(p: ProjectConfig, trustedProxies: readonly string[], rl: RedirectorLayout = SCALED_LAYOUT): ScaledFiles {
  const r = p.redirector!;
  const tree = r.node.trees[0];
  const mirrorbits = renderScaledMirrorbitsConf(p, r, rl);
  // The licence key arrives as a secret in the GeoIP task's environment; mirrorfleet-task puts
  // it in the file the single machine's operator fills by hand.
  const env = renderRedirectorEnv(p, r, rl, { kind: 'file' });
  return {
    service: { [NGINX_CONF]: renderScaledNginxConf(r, trustedProxies, rl), [rl.mirrorbitsConf]: mirrorbits },
    sync: { [treeConfPath(rl.host, tree.name)]: renderTreeConf(r.node, rl.host, tree), [redirectorEnvPath(rl)]: env, [rl.mirrorbitsConf]: mirrorbits },
    geoip: { [redirectorEnvPath(rl)]: env },
    reconcile: { [rl.mirrorbitsConf]: mirrorbits },
  };
}

export const redirectorEnvPath = (rl: RedirectorLayout = SCALED_LAYOUT) => `${rl.etcDir}/redirector.env`;
