/**
 * Where things live on a node and which ports its daemons listen on. Renderers take a layout so
 * the tests can start the real daemons with the same directives on loopback ports and scratch
 * paths: only the values here change between a test run and a node.
 */
export interface NodeLayout {
  /** mirrorfleet's own config: tree files, env files for the scripts. */
  readonly etcDir: string;
  /** Sync state (locks, last run) and the ACME webroot live under here. */
  readonly stateDir: string;
  /** node_exporter textfile collector directory: *.prom files. */
  readonly metricsDir: string;
  /** Where the shipped scripts (assets/) are installed. */
  readonly binDir: string;
  readonly apacheConfDir: string;
  readonly apacheLogDir: string;
  /** Apache `Listen` arguments; a bare port listens on IPv4 and IPv6. */
  readonly httpListen: readonly string[];
  readonly httpsListen: readonly string[];
  readonly letsencryptDir: string;
  readonly letsencryptWorkDir: string;
  readonly letsencryptLogsDir: string;
  /** The public rsync daemon's port and files; no address means every address (IPv4 and IPv6). */
  readonly rsyncPort: number;
  readonly rsyncAddress?: string;
  readonly rsyncRunDir: string;
  readonly rsyncLogDir: string;
  /** Override for the tier-1 daemon's port (tests); else the config's rsync.private.port. */
  readonly privateRsyncPort?: number;
  readonly privateRsyncAddress?: string;
  readonly systemdDir: string;
}

export const NODE_LAYOUT: NodeLayout = {
  etcDir: '/etc/mirrorfleet',
  stateDir: '/var/lib/mirrorfleet',
  metricsDir: '/var/lib/mirrorfleet/metrics',
  binDir: '/usr/local/bin',
  apacheConfDir: '/etc/apache2',
  apacheLogDir: '/var/log/apache2',
  httpListen: ['80'],
  httpsListen: ['443'],
  letsencryptDir: '/etc/letsencrypt',
  letsencryptWorkDir: '/var/lib/letsencrypt',
  letsencryptLogsDir: '/var/log/letsencrypt',
  rsyncPort: 873,
  rsyncRunDir: '/run',
  rsyncLogDir: '/var/log',
  systemdDir: '/etc/systemd/system',
};

/** The certbot lineage name: fixed, so paths in the Apache config never depend on the host name. */
export const CERT_NAME = 'mirrorfleet';

export const acmeWebroot = (l: NodeLayout) => `${l.stateDir}/acme`;
export const certLive = (l: NodeLayout) => `${l.letsencryptDir}/live/${CERT_NAME}`;
export const treeConfPath = (l: NodeLayout, tree: string) => `${l.etcDir}/trees/${tree}.conf`;
export const syncStateDir = (l: NodeLayout, tree: string) => `${l.stateDir}/sync/${tree}`;

/** System users (N17): the sync user owns the tree; Apache (www-data) and rsync (nobody) only read. */
export const SYNC_USER = 'mirror';
export const SYNC_GROUP = 'mirror';
export const TIER1_USER = 'mirror-tier1';
export const PUBLIC_RSYNC_USER = 'nobody';
export const PUBLIC_RSYNC_GROUP = 'nogroup';
export const WEB_USER = 'www-data';
