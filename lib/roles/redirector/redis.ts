import type { RedirectorConfig } from '../../project/redirector';
import { RedirectorLayout, redisDataDir } from './layout';

/*
 * Redis for mirrorbits (R1): the only place mirrorbits keeps its mirror definitions and its index,
 * so it persists on the data volume (AOF, fsync every second) and never evicts a key
 * (`noeviction`: a full Redis refuses writes, which alarms, rather than forgetting mirrors).
 * Loopback only, like mirrorbits itself (R7).
 */

/** Memory for Redis: a quarter of what the redirector's machine has left after the system, at least 256 MiB. */
export const redisMaxMemoryMiB = (machineMemoryGiB: number) => Math.max(256, Math.floor((machineMemoryGiB - 1) * 1024 * 0.25));

export function renderRedisConf(r: RedirectorConfig, rl: RedirectorLayout, maxMemoryMiB: number): string {
  return `# mirrorfleet: Redis for mirrorbits on ${r.node.hostname} (R1). Written by mirrorfleet.
bind 127.0.0.1 ::1
protected-mode yes
port ${rl.redisPort}
supervised systemd
daemonize no
dir ${redisDataDir(r)}
appendonly yes
appendfsync everysec
# The AOF is rewritten with an RDB preamble; snapshots as well, for a quick restart.
save 900 1
save 300 100
maxmemory ${maxMemoryMiB}mb
maxmemory-policy noeviction
loglevel notice
logfile ""
`;
}

/** Debian's unit with our file, and the data volume writable (the unit otherwise sees /srv read-only). */
export function renderRedisDropIn(r: RedirectorConfig, rl: RedirectorLayout): string {
  return `# mirrorfleet: redis-server reads mirrorfleet's settings and writes on the data volume (R1)
[Unit]
RequiresMountsFor=${redisDataDir(r)}

[Service]
ExecStart=
ExecStart=/usr/bin/redis-server ${rl.redisConf}
ReadWritePaths=${redisDataDir(r)}
`;
}
