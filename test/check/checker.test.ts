/*
 * The live checker (O2) against real daemons on loopback: each example's rendered Apache site
 * (HTTP and HTTPS with a certificate from a test PKI) and rendered rsyncd, on IPv4 and IPv6, and a
 * master rsyncd to judge freshness against. A healthy node passes every check; each broken
 * variant (test/check/mirror.ts) fails exactly the check that matches what was broken.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../bin/cli';
import { checkMirror } from '../../lib/check/run';
import { CheckReport } from '../../lib/check/types';
import { PRESETS } from '../../lib/presets';
import { Example, tmpDir } from '../support/fixtures';
import { describeWith } from '../support/tools';
import { Broken, TestMirror, startMirror } from './mirror';

const check = (m: TestMirror, example: Example, o: { master?: boolean } = {}) =>
  checkMirror(m.config.hostname, {
    preset: PRESETS[example],
    addresses: ['127.0.0.1', '::1'],
    ports: m.ports,
    ca: [m.pki.preferred.pem, m.pki.other.pem],
    chainRoot: m.pki.preferred.cn,
    ...(o.master === false ? {} : { master: m.masterUrl }),
  });

const ids = (r: CheckReport, status: string) => r.results.filter((x) => x.status === status).map((x) => x.id);
const evidence = (r: CheckReport) => r.results.map((x) => `${x.status} ${x.id}: ${x.detail}`).join('\n');

describeWith(['apache2ctl', 'rsync', 'openssl'], 'a healthy node passes every check', () => {
  it.each(['xcp-ng', 'fedora', 'gentoo'] as const)('examples/%s.yaml', async (example) => {
    const m = await startMirror(example);
    try {
      const r = await check(m, example);
      expect({ failed: ids(r, 'fail'), evidence: evidence(r) }).toEqual({ failed: [], evidence: expect.any(String) });
      // Only the listings check has nothing to look at where the guide asks for none.
      expect(ids(r, 'skipped')).toEqual(example === 'gentoo' ? [] : ['listings']);
      expect(r.ok).toBe(true);
      expect(r.traffic.peers).toEqual(['127.0.0.1', '::1']);
      expect(r.traffic.connections).toBeLessThanOrEqual(r.traffic.maxConnections);
      // What it found to check against: the boot proof's tree (test/boot/trees.ts).
      const saw = (id: string) => r.results.find((x) => x.id === id)!.detail;
      expect(saw('metadata-cache')).toMatch(/(repomd\.xml|latest-iso\.txt): 200, Cache-Control: max-age=0, must-revalidate; Expires = Date; HTTPS/);
      expect(saw('keep-alive')).toContain('Keep-Alive: timeout=2, max=100');
      expect(saw('octet-stream')).toContain('.iso 200 application/octet-stream');
    } finally {
      await m.stop();
    }
  });
});

describeWith(['apache2ctl', 'rsync', 'openssl'], 'a broken node fails exactly the matching check', () => {
  it.each([
    ['checksum', 'rsync-checksum', /rsync -c --dry-run rsync:\/\/127\.0\.0\.1:\d+\/xcp-ng\/.* was served/],
    ['ipv6', 'ipv6', /::1: HTTP: ECONNREFUSED .*; HTTPS: ECONNREFUSED .*; rsync .*Connection refused/],
    ['chain', 'chain', /mirror\.example\.org → mirrorfleet Test R11 → mirrorfleet Test Old Root: does not end at "mirrorfleet Test Root X1"/],
    ['metadata-header', 'metadata-cache', /HTTP: 8\.3\/base\/x86_64\/repodata\/repomd\.xml: 200, Cache-Control: \(none\); HTTPS: .*Cache-Control: \(none\)/],
    ['stale-trace', 'freshness', /the master's project\/trace\/master\.example\.org of .* has not reached the node for 5\.0 h \(the node's copy is of .*\); limit 3\.0 h/],
  ] as [Broken, string, RegExp][])('%s: %s fails, nothing else', async (broken, id, saw) => {
    const m = await startMirror('xcp-ng', broken);
    try {
      const r = await check(m, 'xcp-ng');
      expect({ failed: ids(r, 'fail'), evidence: evidence(r) }).toEqual({ failed: [id], evidence: expect.any(String) });
      expect(r.results.find((x) => x.id === id)!.detail).toMatch(saw);
      // The guide requires all but --checksum and the metadata header (Fedora's rules): those fail without failing the run.
      expect(r.ok).toBe(broken === 'checksum' || broken === 'metadata-header');
    } finally {
      await m.stop();
    }
  });

  it('the command prints one line per check and exits 1 when a required one fails', async () => {
    const m = await startMirror('xcp-ng', 'chain');
    const dir = tmpDir('ca');
    try {
      const ca = path.join(dir, 'roots.pem');
      fs.writeFileSync(ca, m.pki.preferred.pem + m.pki.other.pem);
      let out = '';
      let err = '';
      const code = await main(
        ['check', `https://${m.config.hostname}:${m.ports.https}/xcp-ng/`, '--preset', 'xcp-ng', '--address', '127.0.0.1,::1', '--ports', `http=${m.ports.http},rsync=${m.ports.rsync}`, '--ca', ca, '--chain-root', m.pki.preferred.cn],
        { out: (s) => (out += s), err: (s) => (err += s) },
      );
      const lines = out.trimEnd().split('\n');
      expect({ code, err }).toEqual({ code: 1, err: '' });
      expect(lines[0]).toBe(`mirrorfleet check https://${m.config.hostname}:${m.ports.https}/xcp-ng/ --preset xcp-ng (127.0.0.1, ::1)`);
      expect(lines.filter((l) => /^FAIL /.test(l))).toEqual([expect.stringMatching(/^FAIL  chain            the chain ends at mirrorfleet Test Root X1: .* does not end at/)]);
      expect(lines.find((l) => / freshness /.test(l))).toMatch(/^skip  freshness        the node is in step with its master \(recommended\): no --master rsync:\/\/… to compare with; the node's own trace \(project\/trace\/mirror\.example\.org\) is \d+ s old/);
      expect(lines[lines.length - 1]).toMatch(/^does not meet the xcp-ng prerequisites: 7 of 8 required checks pass, 1 fail \(\d+ connections, [\d.]+ s, to 127\.0\.0\.1, ::1\)$/);
      expect(lines).toHaveLength(1 + 17 + 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await m.stop();
    }
  });
});
