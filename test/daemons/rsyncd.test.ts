import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SYNC_GROUP } from '../../lib/render/layout';
import { renderPrivateRsyncdConf, renderRsyncdConf } from '../../lib/render/rsyncd';
import { exampleConfigAt, testLayout, tmpDir } from '../support/fixtures';
import { freePort } from '../support/ports';
import { TestRsyncd, ensureMirrorAccounts, gidOf, hasIpv6Loopback, snapshot, startRsyncd } from '../support/rsyncd';
import { describeWith, run } from '../support/tools';

/**
 * N10, N11, N17 against the real rsync daemon: the rendered rsyncd.conf / rsyncd-tier1.conf
 * (loopback ports and scratch paths from testLayout, every other directive as on a node),
 * started as root like Debian's rsync.service so `use chroot` and the uid/gid switch are real.
 * The accounts the directives name (group mirror, mirror-tier1) are created when missing:
 * rendering with other users would no longer test the rendered file.
 */
const CHECKSUM_REFUSED = 'rsync: The server is configured to refuse --checksum (-c)';

function write(file: string, content: string | Buffer, mode = 0o644): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  fs.writeFileSync(file, content, { mode });
  fs.chmodSync(file, mode);
}

/** A pre-bitflip directory as the sync leaves it: 0750, group mirror, a 0640 file inside (N17). */
function staged(dir: string, file: string): void {
  write(path.join(dir, file), crypto.randomBytes(4096), 0o640);
  const gid = gidOf(SYNC_GROUP);
  fs.chownSync(dir, 0, gid);
  fs.chownSync(path.join(dir, file), 0, gid);
  fs.chmodSync(dir, 0o750);
}

const rsync = (...args: string[]) => run('rsync', args, { timeoutMs: 20_000 });

describeWith(['rsync'], 'public rsync daemon (examples/xcp-ng.yaml, N10, N17)', () => {
  let root: string;
  let tree: string;
  let daemon: TestRsyncd | undefined;
  let url: string;
  let conf: string;
  const hidden = ['.~tmp~', '8.3/.~tmp~', 'lost+found', 'staged'];

  beforeAll(async () => {
    ensureMirrorAccounts();
    root = tmpDir('rsyncd');
    fs.chmodSync(root, 0o755);
    const port = await freePort();
    const config = exampleConfigAt('xcp-ng', `${root}/srv/mirror`);
    const layout = testLayout(root, { rsync: port });
    tree = config.trees[0].path;
    write(`${tree}/8.3/x86_64/repodata/repomd.xml`, '<repomd/>\n');
    write(`${tree}/8.3/x86_64/Packages/xapi-core-1.0.rpm`, crypto.randomBytes(70_000));
    write(`${tree}/isos/8.3/xcp-ng-8.3.0.iso`, crypto.randomBytes(300_000));
    fs.symlinkSync('8.3', `${tree}/latest`);
    write(`${tree}/.~tmp~/half-synced.iso`, 'partial\n');
    write(`${tree}/8.3/.~tmp~/repomd.xml`, 'partial\n');
    write(`${tree}/lost+found/#1234`, 'fsck leftover\n');
    fs.chmodSync(`${tree}/lost+found`, 0o755); // readable: only the exclude hides it
    staged(`${tree}/staged`, 'next.iso');
    conf = renderRsyncdConf(config, layout);
    daemon = await startRsyncd(`${root}/etc/rsyncd.conf`, conf);
    url = `rsync://127.0.0.1:${port}/xcp-ng/`;
  });

  afterAll(async () => {
    await daemon?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('a normal pull copies the tree byte-exact (modes, times, symlink), minus what must not be offered', () => {
    const dst = tmpDir('pull');
    try {
      const r = rsync('-rlpt', url, `${dst}/`);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const got = snapshot(dst);
      expect(got).toEqual(snapshot(tree, hidden));
      expect(got.latest).toBe('link -> 8.3');
      expect(Object.keys(got)).toEqual(expect.arrayContaining(['isos/8.3/xcp-ng-8.3.0.iso', '8.3/x86_64/repodata/repomd.xml']));
    } finally {
      fs.rmSync(dst, { recursive: true, force: true });
    }
  });

  it('lists the tree as a module with its comment', () => {
    const r = rsync(`rsync://127.0.0.1:${daemon!.port}/`);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^xcp-ng\s+XCP-ng xcp-ng - mirror\.example\.org$/m);
  });

  it('never lists .~tmp~/, lost+found/ or the 0750 pre-bitflip directory, and lists their siblings', () => {
    const r = rsync('-r', '--list-only', url);
    expect(r.status).toBe(0);
    const names = r.stdout.split('\n').filter(Boolean).map((l) => l.replace(/^.*\d\d:\d\d:\d\d /, '').replace(/ -> .*$/, ''));
    expect(names).toEqual(expect.arrayContaining(['isos/8.3/xcp-ng-8.3.0.iso', '8.3/x86_64/repodata/repomd.xml', 'latest']));
    expect(names.filter((n) => /\.~tmp~|lost\+found|staged|next\.iso|half-synced/.test(n))).toEqual([]);
  });

  it('asking for a hidden path directly transfers nothing', () => {
    const dst = tmpDir('pull-hidden');
    try {
      for (const p of ['staged/', 'lost+found/', '.~tmp~/']) rsync('-rlpt', `${url}${p}`, `${dst}/${p}`);
      expect(run('find', [dst, '-type', 'f']).stdout).toBe('');
    } finally {
      fs.rmSync(dst, { recursive: true, force: true });
    }
  });

  it('refuses --checksum with rsync\'s own message (N10)', () => {
    const dst = tmpDir('pull-c');
    try {
      const r = rsync('-c', '-r', url, `${dst}/`);
      expect(r.stderr).toContain(CHECKSUM_REFUSED);
      expect(r.status).not.toBe(0);
      expect(fs.readdirSync(dst)).toEqual([]);
    } finally {
      fs.rmSync(dst, { recursive: true, force: true });
    }
  });

  it('refuses a push: the module is read only', () => {
    const src = tmpDir('push');
    try {
      write(`${src}/planted.iso`, 'not yours\n');
      const r = rsync('-r', `${src}/`, url);
      expect(`${r.stdout}${r.stderr}`).toContain('ERROR: module is read only');
      expect(r.status).not.toBe(0);
      expect(fs.existsSync(`${tree}/planted.iso`)).toBe(false);
    } finally {
      fs.rmSync(src, { recursive: true, force: true });
    }
  });

  it('sets TCP_NODELAY on its sockets, which rsync accepts (it logs any option it does not know)', async () => {
    expect(conf).toMatch(/^socket options = TCP_NODELAY$/m);
    expect(rsync('--list-only', url).status).toBe(0);
    expect(daemon!.logs()).not.toMatch(/Unknown socket option|socket option/i);
    // The same check sees a bad option: a second daemon with a misspelt one logs it per connection.
    const badPort = await freePort();
    const bad = await startRsyncd(`${root}/etc/rsyncd-bad.conf`, conf.replace(/^port = \d+$/m, `port = ${badPort}`).replace('TCP_NODELAY', 'TCP_NODELAYY').replace(/^(log|pid|lock) file = (.+)$/gm, '$1 file = $2-bad'));
    try {
      run('rsync', ['--list-only', `rsync://127.0.0.1:${badPort}/xcp-ng/`], { timeoutMs: 20_000 });
      expect(bad.logs()).toContain('Unknown socket option TCP_NODELAYY');
    } finally {
      await bad.stop();
    }
  });

  it('answers on IPv6 too ([::1]) when no address is set (skipped if this host has no ::1)', async () => {
    expect(conf).not.toMatch(/^address/m);
    if (!(await hasIpv6Loopback())) {
      console.warn('skipped the [::1] assertion: this host has no IPv6 loopback');
      return;
    }
    const r = rsync(`rsync://[::1]:${daemon!.port}/`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^xcp-ng\s/m);
  });
});

describeWith(['rsync'], 'tier-1 rsync daemon next to the public one (examples/fedora.yaml, N11, N17)', () => {
  let root: string;
  let tree: string;
  let pub: TestRsyncd | undefined;
  let tier1: TestRsyncd | undefined;
  let tier1Conf: string;

  beforeAll(async () => {
    ensureMirrorAccounts();
    root = tmpDir('rsyncd-tier1');
    fs.chmodSync(root, 0o755);
    const [publicPort, privatePort] = [await freePort(), await freePort()];
    const config = exampleConfigAt('fedora', `${root}/srv/mirror`, {
      rsync: { maxConnections: 10, private: { port: privatePort, allow: ['127.0.0.2'] } },
    });
    const layout = testLayout(root, { rsync: publicPort, privateRsync: privatePort });
    tree = config.trees[0].path;
    write(`${tree}/linux/releases/44/Everything/x86_64/os/repodata/repomd.xml`, '<repomd/>\n');
    staged(`${tree}/linux/releases/45`, 'Fedora-45.iso');
    tier1Conf = renderPrivateRsyncdConf(config, layout)!;
    pub = await startRsyncd(`${root}/etc/rsyncd.conf`, renderRsyncdConf(config, layout));
    tier1 = await startRsyncd(`${root}/etc/rsyncd-tier1.conf`, tier1Conf);
  });

  afterAll(async () => {
    await tier1?.stop();
    await pub?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  const tier1Url = () => `rsync://127.0.0.1:${tier1!.port}/fedora/`;

  it('renders the allow list, deny-all and the sync group into the tier-1 file', () => {
    expect(tier1Conf).toMatch(/^hosts allow = 127\.0\.0\.2$/m);
    expect(tier1Conf).toMatch(/^hosts deny = \*$/m);
    expect(tier1Conf).toMatch(/^uid = mirror-tier1$/m);
    expect(tier1Conf).toMatch(/^gid = mirror$/m);
  });

  it('refuses a client from an address outside the allow list, without revealing the module', () => {
    const dst = tmpDir('tier1-denied');
    try {
      const r = rsync('-rlpt', '--address=127.0.0.3', tier1Url(), `${dst}/`);
      // `list = no`: a denied client is told the module does not exist (rsyncd.conf(5), "list");
      // the daemon's log says why. The allowed client below gets the same module.
      expect(r.stderr).toContain("@ERROR: Unknown module 'fedora'");
      expect(tier1!.logs()).toMatch(/rsync denied on module fedora from \S+ \(127\.0\.0\.3\)/);
      expect(r.status).not.toBe(0);
      expect(fs.readdirSync(dst)).toEqual([]);
    } finally {
      fs.rmSync(dst, { recursive: true, force: true });
    }
  });

  it('serves an allowed client everything, the 0750 pre-bitflip release included', () => {
    const dst = tmpDir('tier1-allowed');
    try {
      const r = rsync('-rlpt', '--address=127.0.0.2', tier1Url(), `${dst}/`);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(snapshot(dst)).toEqual(snapshot(tree));
      expect(snapshot(dst)['linux/releases/45']).toBe('dir 0750');
    } finally {
      fs.rmSync(dst, { recursive: true, force: true });
    }
  });

  it('refuses --checksum to allowed clients as well', () => {
    const r = rsync('-c', '-r', '--address=127.0.0.2', '--list-only', tier1Url());
    expect(r.stderr).toContain(CHECKSUM_REFUSED);
    expect(r.status).not.toBe(0);
  });

  it('the public daemon on the same tree hides the pre-bitflip release and shows its sibling', () => {
    const dst = tmpDir('public-fedora');
    try {
      const r = rsync('-rlpt', `rsync://127.0.0.1:${pub!.port}/fedora/`, `${dst}/`);
      expect(r.status).toBe(0);
      const got = snapshot(dst);
      expect(got).toEqual(snapshot(tree, ['linux/releases/45']));
      expect(got['linux/releases/44/Everything/x86_64/os/repodata/repomd.xml']).toMatch(/^file 0644 /);
    } finally {
      fs.rmSync(dst, { recursive: true, force: true });
    }
  });
});
