import * as path from 'node:path';
import { NodeConfig } from './node-config';
import { Problem } from './problems';
import { MirrorConfigInput } from './schema';

/*
 * Where a config's paths may point. The schema already refuses "." and ".." components, so a
 * path stays where it is written; these rules keep the data volume off the system's own
 * directories and every tree path (excludes, listings, bitflips) inside a tree.
 */

/**
 * Directories the system lives in: the data volume mounted on one of them hides what the system
 * keeps there (and Apache would list it). "/" holds them all.
 */
const SYSTEM_DIRECTORIES = [
  '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64', '/libx32', '/opt', '/proc', '/root', '/run',
  '/sbin', '/srv', '/sys', '/tmp', '/usr', '/var', '/var/backups', '/var/cache', '/var/lib', '/var/local', '/var/lock',
  '/var/log', '/var/mail', '/var/opt', '/var/run', '/var/spool', '/var/tmp', '/var/www', '/mnt', '/media',
];

/**
 * Directories whose whole subtree belongs to the system: kernel file systems, configuration,
 * programs, state. (A directory of its own under /tmp is not refused: the tests run whole nodes
 * there, and it hides nothing of the system.)
 */
const SYSTEM_SUBTREES: Readonly<Record<string, string>> = {
  '/proc': 'the kernel\'s process file system',
  '/sys': 'the kernel\'s sysfs',
  '/dev': 'the device directory',
  '/run': 'runtime state, emptied at boot',
  '/boot': 'the boot loader and kernels',
  '/etc': 'the system\'s configuration',
  '/usr': 'the installed programs',
  '/bin': 'the installed programs',
  '/sbin': 'the installed programs',
  '/lib': 'the system\'s libraries',
  '/lib32': 'the system\'s libraries',
  '/lib64': 'the system\'s libraries',
  '/libx32': 'the system\'s libraries',
  '/root': 'root\'s home directory',
  '/var/lib': 'the system\'s and packages\' state',
  '/var/log': 'the system\'s logs',
  '/var/cache': 'the system\'s caches',
  '/var/spool': 'the system\'s queues',
};

/** Why a mount point cannot hold the data volume, or undefined when it can. */
export function systemPathReason(mountPoint: string): string | undefined {
  const p = path.posix.normalize(mountPoint).replace(/(.)\/+$/, '$1');
  if (p === '/') return 'the root file system: the volume would hide the whole system, and Apache would serve it';
  const within = Object.keys(SYSTEM_SUBTREES).find((d) => p.startsWith(`${d}/`));
  if (within) return `inside ${within}, ${SYSTEM_SUBTREES[within]}`;
  if (SYSTEM_DIRECTORIES.includes(p)) return `a directory the system uses itself: the volume would hide what ${p} holds`;
  return undefined;
}

export function checkPaths(input: MirrorConfigInput, c: NodeConfig): Problem[] {
  const problems: Problem[] = [];
  const why = systemPathReason(c.storage.mountPoint);
  if (why) {
    problems.push({
      path: input.storage?.mountPoint !== undefined ? ['storage', 'mountPoint'] : ['storage'],
      allowed: `a directory of the data volume's own, such as /srv/mirror or /srv/mirror-data: ${c.storage.mountPoint} is ${why}`,
    });
  }

  c.trees.forEach((t, i) => {
    t.excludes.forEach((e, j) => {
      // "/" (or only wildcards) matches the tree itself: rsync syncs nothing and reports success.
      if (/^\/[*/]*$/.test(e)) {
        problems.push({ path: ['trees', i, 'excludes', j], allowed: 'a path inside the tree, not the tree itself: this exclude matches everything, so every sync would copy nothing and report success' });
      }
    });
  });

  const inTree = (urlPath: string) => c.trees.some((t) => `${urlPath.replace(/\/+$/, '')}/`.startsWith(t.urlPath));
  // The trees on the data volume (one outside it is a problem of its own).
  const served = [...new Set(c.trees.map((t) => t.urlPath))].filter((u) => !u.startsWith('/..'));
  const treeList = served.join(', ');
  if (Array.isArray(c.http.listings)) {
    c.http.listings.forEach((l, i) => {
      if (!inTree(l)) problems.push({ path: ['http', 'listings', i], allowed: `a URL path inside a tree (${treeList}), or "all" or "none"` });
    });
  }
  c.bitflips.forEach((b, i) => {
    if (!inTree(`/${b.path}`)) problems.push({ path: ['bitflips', i, 'path'], allowed: `a directory inside one of the trees (${served.map((u) => u.slice(1)).join(', ')})` });
  });
  return problems;
}
