import { NodeConfig } from '../config/node-config';
import { NodeLayout, PUBLIC_RSYNC_GROUP, PUBLIC_RSYNC_USER, SYNC_GROUP, TIER1_USER } from './layout';

/** Never offered by either daemon: rsync's in-flight directory, fsck's, NFS leftovers. */
const DAEMON_EXCLUDES = '.~tmp~/ lost+found/ .nfs*';

/**
 * Downstream engines (mirror-sync's marker and file-list requests) make many short exchanges;
 * without TCP_NODELAY each can wait 40 ms on a delayed ACK (bench/sync.ts --no-nodelay: the
 * no-change ratio falls from 28 to 10 and the changed one from 1.9 to 0.9 at 100,000 files).
 */
const SOCKET_OPTIONS = 'socket options = TCP_NODELAY';

/**
 * The public daemon (/etc/rsyncd.conf, Debian's rsync.service): anonymous, read-only, one module
 * per tree, refusing --checksum (N10). Files the sync staged 0750 are invisible (N17).
 */
/**
 * `aclInclude`: a file of `hosts allow = …` that rsyncd merges at every connection, for a daemon
 * open to a list that changes without a restart (a master's mirror list, ADR 0026).
 */
export interface DaemonAcl {
  readonly aclInclude?: string;
}

export function renderRsyncdConf(c: NodeConfig, l: NodeLayout, acl: DaemonAcl = {}): string {
  return `# mirrorfleet: public read-only rsync for ${c.hostname} (N10)
# Written by mirrorfleet; changes here are lost on the next deploy.
port = ${l.rsyncPort}
${l.rsyncAddress ? `address = ${l.rsyncAddress}\n` : ''}pid file = ${l.rsyncRunDir}/rsyncd.pid
lock file = ${l.rsyncRunDir}/rsyncd.lock
log file = ${l.rsyncLogDir}/rsyncd.log
transfer logging = yes
reverse lookup = no
use chroot = yes
# An anonymous user outside the sync group: 0750 pre-bitflip content stays unreadable (N17).
uid = ${PUBLIC_RSYNC_USER}
gid = ${PUBLIC_RSYNC_GROUP}
read only = yes
list = yes
${aclLines(acl)}max connections = ${c.rsync.maxConnections}
timeout = 600
ignore nonreadable = yes
# -c makes the server read every file it offers: "your server will be *MUCH* happier" (Fedora guide).
refuse options = checksum
# Mirror content is already compressed; only "*" has any effect in rsync 3.x.
dont compress = *
${SOCKET_OPTIONS}
exclude = ${DAEMON_EXCLUDES}
${modules(c)}`;
}

/**
 * The tier-1 daemon (N11): a second daemon on its own port, running as a member of the sync
 * group so it can read content staged 0750, open only to the listed downstream mirrors.
 */
export function renderPrivateRsyncdConf(c: NodeConfig, l: NodeLayout, acl: DaemonAcl = {}): string | undefined {
  const p = c.rsync.private;
  if (!p) return undefined;
  return `# mirrorfleet: tier-1 rsync for downstream mirrors of ${c.hostname} (N11)
# Written by mirrorfleet; changes here are lost on the next deploy.
port = ${l.privateRsyncPort ?? p.port}
${l.privateRsyncAddress ? `address = ${l.privateRsyncAddress}\n` : ''}pid file = ${l.rsyncRunDir}/rsyncd-tier1.pid
lock file = ${l.rsyncRunDir}/rsyncd-tier1.lock
log file = ${l.rsyncLogDir}/rsyncd-tier1.log
transfer logging = yes
reverse lookup = no
use chroot = yes
# A member of the sync group: it reads what the public cannot see yet.
uid = ${TIER1_USER}
gid = ${SYNC_GROUP}
read only = yes
list = no
${acl.aclInclude ? aclLines(acl) : `# Only the listed mirrors (the firewall carries the same list).
hosts allow = ${p.allow.join(' ')}
hosts deny = *
`}max connections = ${c.rsync.maxConnections}
timeout = 600
refuse options = checksum
dont compress = *
${SOCKET_OPTIONS}
exclude = ${DAEMON_EXCLUDES}
${modules(c)}`;
}

/** Everyone refused but the addresses the merged file allows (rsyncd re-reads both per connection). */
function aclLines(acl: DaemonAcl): string {
  return acl.aclInclude ? `# Only the listed hosts, from a file mirrorfleet-acl keeps current (the firewall carries the same list).
hosts deny = *
&merge ${acl.aclInclude}
` : '';
}

function modules(c: NodeConfig): string {
  return c.trees
    .map(
      (t) => `
[${t.name}]
    comment = ${c.preset.title} ${t.name} - ${c.hostname}
    path = ${t.path}
`,
    )
    .join('');
}
