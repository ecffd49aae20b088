import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderNftables } from '../../lib/render/nftables';
import { exampleConfigAt, testLayout, tmpDir } from '../support/fixtures';
import { NetNs, createNetNs, listenerReady, netnsUnavailable, writeConnScripts } from '../support/netns';
import { describeWith } from '../support/tools';

/**
 * N5 on the real kernel: the fedora example's rendered nftables file (MaxConnPerIP 6 as a
 * per-source connection cap) loaded into a throwaway network namespace, with real TCP
 * connections from inside it. The ports are the layout's, so the file is the node's except for them.
 */
const HTTP = 18080;
const HTTPS = 18443;
const UNCAPPED = 18873; // the layout's rsync port: not in the capped set

async function until(ok: () => boolean, ms = 2000): Promise<void> {
  for (const deadline = Date.now() + ms; !ok() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
}

describeWith(['nft', 'ip'], 'N5: per-source connection cap (rendered nftables, real kernel)', () => {
  // Without the right to make a namespace: skipped on a developer's machine, a failure under CI
  // (createNetNs in beforeAll throws ip's message), since this is the only proof of N5.
  const problem = netnsUnavailable();
  if (problem && !process.env.CI) console.warn(`skipped: ${problem}`);
  (problem && !process.env.CI ? describe.skip : describe)('in a network namespace', () => {
    let root: string;
    let ns: NetNs | undefined;
    let nftFile: string;
    let scripts: { listener: string; client: string };
    let accepted: () => string[];
    let ipv6 = false;

    beforeAll(async () => {
      root = tmpDir('nft');
      const config = exampleConfigAt('fedora', `${root}/srv/mirror`);
      const rules = renderNftables(config, testLayout(root, { http: HTTP, https: HTTPS, rsync: UNCAPPED }));
      if (rules === undefined) throw new Error('the fedora example rendered no nftables file');
      nftFile = path.join(root, 'nftables.nft');
      fs.writeFileSync(nftFile, rules);
      scripts = writeConnScripts(root);
      ns = createNetNs();
      // Loaded here so every test below runs against the rules (the first one re-checks the load).
      const load = ns.exec('nft', ['-f', nftFile]);
      if (load.status !== 0) throw new Error(`nft -f ${nftFile}: ${load.stderr}\n${rules}`);
      ipv6 = ns.exec('ip', ['-6', 'addr', 'show', 'dev', 'lo']).stdout.includes('inet6 ::1/128');
      const hosts = ipv6 ? ['127.0.0.1', '::1'] : ['127.0.0.1'];
      const listener = ns.spawn(process.execPath, [scripts.listener, JSON.stringify(hosts.flatMap((h) => [HTTP, HTTPS, UNCAPPED].map((p) => [h, p])))]);
      ({ accepted } = await listenerReady(listener));
    }, 30_000);

    afterAll(() => {
      ns?.destroy();
      if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    const client = async (host: string, port: number, opts: { count?: number; sources?: string[]; other?: string } = {}) => {
      const args = [scripts.client, host, String(port), String(opts.count ?? 7), (opts.sources ?? []).join(','), opts.other ?? ''];
      const r = await ns!.execAsync(process.execPath, args);
      if (r.status !== 0) throw new Error(`client in ${ns!.name}: ${r.stdout}${r.stderr}`);
      return JSON.parse(r.stdout) as { opened: string[]; other: string; afterClose: string };
    };
    const capped = [...Array(6).fill('connected'), 'ECONNREFUSED'];
    const rejected = () => {
      const listing = ns!.exec('nft', ['list', 'table', 'inet', 'mirrorfleet']).stdout;
      return [...listing.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
    };

    it('nft -c accepts the file, and loading it again replaces the table (idempotent)', () => {
      const rules = fs.readFileSync(nftFile, 'utf8');
      expect(rules).toContain(`tcp dport { ${HTTP}, ${HTTPS} }`);
      expect(rules).toMatch(/ct count over 6\b/);
      const check = ns!.exec('nft', ['-c', '-f', nftFile]);
      expect([check.status, check.stderr]).toEqual([0, '']);
      for (let i = 0; i < 2; i++) {
        const load = ns!.exec('nft', ['-f', nftFile]);
        expect([load.status, load.stderr]).toEqual([0, '']);
      }
      const tables = ns!.exec('nft', ['list', 'tables']).stdout.trim().split('\n');
      expect(tables).toEqual(['table inet mirrorfleet']);
      expect(rejected()).toEqual([0, 0]);
    });

    it('IPv4, HTTP port: 6 concurrent connections from one address connect, the 7th is refused; another address is not; closing one lets a new one in', async () => {
      const before = accepted().length;
      const r = await client('127.0.0.1', HTTP, { other: '127.0.0.2' });
      expect(r).toEqual({ opened: capped, other: 'connected', afterClose: 'connected' });
      // The refusal was the firewall's (its counter), and the server never saw the refused connection.
      expect(rejected()[0]).toBe(1);
      await until(() => accepted().length - before >= 8);
      expect(accepted().length - before).toBe(8);
    });

    it('IPv4, HTTPS port: the same cap', async () => {
      expect(await client('127.0.0.1', HTTPS)).toEqual({ opened: capped, other: '', afterClose: 'connected' });
    });

    it('other ports (rsync) are not capped', async () => {
      expect((await client('127.0.0.1', UNCAPPED, { count: 8 })).opened).toEqual(Array(8).fill('connected'));
    });

    it('IPv6: counted per /64: two addresses of one /64 share the cap, another /64 has its own', async () => {
      if (!ipv6) {
        console.warn('N5 IPv6 assertions skipped: the namespace has no ::1 (IPv6 disabled on this host)');
        return;
      }
      for (const a of ['2001:db8:1::a', '2001:db8:1::b', '2001:db8:2::a']) {
        const add = ns!.exec('ip', ['-6', 'addr', 'add', `${a}/128`, 'dev', 'lo', 'nodad']);
        expect([a, add.status, add.stderr]).toEqual([a, 0, '']);
      }
      const r = await client('::1', HTTP, { sources: ['2001:db8:1::a', '2001:db8:1::b'], other: '2001:db8:2::a' });
      expect(r).toEqual({ opened: capped, other: 'connected', afterClose: 'connected' });
      expect(rejected()[1]).toBe(1);
    });
  });
});
