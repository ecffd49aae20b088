import { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadProjectFile } from '../../lib/project/project';
import { renderAclFile } from '../../lib/roles/master/acl';
import { aclPaths } from '../../lib/roles/master/acl-files';
import { renderMasterFiles } from '../../lib/roles/master/files';
import { REPO, testLayout, tmpDir } from '../support/fixtures';
import { netnsUnavailable } from '../support/netns';
import { ensureMirrorAccounts } from '../support/rsyncd';
import { describeWith } from '../support/tools';
import { VethPair, createVethPair } from '../support/veth';

/*
 * M1 on the real kernel and the real daemons: the master of examples/project.yaml (with a tier-1
 * module) in a network namespace, its rendered rsyncd files, nftables table and mirrorfleet-acl;
 * clients in a second namespace over a veth pair, from listed and unlisted addresses. Each layer
 * refuses an unlisted source on its own; a new list applies in place, the daemons untouched.
 */
const ACL_SCRIPT = path.join(REPO, 'assets', 'mirrorfleet-acl');

describeWith(['rsync', 'nft', 'ip'], 'the master\'s rsync ACL: rsyncd and nftables in network namespaces (M1)', () => {
  const problem = netnsUnavailable();
  (problem && !process.env.CI ? describe.skip : describe)('listed and unlisted sources over a veth pair', () => {
    let root: string;
    let net: VethPair;
    let daemons: ChildProcess[] = [];
    let tree: string;
    let env: string;
    let lists: { listed: string; unlisted: string; tier1: string; listed6: string };

    const acl = (...args: string[]) => net.server.exec('env', [`MIRRORFLEET_ACL_ENV=${env}`, 'MIRRORFLEET_DEPLOY_ENV=/nonexistent', 'bash', ACL_SCRIPT, ...args]);
    const rsyncFrom = (source: string, url: string, ...opts: string[]) => {
      const dst = fs.mkdtempSync(path.join(root, 'dst-'));
      const r = net.client.exec('rsync', ['-rlpt', '--contimeout=5', '--timeout=10', `--address=${source}`, ...opts, url, `${dst}/`]);
      return { ...r, files: fs.readdirSync(dst) };
    };
    const url = (host: string, port: number, module = 'xcp-ng') => `rsync://${host.includes(':') ? `[${host}]` : host}:${port}/${module}/`;
    const pidOf = (conf: string) => net.server.exec('pgrep', ['-f', `--config=${conf}`]).stdout.trim();

    beforeAll(async () => {
      ensureMirrorAccounts();
      root = tmpDir('master-acl');
      fs.chmodSync(root, 0o755);
      net = createVethPair(3);
      const [listed, unlisted, tier1] = net.clientV4;
      lists = { listed, unlisted, tier1, listed6: net.clientV6[0] };
      // The example project, its tree in the scratch directory, a tier-1 module, and a list of our own.
      const file = path.join(root, 'project.yaml');
      fs.writeFileSync(file, fs.readFileSync(path.join(REPO, 'examples', 'project.yaml'), 'utf8')
        .replace('  storage:\n    sizeGiB: auto      # the preset\'s tree and growth, as for a node\n    mountPoint: /srv/mirror', `  rsync: { tier1: true }\n  storage:\n    mountPoint: ${root}/srv/mirror`));
      fs.copyFileSync(path.join(REPO, 'examples', 'mirrors.yaml'), path.join(root, 'mirrors.yaml'));
      const project = loadProjectFile(file);
      const layout = { ...testLayout(root), rsyncPort: 873, privateRsyncPort: 874 };
      const files = renderMasterFiles(project, { public: [`${listed}/32`, `${tier1}/32`, `${lists.listed6}/128`], tier1: [`${tier1}/32`] }, { kind: 'file' }, layout);
      const at = (p: string) => (p.startsWith(root) ? p : path.join(root, p));
      for (const f of files) {
        fs.mkdirSync(path.dirname(at(f.path)), { recursive: true });
        fs.writeFileSync(at(f.path), f.content);
      }
      env = at(aclPaths(layout).env);
      tree = project.master.node.trees[0].path;
      fs.mkdirSync(`${tree}/8.3/repodata`, { recursive: true });
      fs.writeFileSync(`${tree}/8.3/repodata/repomd.xml`, '<repomd/>\n');
      fs.mkdirSync(`${tree}/8.4`, { mode: 0o750 });
      fs.chownSync(`${tree}/8.4`, 0, Number(net.server.exec('getent', ['group', 'mirror']).stdout.split(':')[2]));
      fs.chmodSync(`${tree}/8.4`, 0o750);
      fs.writeFileSync(`${tree}/8.4/staged.iso`, 'not released yet\n');
      const load = acl('load');
      if (load.status !== 0) throw new Error(`mirrorfleet-acl load: ${load.stdout}${load.stderr}`);
      for (const conf of ['etc/rsyncd.conf', 'etc/rsyncd-tier1.conf']) {
        const text = fs.readFileSync(at(conf), 'utf8');
        for (const key of ['pid file', 'lock file', 'log file']) fs.mkdirSync(path.dirname(new RegExp(`^${key} = (.+)$`, 'm').exec(text)![1]), { recursive: true });
        daemons.push(net.server.spawn('rsync', ['--daemon', '--no-detach', `--config=${at(conf)}`]));
      }
      const up = net.server.exec('bash', ['-c', 'for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/873 && exec 4<>/dev/tcp/127.0.0.1/874) 2>/dev/null && exit 0; sleep 0.05; done; exit 1']);
      if (up.status !== 0) throw new Error('the rsync daemons did not start');
    }, 60_000);

    afterAll(() => {
      for (const d of daemons) d.kill('SIGKILL');
      daemons = [];
      net?.destroy();
      if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    it('a listed mirror syncs the public module over IPv4 and IPv6; the staged release stays hidden', () => {
      const v4 = rsyncFrom(lists.listed, url(net.serverV4, 873));
      expect(v4.stderr).toBe('');
      expect(v4.files).toEqual(['8.3']);
      const v6 = rsyncFrom(lists.listed6, url(net.serverV6, 873));
      expect(v6.stderr).toBe('');
      expect(v6.files).toEqual(['8.3']);
    });

    it('an unlisted address is refused by nftables at once (a reset, not a timeout), and nothing arrives', () => {
      const r = rsyncFrom(lists.unlisted, url(net.serverV4, 873));
      expect(r.stderr).toMatch(/Connection refused|Connection reset/);
      expect(r.status).not.toBe(0);
      expect(r.files).toEqual([]);
      expect(net.server.exec('nft', ['list', 'chain', 'inet', 'mirrorfleet_acl', 'input']).stdout).toMatch(/tcp dport 873 counter packets [1-9]/);
    });

    it('each layer refuses on its own: without the nftables table, rsyncd says "access denied"', () => {
      net.server.exec('nft', ['delete', 'table', 'inet', 'mirrorfleet_acl']);
      try {
        const r = rsyncFrom(lists.unlisted, url(net.serverV4, 873));
        expect(r.stderr).toContain('@ERROR: access denied to xcp-ng');
        expect(r.files).toEqual([]);
        expect(rsyncFrom(lists.listed, url(net.serverV4, 873)).files).toEqual(['8.3']);
      } finally {
        expect(acl('load').status).toBe(0);
      }
    });

    it('and with rsyncd admitting everyone, nftables still refuses the unlisted address', () => {
      const include = fs.readFileSync(`${root}/var/lib/mirrorfleet/acl/rsync-public.inc`, 'utf8');
      fs.writeFileSync(`${root}/var/lib/mirrorfleet/acl/rsync-public.inc`, 'hosts allow = 0.0.0.0/0 ::/0\n');
      try {
        expect(rsyncFrom(lists.unlisted, url(net.serverV4, 873)).stderr).toMatch(/Connection refused|Connection reset/);
      } finally {
        fs.writeFileSync(`${root}/var/lib/mirrorfleet/acl/rsync-public.inc`, include);
      }
    });

    it('the tier-1 module: a tier-1 mirror reads the staged release; a listed non-tier-1 mirror is refused', () => {
      const t = rsyncFrom(lists.tier1, url(net.serverV4, 874));
      expect(t.stderr).toBe('');
      expect(t.files.sort()).toEqual(['8.3', '8.4']);
      const p = rsyncFrom(lists.listed, url(net.serverV4, 874));
      expect(p.stderr).toMatch(/Connection refused|Connection reset/);
      expect(p.files).toEqual([]);
    });

    it('nothing can write: a push from a listed address is refused (read only)', () => {
      const src = fs.mkdtempSync(path.join(root, 'src-'));
      fs.writeFileSync(path.join(src, 'evil.iso'), 'x');
      const r = net.client.exec('rsync', ['-r', '--contimeout=5', `--address=${lists.listed}`, `${src}/`, url(net.serverV4, 873)]);
      expect(r.stderr).toContain('ERROR: module is read only');
      expect(fs.existsSync(path.join(tree, 'evil.iso'))).toBe(false);
    });

    it('a new list applies in place: the added address syncs, the removed one is refused, the daemons keep running', () => {
      const pids = [pidOf(`${root}/etc/rsyncd.conf`), pidOf(`${root}/etc/rsyncd-tier1.conf`)];
      const next = path.join(root, 'next.acl');
      fs.writeFileSync(next, renderAclFile({ public: [`${lists.unlisted}/32`], tier1: [] }));
      const r = acl('apply', next);
      expect(r.stdout).toContain('applied: 1 public and 0 tier-1 sources');
      expect(rsyncFrom(lists.unlisted, url(net.serverV4, 873)).files).toEqual(['8.3']);
      expect(rsyncFrom(lists.listed, url(net.serverV4, 873)).stderr).toMatch(/Connection refused|Connection reset/);
      expect(rsyncFrom(lists.tier1, url(net.serverV4, 874)).stderr).toMatch(/Connection refused|Connection reset/);
      expect([pidOf(`${root}/etc/rsyncd.conf`), pidOf(`${root}/etc/rsyncd-tier1.conf`)]).toEqual(pids);
      expect(fs.readFileSync(`${root}/var/lib/mirrorfleet/metrics/mirrorfleet_acl.prom`, 'utf8')).toContain('mirrorfleet_acl_entries{list="public"} 1\n');
    });

    it('a malformed list is refused whole and the current one stays in force', () => {
      const bad = path.join(root, 'bad.acl');
      fs.writeFileSync(bad, `public ${lists.listed}/32\npublic 0.0.0.0/0; flush ruleset\n`);
      const r = acl('apply', bad);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('line 2 is not "public|tier1 CIDR"');
      expect(rsyncFrom(lists.unlisted, url(net.serverV4, 873)).files).toEqual(['8.3']);
      expect(rsyncFrom(lists.listed, url(net.serverV4, 873)).files).toEqual([]);
    });
  });
});
