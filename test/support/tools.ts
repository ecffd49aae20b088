import { execFileSync, spawnSync } from 'node:child_process';

/** Debian package that ships each program the real-daemon tests start. */
export const DEBIAN_PACKAGE: Record<string, string> = {
  apache2: 'apache2',
  apache2ctl: 'apache2',
  rsync: 'rsync',
  certbot: 'certbot',
  pebble: 'pebble',
  'pebble-challtestsrv': 'pebble',
  'cloud-init': 'cloud-init',
  shellcheck: 'shellcheck',
  'systemd-analyze': 'systemd',
  nft: 'nftables',
  openssl: 'openssl',
  curl: 'curl',
  host: 'bind9-host',
  unshare: 'util-linux',
  ip: 'iproute2',
  flock: 'util-linux',
  python3: 'python3',
  promtool: 'prometheus',
  'prometheus-node-exporter': 'prometheus-node-exporter',
  losetup: 'util-linux',
  blkid: 'util-linux',
  mount: 'mount',
  sfdisk: 'fdisk',
  'mkfs.ext4': 'e2fsprogs',
  'mkfs.xfs': 'xfsprogs',
  ss: 'iproute2',
  sshd: 'openssh-server',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  rrsync: 'rsync',
  nginx: 'nginx',
  'redis-server': 'redis-server',
  'redis-cli': 'redis-tools',
};

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * `describe` for tests that need real programs. Under CI a missing program is a failure (the
 * CI script installs them all); elsewhere the block is skipped with the package to install.
 */
export function describeWith(commands: readonly string[], name: string, body: () => void): void {
  const missing = commands.filter((c) => !hasCommand(c));
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const packages = [...new Set(missing.map((c) => DEBIAN_PACKAGE[c] ?? c))].join(' ');
  const message = `${name}: needs ${missing.join(', ')} (apt-get install -y ${packages})`;
  if (process.env.CI) {
    describe(name, () => {
      it('has the programs it needs', () => {
        throw new Error(message);
      });
    });
    return;
  }
  console.warn(`skipped: ${message}`);
  describe.skip(name, body);
}

/** Runs a command, returning stdout, stderr and the exit code (never throws on failure). */
export function run(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number } = {}) {
  const r = spawnSync(cmd, args, {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
  });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status ?? -1, error: r.error };
}

export function commandOutput(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' });
}
