import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadProjectFile } from '../../lib/project/project';
import { aclPaths } from '../../lib/roles/master/acl-files';
import { renderMasterFiles } from '../../lib/roles/master/files';
import { REPO, testLayout, tmpDir } from '../support/fixtures';
import { NetNs, createNetNs, netnsUnavailable } from '../support/netns';
import { describeWith } from '../support/tools';

/*
 * The Hetzner channel of the master's ACL (ADR 0026): mirrorfleet-acl poll reads the master's own
 * firewall through the API (a stand-in of its GET /v1/firewalls/{id} answer, in a network
 * namespace with the real nft) and applies what changed; without its token it waits, and says so.
 */
const API = `
const http = require('http');
const [port, token, file] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
http.createServer((req, res) => {
  if (req.headers.authorization !== 'Bearer ' + token) { res.writeHead(401); res.end('{"error":{"code":"unauthorized"}}'); return; }
  if (req.url !== '/v1/firewalls/4711') { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(require('fs').readFileSync(file));
}).listen(port, '127.0.0.1', () => process.stdout.write('ready\\n'));
`;

describeWith(['nft', 'ip', 'python3', 'curl'], 'the master reads its Hetzner firewall back (ADR 0026)', () => {
  const problem = netnsUnavailable();
  (problem && !process.env.CI ? describe.skip : describe)('in a network namespace', () => {
    let root: string;
    let ns: NetNs;
    let env: string;
    const firewall = (rules: { port: string; source_ips: string[] }[]) =>
      fs.writeFileSync(path.join(root, 'firewall.json'), JSON.stringify({ firewall: { id: 4711, rules: rules.map((r) => ({ direction: 'in', protocol: 'tcp', ...r })) } }));
    const poll = () => ns.exec('env', [`MIRRORFLEET_ACL_ENV=${env}`, `MIRRORFLEET_DEPLOY_ENV=${root}/deploy.env`, 'bash', path.join(REPO, 'assets', 'mirrorfleet-acl'), 'poll']);
    const set = (name: string) => ns.exec('nft', ['list', 'set', 'inet', 'mirrorfleet_acl', name]).stdout;

    beforeAll(async () => {
      root = tmpDir('acl-poll');
      const file = path.join(root, 'project.yaml');
      fs.writeFileSync(file, fs.readFileSync(path.join(REPO, 'examples', 'project.yaml'), 'utf8').replace('  storage:\n    sizeGiB: auto', '  rsync: { tier1: true }\n  storage:\n    sizeGiB: auto'));
      fs.copyFileSync(path.join(REPO, 'examples', 'mirrors.yaml'), path.join(root, 'mirrors.yaml'));
      const layout = testLayout(root);
      const files = renderMasterFiles(loadProjectFile(file), { public: ['192.0.2.1/32'], tier1: [] }, { kind: 'hcloud-firewall', tokenFile: `${root}/token` }, layout);
      for (const f of files.filter((x) => x.path.startsWith(root))) {
        fs.mkdirSync(path.dirname(f.path), { recursive: true });
        fs.writeFileSync(f.path, f.content);
      }
      env = aclPaths(layout).env;
      fs.appendFileSync(env, 'HCLOUD_API_URL=http://127.0.0.1:18080\n');
      fs.writeFileSync(`${root}/deploy.env`, 'HCLOUD_FIREWALL_ID=4711\n');
      fs.writeFileSync(path.join(root, 'api.js'), API);
      firewall([{ port: '873', source_ips: ['198.51.100.7/32', '2001:db8:100::/64'] }, { port: '874', source_ips: ['203.0.113.9/32'] }, { port: '80', source_ips: ['0.0.0.0/0', '::/0'] }]);
      ns = createNetNs();
      const api = ns.spawn(process.execPath, [path.join(root, 'api.js'), '18080', 'the-read-token', path.join(root, 'firewall.json')]);
      await new Promise<void>((resolve, reject) => {
        api.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        setTimeout(() => reject(new Error('API stand-in did not start')), 10_000);
      });
      const load = ns.exec('env', [`MIRRORFLEET_ACL_ENV=${env}`, 'bash', path.join(REPO, 'assets', 'mirrorfleet-acl'), 'load']);
      if (load.status !== 0) throw new Error(load.stderr);
    }, 30_000);

    afterAll(() => {
      ns?.destroy();
      fs.rmSync(root, { recursive: true, force: true });
    });

    it('without its token it keeps the current list, says why, and does not fail the unit', () => {
      const r = poll();
      expect(r.stderr).toContain(`no read-only API token at ${root}/token yet`);
      expect(r.status).toBe(0);
      expect(set('public_v4')).toContain('192.0.2.1');
      expect(fs.readFileSync(`${root}/var/lib/mirrorfleet/metrics/mirrorfleet_acl_poll.prom`, 'utf8')).toContain('mirrorfleet_acl_poll_success 0');
    });

    it("with it, applies the firewall's rsync rules: 873 to the public list, the tier-1 port to the tier-1 list, nothing of 80", () => {
      fs.writeFileSync(`${root}/token`, 'the-read-token\n', { mode: 0o600 });
      const r = poll();
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('applied: 2 public and 1 tier-1 sources');
      expect(set('public_v4')).toContain('198.51.100.7');
      expect(set('public_v4')).not.toContain('192.0.2.1');
      expect(set('public_v6')).toContain('2001:db8:100::/64');
      expect(set('tier1_v4')).toContain('203.0.113.9');
      expect(fs.readFileSync(`${root}/var/lib/mirrorfleet/acl/rsync-public.inc`, 'utf8')).toBe('hosts allow = 198.51.100.7/32 2001:db8:100::/64\n');
    });

    it('applies nothing when nothing changed, and fails the unit when the API refuses it', () => {
      expect(poll().stdout).toBe('');
      fs.writeFileSync(`${root}/token`, 'a-wrong-token\n');
      const r = poll();
      expect(r.status).not.toBe(0);
      expect(set('public_v4')).toContain('198.51.100.7');
      expect(fs.readFileSync(`${root}/var/lib/mirrorfleet/metrics/mirrorfleet_acl_poll.prom`, 'utf8')).toContain('mirrorfleet_acl_poll_success 0');
    });
  });
});
