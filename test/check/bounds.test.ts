/*
 * The checker's bounds and its reading of what it is given: traffic only to the checked host,
 * a fixed number of connections and seconds (a server that never answers cannot hold it), a
 * family this host cannot reach reported as skipped (in a network namespace without IPv6), and
 * the parsers of rsync's output, targets and master URLs.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { BudgetExceeded, TrafficBudget } from '../../lib/check/budget';
import { parseMaster } from '../../lib/check/checks-freshness';
import { parseListing, parseModules } from '../../lib/check/rsync-client';
import { checkMirror } from '../../lib/check/run';
import { resolveTarget } from '../../lib/check/target';
import { PRESETS } from '../../lib/presets';
import { REPO } from '../support/fixtures';
import { createNetNs, netnsUnavailable } from '../support/netns';
import { describeWith } from '../support/tools';
import { startMirror } from './mirror';

describe('the traffic budget', () => {
  it('lets connections through to the checked host only, and only as many as allowed', () => {
    const b = new TrafficBudget(new Set(['192.0.2.1', '2001:db8::1']), 2, 60);
    b.take('192.0.2.1', 'http://a');
    expect(() => b.take('198.51.100.7', 'rsync://b')).toThrow(new BudgetExceeded('rsync://b: 198.51.100.7 is not an address of the checked host'));
    b.take('2001:db8::1', 'https://a');
    expect(() => b.take('192.0.2.1', 'http://a')).toThrow("http://a: the run's 2 connections are used up");
    expect(b.summary()).toMatchObject({ connections: 2, maxConnections: 2, peers: ['192.0.2.1', '2001:db8::1'] });
  });

  it('refuses to start anything after its deadline', () => {
    const b = new TrafficBudget(new Set(['192.0.2.1']), 10, 0);
    expect(() => b.take('192.0.2.1', 'http://a')).toThrow("http://a: the run's 0 s are used up");
  });
});

describe('a server that accepts and never answers cannot hold the checker', () => {
  let server: net.Server;
  const held: net.Socket[] = [];
  beforeAll(async () => {
    server = net.createServer((s) => held.push(s.on('error', () => undefined)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it('every check ends failed or skipped within the run\'s bound, none started after it', async () => {
    const port = (server.address() as net.AddressInfo).port;
    const r = await checkMirror('mirror.example.org', { preset: PRESETS.gentoo, addresses: ['127.0.0.1'], ports: { http: port, https: port, rsync: port }, maxSeconds: 6 });
    expect(r.ok).toBe(false);
    expect(r.results.filter((x) => x.status === 'pass')).toEqual([]);
    // The budget stops the walk: what would have started later says so.
    expect(r.results.some((x) => x.status === 'skipped' && /the run's 6 s are used up/.test(x.detail))).toBe(true);
    expect(r.traffic.peers).toEqual(['127.0.0.1']);
  });
});

describeWith(['apache2ctl', 'rsync', 'openssl'], 'the connection bound', () => {
  it('a run allowed 6 connections opens 6, and says which checks it could not do', async () => {
    const m = await startMirror('gentoo');
    try {
      const r = await checkMirror(m.config.hostname, { preset: PRESETS.gentoo, addresses: ['127.0.0.1', '::1'], ports: m.ports, ca: [m.pki.preferred.pem], maxConnections: 6 });
      expect(r.traffic.connections).toBe(6);
      const skipped = r.results.filter((x) => x.status === 'skipped' && /connections are used up/.test(x.detail));
      expect(skipped.length).toBeGreaterThan(3);
    } finally {
      await m.stop();
    }
  });
});

describeWith(['ip', 'node'], 'a family this host cannot reach', () => {
  const why = netnsUnavailable();
  (why ? it.skip : it)('is skipped, never passed, and a preset that requires it does not pass (network namespace without IPv6 routes)', () => {
    const ns = createNetNs();
    try {
      // Only lo: 127.0.0.1 answers nothing, 2001:db8::1 has no route.
      const r = ns.exec(process.execPath, [path.join(REPO, 'bin', 'mirrorfleet.js'), 'check', 'mirror.example.org', '--preset', 'xcp-ng', '--address', '127.0.0.1,2001:db8::1', '--json']);
      expect(r.status).toBe(1);
      const report = JSON.parse(r.stdout);
      const ipv6 = report.results.find((x: { id: string }) => x.id === 'ipv6');
      expect(ipv6).toEqual({ id: 'ipv6', title: 'every protocol answers over IPv6', status: 'skipped', required: true, detail: 'this host has no IPv6 route to 2001:db8::1: not seen from here', because: 'XCP-ng mirror guide (docs.xcp-ng.org/project/mirrors): "Provide both IPv4 and IPv6 addresses."' });
      expect(report.ok).toBe(false);
    } finally {
      ns.destroy();
    }
  });
});

describe('reading rsync, targets and master URLs', () => {
  it('rsync --list-only --no-h lines, in UTC', () => {
    const out = [
      'drwxr-xr-x           4096 2026/01/01 00:00:00 .',
      '-rw-r--r--           1234 2026/02/03 04:05:06 repomd.xml',
      'lrwxrwxrwx              3 2026/02/03 04:05:06 latest -> 8.3',
      'drwxr-x---           4096 2026/02/03 04:05:06 8.4',
      'rsync: some warning',
    ].join('\n');
    expect(parseListing(out)).toEqual([
      { name: '.', type: 'd', size: 4096, mtime: Date.UTC(2026, 0, 1) },
      { name: 'repomd.xml', type: 'f', size: 1234, mtime: Date.UTC(2026, 1, 3, 4, 5, 6) },
      { name: 'latest', type: 'l', size: 3, mtime: Date.UTC(2026, 1, 3, 4, 5, 6) },
      { name: '8.4', type: 'd', size: 4096, mtime: Date.UTC(2026, 1, 3, 4, 5, 6) },
    ]);
    expect(parseModules('xcp-ng         \tXCP-ng xcp-ng - mirror.example.org\nfedora\n')).toEqual(['xcp-ng', 'fedora']);
  });

  it.each([
    ['mirror.example.org', { host: 'mirror.example.org', trees: [{ module: 'xcp-ng', urlPath: '/xcp-ng/' }], ports: { http: 80, https: 443, rsync: 873 } }],
    ['https://mirror.example.org:8443/pub/xcp/', { host: 'mirror.example.org', trees: [{ module: 'xcp', urlPath: '/pub/xcp/' }], ports: { http: 80, https: 8443, rsync: 873 } }],
    ['rsync://mirror.example.org/xcp-ng/8.3/', { host: 'mirror.example.org', trees: [{ module: 'xcp-ng', urlPath: '/xcp-ng/' }], ports: { http: 80, https: 443, rsync: 873 } }],
    ['mirror.example.org/xcp-ng', { host: 'mirror.example.org', trees: [{ module: 'xcp-ng', urlPath: '/xcp-ng/' }], ports: { http: 80, https: 443, rsync: 873 } }],
  ])('%s', async (input, expected) => {
    expect(await resolveTarget(input, PRESETS['xcp-ng'], { addresses: ['192.0.2.1', '2001:db8::1'] })).toEqual({ ...expected, v4: ['192.0.2.1'], v6: ['2001:db8::1'] });
  });

  it.each([
    ['ftp://mirror.example.org/', PRESETS['xcp-ng'], '"ftp://mirror.example.org/": the checker speaks http, https and rsync, not ftp'],
    ['mirror.example.org', PRESETS.custom, 'preset custom has no default tree: give the tree\'s URL, such as https://mirror.example.org/TREE/'],
  ])('%s is refused with the reason', async (input, preset, message) => {
    await expect(resolveTarget(input, preset, { addresses: ['192.0.2.1'] })).rejects.toThrow(message);
  });

  it('a master is the rsync URL of its tree', () => {
    expect(parseMaster('rsync://[2001:db8::5]:8873/xcp-ng')).toEqual({ host: '2001:db8::5', port: 8873, path: 'xcp-ng/' });
    expect(() => parseMaster('https://master.example.org/')).toThrow('--master https://master.example.org/: an rsync URL of the tree on the master, such as rsync://master.example.org/xcp-ng/');
  });
});
