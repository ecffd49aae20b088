import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Example } from '../support/fixtures';

/**
 * The small upstream tree each example's node syncs from the host: repository metadata, an
 * ISO, packages, a directory staged 0750 before a bitflip (N17), and paths the example excludes
 * (N18). Paths are relative to the tree (the rsync module's root).
 */
export interface TreeSpec {
  readonly files: Readonly<Record<string, string | Buffer>>;
  /** Directories with a mode of their own (pre-bitflip staging: 0750). */
  readonly dirModes: Readonly<Record<string, number>>;
  /** N3: served must-revalidate, expiring at once. */
  readonly metadata: string;
  /** N4: served as application/octet-stream. */
  readonly octetStream: readonly string[];
  /** N7: a directory that must list. */
  readonly listed: string;
  /** N18: upstream paths that must not reach the node. */
  readonly excluded: readonly string[];
  /** N17: a file inside a 0750 directory: neither HTTP nor public rsync serve it. */
  readonly staged: string;
}

const blob = (bytes: number, seed: string) => {
  // Incompressible and deterministic per seed: an on-the-fly compression would show (N8).
  const out = Buffer.alloc(bytes);
  let h = createHash('sha256').update(seed).digest();
  for (let o = 0; o < bytes; o += h.length) {
    h.copy(out, o);
    h = createHash('sha256').update(h).digest();
  }
  return out;
};

const repomd = (n: string) => `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>${n}</revision></repomd>\n`;

export const TREES: Record<Example, TreeSpec> = {
  'xcp-ng': {
    files: {
      'README.txt': 'XCP-ng boot-test tree\n'.repeat(200),
      '8.3/base/x86_64/repodata/repomd.xml': repomd('8.3-base'),
      '8.3/base/x86_64/repodata/0a1b-primary.xml.gz': gzipSync(Buffer.from('<metadata packages="1"/>\n'.repeat(50))),
      '8.3/base/x86_64/Packages/xcp-ng-release-8.3.0-29.x86_64.rpm': blob(96 * 1024, 'xcp rpm'),
      'isos/8.3/xcp-ng-8.3.0.iso': blob(2 * 1024 * 1024, 'xcp iso'),
      'isos/8.4/xcp-ng-8.4.0-beta.iso': blob(64 * 1024, 'xcp staged'),
    },
    dirModes: { 'isos/8.4': 0o750 },
    metadata: '8.3/base/x86_64/repodata/repomd.xml',
    octetStream: ['isos/8.3/xcp-ng-8.3.0.iso', '8.3/base/x86_64/Packages/xcp-ng-release-8.3.0-29.x86_64.rpm'],
    listed: 'isos/8.3/',
    excluded: [],
    staged: 'isos/8.4/xcp-ng-8.4.0-beta.iso',
  },
  fedora: {
    files: {
      'linux/releases/44/Everything/x86_64/os/repodata/repomd.xml': repomd('f44'),
      'linux/releases/44/Everything/x86_64/os/Packages/h/hello-2.12.1-5.fc44.x86_64.rpm': blob(80 * 1024, 'fedora rpm'),
      'linux/releases/44/Server/x86_64/iso/Fedora-Server-dvd-x86_64-44-1.1.iso': blob(2 * 1024 * 1024, 'fedora iso'),
      'linux/development/rawhide/Everything/x86_64/os/repodata/repomd.xml': repomd('rawhide'),
      'linux/development/rawhide/x86_64/debug/tree/Packages/g/glibc-debuginfo-2.41-1.fc45.x86_64.rpm': blob(8 * 1024, 'debug'),
      'linux/releases/45/Server/x86_64/iso/Fedora-Server-dvd-x86_64-45-1.2.iso': blob(64 * 1024, 'fedora staged'),
    },
    dirModes: { 'linux/releases/45': 0o750 },
    metadata: 'linux/releases/44/Everything/x86_64/os/repodata/repomd.xml',
    octetStream: ['linux/releases/44/Server/x86_64/iso/Fedora-Server-dvd-x86_64-44-1.1.iso', 'linux/releases/44/Everything/x86_64/os/Packages/h/hello-2.12.1-5.fc44.x86_64.rpm'],
    listed: 'linux/releases/44/',
    excluded: ['linux/development/rawhide/x86_64/debug/tree/Packages/g/glibc-debuginfo-2.41-1.fc45.x86_64.rpm'],
    staged: 'linux/releases/45/Server/x86_64/iso/Fedora-Server-dvd-x86_64-45-1.2.iso',
  },
  gentoo: {
    files: {
      'distfiles/timestamp.mirmon': '1767225600\n',
      'distfiles/3a/hello-2.12.1.tar.gz': blob(60 * 1024, 'gentoo distfile'),
      'releases/amd64/autobuilds/latest-iso.txt': '# Latest as of Thu, 01 Jan 2026\n20260101T000000Z/install-amd64-minimal-20260101T000000Z.iso 2097152\n',
      'releases/amd64/autobuilds/20260101T000000Z/install-amd64-minimal-20260101T000000Z.iso': blob(2 * 1024 * 1024, 'gentoo iso'),
      'releases/historical/x86/2008.0/livecd-i686-installer-2008.0.iso': blob(16 * 1024, 'historical'),
      'snapshots/portage-latest.tar.xz.md5sum': 'd41d8cd98f00b204e9800998ecf8427e  portage-latest.tar.xz\n',
      'experimental/README': 'experimental\n',
      'releases/amd64/autobuilds/20260201T000000Z/install-amd64-minimal-20260201T000000Z.iso': blob(64 * 1024, 'gentoo staged'),
    },
    dirModes: { 'releases/amd64/autobuilds/20260201T000000Z': 0o750 },
    metadata: 'releases/amd64/autobuilds/latest-iso.txt',
    octetStream: ['releases/amd64/autobuilds/20260101T000000Z/install-amd64-minimal-20260101T000000Z.iso'],
    listed: 'snapshots/',
    excluded: ['releases/historical/x86/2008.0/livecd-i686-installer-2008.0.iso'],
    staged: 'releases/amd64/autobuilds/20260201T000000Z/install-amd64-minimal-20260201T000000Z.iso',
  },
};

/** Writes `spec` under `dir` (files 0644, directories 0755 unless staged). */
export function writeTree(spec: TreeSpec, dir: string): void {
  for (const [rel, content] of Object.entries(spec.files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o755 });
    fs.writeFileSync(p, content, { mode: 0o644 });
  }
  for (const [rel, mode] of Object.entries(spec.dirModes)) fs.chmodSync(path.join(dir, rel), mode);
}

export interface Entry {
  readonly type: 'f' | 'd' | 'l';
  readonly mode: number;
  readonly size: number;
  readonly sha256: string;
}

/** Every entry under `dir` (relative path -> type, permission bits, size, content hash). */
export function manifest(dir: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(path.join(dir, r));
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        out.set(r, { type: 'd', mode, size: 0, sha256: '' });
        walk(r);
      } else if (st.isSymbolicLink()) {
        out.set(r, { type: 'l', mode, size: 0, sha256: fs.readlinkSync(path.join(dir, r)) });
      } else {
        out.set(r, { type: 'f', mode, size: st.size, sha256: createHash('sha256').update(fs.readFileSync(path.join(dir, r))).digest('hex') });
      }
    }
  };
  walk('');
  return out;
}

/** Differences between two manifests, as readable lines (empty when they match). */
export function diffManifests(expected: Map<string, Entry>, actual: Map<string, Entry>, ignore: (rel: string) => boolean = () => false): string[] {
  const lines: string[] = [];
  for (const [rel, e] of expected) {
    if (ignore(rel)) continue;
    const a = actual.get(rel);
    if (!a) lines.push(`missing on the node: ${rel}`);
    else if (a.type !== e.type || a.sha256 !== e.sha256 || a.size !== e.size) lines.push(`differs: ${rel} (${e.type} ${e.size} B -> ${a.type} ${a.size} B)`);
    else if (a.mode !== e.mode) lines.push(`mode differs: ${rel} (${e.mode.toString(8)} -> ${a.mode.toString(8)})`);
  }
  for (const rel of actual.keys()) if (!expected.has(rel) && !ignore(rel)) lines.push(`extra on the node: ${rel}`);
  return lines;
}

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
export const randomTag = () => randomBytes(4).toString('hex');
