import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeLayout, acmeWebroot } from '../../lib/render/layout';
import { renderNftables } from '../../lib/render/nftables';
import { TestApache, startApache } from '../support/apache';
import { exampleConfigAt, testLayout, tmpDir } from '../support/fixtures';
import { LoadResult, NetNs, VethLink, createNetNs, createVethLink, listenerReady, netnsUnavailable, runLoad, writeConnScripts } from '../support/netns';
import { describeWith } from '../support/tools';

/**
 * N5 on the real kernel: the fedora example's rendered nftables file (MaxConnPerIP 6 as a
 * per-source connection cap) loaded into a throwaway server namespace, with real TCP connections
 * from a client namespace over a veth pair, the way a node receives them (over lo the kernel
 * tracks a SYN on its way out, before the rule sees it, and the cap behaves otherwise). The
 * ports are the layout's, so the file is the node's except for them.
 */
const HTTP = 18080;
const HTTPS = 18443;
const UNCAPPED = 18873; // the layout's rsync port: not in the capped set
/** Workload sizes over veth: the pre-fix verdict refuses dozens of times in each (~1 s per drop with the fix). */
const DOWNLOAD_ROUNDS = 15;
const SEQUENTIAL = 300;
const VALIDATOR_ROUNDS = 20;
/** Client IPv6 sources: two in one /64, one in another. */
const V6_SOURCES = ['2001:db8:1::a', '2001:db8:1::b', '2001:db8:2::a'];

async function until(ok: () => boolean, ms = 2000): Promise<void> {
  for (const deadline = Date.now() + ms; !ok() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
}

describeWith(['nft', 'ip'], 'N5: per-source connection cap (rendered nftables, real kernel)', () => {
  // Without the right to make a namespace: skipped on a developer's machine, a failure under CI
  // (createNetNs in beforeAll throws ip's message), since this is the only proof of N5.
  const problem = netnsUnavailable();
  if (problem && !process.env.CI) console.warn(`skipped: ${problem}`);
  (problem && !process.env.CI ? describe.skip : describe)('server and client namespaces over veth', () => {
    let root: string;
    let server: NetNs | undefined;
    let clientNs: NetNs | undefined;
    let link: VethLink;
    let nftFile: string;
    let scripts: { listener: string; client: string };
    let accepted: () => string[];

    beforeAll(async () => {
      root = tmpDir('nft');
      const config = exampleConfigAt('fedora', `${root}/srv/mirror`);
      const rules = renderNftables(config, testLayout(root, { http: HTTP, https: HTTPS, rsync: UNCAPPED }));
      if (rules === undefined) throw new Error('the fedora example rendered no nftables file');
      nftFile = path.join(root, 'nftables.nft');
      fs.writeFileSync(nftFile, rules);
      scripts = writeConnScripts(root);
      server = createNetNs();
      clientNs = createNetNs();
      link = createVethLink(server, clientNs, { ipv4Clients: 2, extraIp6: V6_SOURCES });
      // Loaded here so every test below runs against the rules (the first one re-checks the load).
      const load = server.exec('nft', ['-f', nftFile]);
      if (load.status !== 0) throw new Error(`nft -f ${nftFile}: ${load.stderr}\n${rules}`);
      // "::" takes IPv4 too (v4-mapped), on every address of the namespace.
      const listener = server.spawn(process.execPath, [scripts.listener, JSON.stringify([HTTP, HTTPS, UNCAPPED].map((p) => ['::', p]))]);
      ({ accepted } = await listenerReady(listener));
    }, 30_000);

    afterAll(() => {
      clientNs?.destroy();
      server?.destroy();
      if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    const client = async (host: string, port: number, opts: { count?: number; sources?: string[]; other?: string } = {}) => {
      const args = [scripts.client, host, String(port), String(opts.count ?? 7), (opts.sources ?? [link.clientIps[0]]).join(','), opts.other ?? ''];
      const r = await clientNs!.execAsync(process.execPath, args);
      if (r.status !== 0) throw new Error(`client in ${clientNs!.name}: ${r.stdout}${r.stderr}`);
      return JSON.parse(r.stdout) as { opened: string[]; other: string; afterClose: string };
    };
    // The 7th SYN is dropped (and its retry after ~1 s too): no answer, no reset, within the client's 3 s.
    const capped = [...Array(6).fill('connected'), 'TIMEOUT'];
    const dropped = () => {
      const listing = server!.exec('nft', ['list', 'table', 'inet', 'mirrorfleet']).stdout;
      return [...listing.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
    };

    it('nft -c accepts the file, and loading it again replaces the table (idempotent)', () => {
      const rules = fs.readFileSync(nftFile, 'utf8');
      expect(rules).toContain(`tcp dport { ${HTTP}, ${HTTPS} }`);
      expect(rules.match(/ct count over 6 } counter drop$/gm)).toHaveLength(2);
      expect(rules).not.toContain('reject');
      const check = server!.exec('nft', ['-c', '-f', nftFile]);
      expect([check.status, check.stderr]).toEqual([0, '']);
      for (let i = 0; i < 2; i++) {
        const load = server!.exec('nft', ['-f', nftFile]);
        expect([load.status, load.stderr]).toEqual([0, '']);
      }
      const tables = server!.exec('nft', ['list', 'tables']).stdout.trim().split('\n');
      expect(tables).toEqual(['table inet mirrorfleet']);
      expect(dropped()).toEqual([0, 0]);
    });

    it('IPv4, HTTP port: 6 concurrent connections from one address connect, the 7th gets no answer; another address does; closing one lets a new one in', async () => {
      const before = accepted().length;
      const r = await client(link.serverIp, HTTP, { other: link.clientIps[1] });
      expect(r).toEqual({ opened: capped, other: 'connected', afterClose: 'connected' });
      // The firewall dropped the 7th's SYN (its counter: the SYN and its retries), and the server never saw it.
      expect(dropped()[0]).toBeGreaterThanOrEqual(1);
      await until(() => accepted().length - before >= 8);
      expect(accepted().length - before).toBe(8);
    });

    it('IPv4, HTTPS port: the same cap', async () => {
      expect(await client(link.serverIp, HTTPS)).toEqual({ opened: capped, other: '', afterClose: 'connected' });
    });

    it('other ports (rsync) are not capped', async () => {
      expect((await client(link.serverIp, UNCAPPED, { count: 8 })).opened).toEqual(Array(8).fill('connected'));
    });

    it('IPv6: counted per /64: two addresses of one /64 share the cap, another /64 has its own', async () => {
      const r = await client(link.serverIp6, HTTP, { sources: V6_SOURCES.slice(0, 2), other: V6_SOURCES[2] });
      expect(r).toEqual({ opened: capped, other: 'connected', afterClose: 'connected' });
      expect(dropped()[1]).toBeGreaterThanOrEqual(1);
    });
  });
});

/**
 * N5 as a node receives traffic: the rendered table and the real Apache serving the rendered
 * site in one namespace, well-behaved clients in another, linked by a veth pair. Over lo the
 * kernel sees each close before the next SYN; over a link its per-source count forgets closed
 * and refused connections lazily, and counts a client within the cap over it now and then.
 * The pre-fix verdict (reset) is loaded as the control: the same workloads then fail requests.
 */
describeWith(['nft', 'ip', 'apache2', 'apache2ctl', 'ss'], 'N5 over a veth pair: the cap never fails a client within it (real Apache)', () => {
  const problem = netnsUnavailable();
  if (problem && !process.env.CI) console.warn(`skipped: ${problem}`);
  (problem && !process.env.CI ? describe.skip : describe)('server and client namespaces', () => {
    let root: string;
    let server: NetNs | undefined;
    let client: NetNs | undefined;
    let apache: TestApache | undefined;
    let link: VethLink;
    let rendered: string;
    let urls: { download: string; small: string; challenge: string };
    let cap: number;

    beforeAll(async () => {
      root = tmpDir('nft-veth');
      const config = exampleConfigAt('fedora', `${root}/srv/mirror`);
      cap = config.http.perIpConnectionLimit!;
      // Bare ports, as on a node: Apache listens on every address of its namespace.
      const layout: NodeLayout = { ...testLayout(root, { http: HTTP, https: HTTPS, rsync: UNCAPPED }), httpListen: [String(HTTP)], httpsListen: [String(HTTPS)] };
      rendered = renderNftables(config, layout)!;
      server = createNetNs();
      client = createNetNs();
      link = createVethLink(server, client, { ipv4Clients: 3 });
      apache = await startApache(config, layout, { netns: server.name });
      const tree = config.trees[0];
      const put = (rel: string, content: Buffer) => {
        fs.mkdirSync(path.dirname(path.join(tree.path, rel)), { recursive: true, mode: 0o755 });
        fs.writeFileSync(path.join(tree.path, rel), content, { mode: 0o644 });
        return `${tree.urlPath.replace(/\/$/, '')}/${rel}`;
      };
      fs.writeFileSync(path.join(acmeWebroot(layout), '.well-known/acme-challenge/tok-en'), 'tok-en.thumbprint');
      urls = {
        download: put('linux/releases/45/Server/x86_64/iso/boot.iso', crypto.randomBytes(1 << 20)),
        small: put('linux/updates/45/Everything/x86_64/repodata/repomd.xml', crypto.randomBytes(4096)),
        challenge: '/.well-known/acme-challenge/tok-en',
      };
    }, 60_000);

    afterAll(async () => {
      await apache?.stop();
      client?.destroy();
      server?.destroy();
      if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    const loadRules = (text: string) => {
      const file = path.join(root, 'rules.nft');
      fs.writeFileSync(file, text);
      const r = server!.exec('nft', ['-f', file]);
      if (r.status !== 0) throw new Error(`nft -f: ${r.stderr}\n${text}`);
    };
    const counters = () => [...server!.exec('nft', ['list', 'table', 'inet', 'mirrorfleet']).stdout.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
    const failures = (r: LoadResult) => Object.values(r.failed).reduce((a, b) => a + b, 0);
    // The three at once, each from its own address (so each has the cap to itself).
    const workloads = async () => {
      const from = (i: number) => ({ host: link.serverIp, port: HTTP, localAddress: link.clientIps[i] });
      const [downloads, sequential, validator] = await Promise.all([
        runLoad(client!, root, from(0), { workload: 'downloads', file: urls.download, parallel: cap, rounds: DOWNLOAD_ROUNDS }),
        runLoad(client!, root, from(1), { workload: 'sequential', file: urls.small, requests: SEQUENTIAL }),
        runLoad(client!, root, from(2), { workload: 'validator', file: urls.small, probe: urls.challenge, parallel: cap, rounds: VALIDATOR_ROUNDS }),
      ]);
      return { downloads, sequential, validator };
    };

    it('control: with the pre-fix verdict (tcp reset), every workload has requests refused', async () => {
      const control = rendered.replace(/ counter drop$/gm, ' counter reject with tcp reset');
      expect(control.match(/reject with tcp reset$/gm)).toHaveLength(2);
      loadRules(control);
      const r = await workloads();
      console.log(`pre-fix verdict over veth: ${JSON.stringify(r)}; refusals counted by the rule: ${counters()}`);
      expect(failures(r.downloads)).toBeGreaterThan(0);
      expect(failures(r.sequential)).toBeGreaterThan(0);
      expect(failures({ ...r.validator, failed: r.validator.probe })).toBeGreaterThan(0);
    }, 600_000);

    it('the rendered rule: the same workloads have zero failed requests; the over-count was dropped and retried', async () => {
      loadRules(rendered);
      const r = await workloads();
      console.log(`rendered rule over veth: ${JSON.stringify(r)}; SYNs dropped by the rule: ${counters()}`);
      expect([r.downloads.requests, r.sequential.requests, r.validator.requests]).toEqual([DOWNLOAD_ROUNDS * cap, SEQUENTIAL, VALIDATOR_ROUNDS * (cap + 1)]);
      expect([r.downloads.failed, r.sequential.failed, r.validator.failed]).toEqual([{}, {}, {}]);
      // The workloads did hit the lazy count (else this test proves nothing): its SYNs were dropped and retried.
      expect(counters()[0]).toBeGreaterThan(0);
    }, 600_000);

    it('the rendered rule still caps an abuser: 6 connections to Apache from one address, the 7th unanswered while another address gets in; one closed, a new one connects', async () => {
      loadRules(rendered);
      const before = counters()[0];
      const { client: script } = writeConnScripts(root);
      const args = [script, link.serverIp, String(HTTP), String(cap + 1), link.clientIps[0], link.clientIps[1]];
      const r = await client!.execAsync(process.execPath, args);
      expect([r.status, r.stderr]).toEqual([0, '']);
      expect(JSON.parse(r.stdout)).toEqual({ opened: [...Array(cap).fill('connected'), 'TIMEOUT'], other: 'connected', afterClose: 'connected' });
      expect(counters()[0]).toBeGreaterThan(before);
    }, 60_000);
  });
});
