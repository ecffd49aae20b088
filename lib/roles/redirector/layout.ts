import type { RedirectorConfig } from '../../project/redirector';
import { NODE_LAYOUT, NodeLayout } from '../../render/layout';

/**
 * Where the redirector's parts live and listen. mirrorbits' HTTP and RPC ports and Redis stay on
 * loopback (R7): only nginx faces clients. Tests override the paths and ports, as for a node.
 */
export interface RedirectorLayout {
  readonly host: NodeLayout;
  /** The unpacked release: the binary and templates/. */
  readonly mirrorbitsDir: string;
  readonly mirrorbitsConf: string;
  readonly mirrorbitsHttp: string;
  readonly mirrorbitsRpc: string;
  readonly mirrorbitsLogDir: string;
  readonly geoipDir: string;
  readonly redisPort: number;
  readonly redisConf: string;
  readonly nginxConfDir: string;
  readonly nginxLogDir: string;
  readonly nginxHttpPort: number;
  readonly nginxHttpsPort: number;
  readonly etcDir: string;
}

export const REDIRECTOR_LAYOUT: RedirectorLayout = {
  host: NODE_LAYOUT,
  mirrorbitsDir: '/opt/mirrorbits',
  mirrorbitsConf: '/etc/mirrorbits.conf',
  mirrorbitsHttp: '127.0.0.1:8080',
  mirrorbitsRpc: '127.0.0.1:3390',
  mirrorbitsLogDir: '/var/log/mirrorbits',
  geoipDir: '/var/lib/mirrorfleet/geoip',
  redisPort: 6379,
  redisConf: '/etc/redis/mirrorfleet.conf',
  nginxConfDir: '/etc/nginx',
  nginxLogDir: '/var/log/nginx',
  nginxHttpPort: 80,
  nginxHttpsPort: 443,
  etcDir: '/etc/mirrorfleet/redirector',
};

/** Redis keeps mirrorbits' definitions and index on the data volume (AOF), beside the tree. */
export const redisDataDir = (r: RedirectorConfig) => `${r.node.storage.mountPoint}/.redis`;
export const mirrorbitsBin = (rl: RedirectorLayout) => `${rl.mirrorbitsDir}/mirrorbits`;
/** The repository mirrorbits indexes and nginx lists: the redirector's copy of the master's tree. */
export const repositoryPath = (r: RedirectorConfig) => r.node.trees[0].path;
export const tlsSitePaths = (rl: RedirectorLayout) => ({ template: `${rl.etcDir}/nginx-tls.conf`, enabled: `${rl.nginxConfDir}/mirrorfleet-tls/mirrorfleet.conf` });
