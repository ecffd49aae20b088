import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { must, sh } from './sh';

/**
 * The clean Debian 12 system every boot starts from: a root file system built by mmdebstrap
 * from Debian's packages (bookworm + bookworm-updates + bookworm-security, as on a real node),
 * cached as a .tar.zst outside the clone under a key that covers the whole build command, and
 * rebuilt when missing. It stands for Debian's cloud image: the "important" priority set plus
 * what that image adds (cloud-init with its recommends, openssh-server, sudo, dbus,
 * unattended-upgrades, locales with en_US.UTF-8). Nothing of the product is in it.
 */

export const CACHE_DIR = process.env.MIRRORFLEET_BOOT_CACHE ?? '/var/cache/mirrorfleet-boot';

/** Bump to force a rebuild when something the key cannot see changes. */
const BASE_VERSION = 1;

export interface AptSource {
  readonly uri: string;
  readonly suites: readonly string[];
  readonly components: readonly string[];
}

/** The host's Debian sources (the only outside network the tests have), deb822 or one-line. */
export function hostAptSources(): AptSource[] {
  const deb822 = '/etc/apt/sources.list.d/debian.sources';
  const out: AptSource[] = [];
  if (fs.existsSync(deb822)) {
    for (const stanza of fs.readFileSync(deb822, 'utf8').split(/\n\s*\n/)) {
      const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1].trim();
      const types = field('Types') ?? '';
      const uri = field('URIs');
      if (!uri || !types.split(/\s+/).includes('deb')) continue;
      out.push({ uri: uri.split(/\s+/)[0], suites: (field('Suites') ?? '').split(/\s+/), components: (field('Components') ?? 'main').split(/\s+/) });
    }
  }
  if (out.length === 0 && fs.existsSync('/etc/apt/sources.list')) {
    for (const line of fs.readFileSync('/etc/apt/sources.list', 'utf8').split('\n')) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)$/.exec(line.trim());
      if (m) out.push({ uri: m[1], suites: [m[2]], components: m[3].split(/\s+/) });
    }
  }
  if (out.length === 0) throw new Error('no Debian apt source found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list');
  return out;
}

/** The one-line sources for bookworm, bookworm-updates and bookworm-security. */
export function bookwormSources(): string[] {
  const sources = hostAptSources();
  const find = (suite: string) => sources.find((s) => s.suites.includes(suite));
  const main = find('bookworm') ?? sources[0];
  const security = find('bookworm-security');
  return [
    `deb ${main.uri} bookworm main`,
    `deb ${main.uri} bookworm-updates main`,
    // Debian's layout: the security archive is the mirror's "-security" sibling unless the host says otherwise.
    `deb ${security ? security.uri : `${main.uri.replace(/\/+$/, '')}-security`} bookworm-security main`,
  ];
}

/** Host names of the Debian repositories: the only names the boot proxy lets through. */
export function debianMirrorHosts(): string[] {
  return [...new Set(bookwormSources().map((l) => new URL(l.split(/\s+/)[1]).hostname))];
}

export type BaseKind = 'nspawn' | 'vm';

const INCLUDE = ['cloud-init', 'cloud-guest-utils', 'eatmydata', 'sudo', 'locales', 'dbus', 'openssh-server', 'unattended-upgrades'];
/** qemu boots a real kernel: the image gets Debian's cloud kernel flavour's generic sibling and an initramfs. */
const INCLUDE_VM = ['linux-image-amd64', 'initramfs-tools'];

function buildArgs(kind: BaseKind, output: string): string[] {
  return [
    '--variant=important',
    '--mode=root',
    '--format=tar',
    `--include=${[...INCLUDE, ...(kind === 'vm' ? INCLUDE_VM : [])].join(',')}`,
    // The test mirror is a dated snapshot: its Release files are past Valid-Until. This is a
    // property of the test network, like the proxy; the guest gets the same apt settings.
    '--aptopt=Acquire::Check-Valid-Until "false"',
    '--aptopt=Acquire::Check-Date "false"',
    `--customize-hook=echo 'en_US.UTF-8 UTF-8' >> "$1/etc/locale.gen" && chroot "$1" locale-gen`,
    // First-boot semantics, as in a cloud image: no host name, no machine id, no host keys.
    `--customize-hook=rm -f "$1/etc/hostname" "$1"/etc/ssh/ssh_host_* && : > "$1/etc/machine-id"`,
    `--customize-hook=printf 'Acquire::Check-Valid-Until "false";\\nAcquire::Check-Date "false";\\n' > "$1/etc/apt/apt.conf.d/99mirror-snapshot"`,
    '--customize-hook=chroot "$1" apt-get clean',
    'bookworm',
    output,
    ...bookwormSources(),
  ];
}

/** The cached base tarball for `kind`, built (about 1 minute) when missing. */
export function ensureBase(kind: BaseKind, log: (s: string) => void): { file: string; built: boolean; seconds: number } {
  const key = createHash('sha256')
    .update(JSON.stringify({ v: BASE_VERSION, args: buildArgs(kind, 'OUT') }))
    .digest('hex')
    .slice(0, 16);
  const file = path.join(CACHE_DIR, `debian12-${kind}-${key}.tar.zst`);
  if (fs.existsSync(file)) return { file, built: false, seconds: 0 };
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const t0 = Date.now();
  const tmp = path.join(CACHE_DIR, `.building-${process.pid}.tar`);
  log(`building the Debian 12 base (${kind}) with mmdebstrap: ${file}`);
  try {
    const r = sh('mmdebstrap', buildArgs(kind, tmp), { timeoutMs: 15 * 60_000 });
    if (r.status !== 0) throw new Error(`mmdebstrap failed (exit ${r.status}):\n${r.stderr.split('\n').slice(-40).join('\n')}`);
    must('zstd', ['-q', '-T0', '-3', '--rm', '-f', tmp, '-o', `${tmp}.zst`], { timeoutMs: 5 * 60_000 });
    fs.renameSync(`${tmp}.zst`, file);
  } finally {
    fs.rmSync(tmp, { force: true });
    fs.rmSync(`${tmp}.zst`, { force: true });
  }
  return { file, built: true, seconds: (Date.now() - t0) / 1000 };
}

/**
 * The base extracted once, next to its tarball, as the read-only lower layer of every node's
 * root (an overlay per node: a fresh root disk costs a mount, not an extraction). Extracted to a
 * temporary name and renamed, so an interrupted run leaves no half tree behind.
 */
export function extractedBase(file: string): string {
  const dir = file.replace(/\.tar\.zst$/, '.root');
  // A tree whose tarball is gone belongs to an older base: remove it.
  for (const f of fs.readdirSync(path.dirname(file))) {
    const stale = path.join(path.dirname(file), f);
    if (f.endsWith('.root') && !fs.existsSync(stale.replace(/\.root$/, '.tar.zst'))) fs.rmSync(stale, { recursive: true, force: true });
  }
  if (fs.existsSync(dir)) return dir;
  const tmp = `${dir}.extracting-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    extractBase(file, tmp);
    fs.renameSync(tmp, dir);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** Extracts a base tarball into `dir` (which must not exist yet). */
export function extractBase(file: string, dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  must('tar', ['-C', dir, '--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls', '-I', 'zstd', '-xf', file], { timeoutMs: 5 * 60_000 });
}
