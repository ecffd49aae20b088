import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeConfig } from '../../lib/config/node-config';
import { certLive } from '../../lib/render/layout';
import { renderRsyncdConf } from '../../lib/render/rsyncd';
import { TREES, writeTree } from '../boot/trees';
import { Example } from '../support/fixtures';
import { MirrorSite, serveExample } from '../support/mirror-site';
import { freePort } from '../support/ports';
import { TestRsyncd, ensureMirrorAccounts, startRsyncd } from '../support/rsyncd';
import { run } from '../support/tools';
import { TestPki, makePki } from './pki';

/*
 * A live mirror for the checker, on loopback: the example's rendered Apache site (HTTP and, with
 * a certificate from the test PKI, HTTPS) and its rendered rsyncd, both on IPv4 and IPv6, serving
 * the boot proof's small tree plus the trace files a synced node has. A variant breaks exactly
 * one thing, as a misconfigured node would.
 */

export type Broken = 'none' | 'checksum' | 'ipv6' | 'chain' | 'metadata-header' | 'stale-trace';

export interface TestMirror {
  readonly config: NodeConfig;
  readonly site: MirrorSite;
  readonly rsyncd: TestRsyncd;
  readonly master: TestRsyncd;
  readonly pki: TestPki;
  readonly ports: { http: number; https: number; rsync: number };
  /** rsync URL of the tree on the master. */
  readonly masterUrl: string;
  stop(): Promise<void>;
}

const HOUR = 3_600_000;

export async function startMirror(example: Example, broken: Broken = 'none'): Promise<TestMirror> {
  ensureMirrorAccounts();
  let site = await serveExample(example);
  if (broken === 'ipv6' || broken === 'metadata-header') {
    // The same site rendered from a config (or a layout) with one thing missing.
    const again = site;
    const config: NodeConfig = broken === 'metadata-header' ? { ...again.config, preset: { ...again.config.preset, metadataPatterns: [] } } : again.config;
    await again.apache.stop();
    fs.rmSync(path.join(again.root, 'etc', 'apache2'), { recursive: true, force: true });
    const layout = broken === 'ipv6' ? { ...again.layout, httpListen: again.layout.httpListen.filter((l) => !l.startsWith('[')), httpsListen: again.layout.httpsListen.filter((l) => !l.startsWith('[')) } : again.layout;
    const { startApache } = await import('../support/apache');
    site = { ...again, config, layout, apache: await startApache(config, layout) };
  }
  const c = site.config;
  const tree = c.trees[0];
  writeTree(TREES[example], tree.path);
  const now = Date.now();
  // What a synced node holds: the master's trace (copied with its time) and its own.
  const masterTrace = 'project/trace/master.example.org';
  site.put(masterTrace, 'Mon Dec  1 10:00:00 UTC 2026\n');
  site.put(`project/trace/${c.hostname}`, `Date: x\nCreator: mirrorfleet mirror-sync\nRunning on host: ${c.hostname}\n`);
  // The master's last change was 5 hours ago; a stale node still has the one from the day before.
  const masterTime = new Date(now - 5 * HOUR);
  const copyTime = broken === 'stale-trace' ? new Date(now - 30 * HOUR) : masterTime;
  fs.utimesSync(site.file(masterTrace), copyTime, copyTime);

  const pki = makePki(path.join(site.root, 'pki'), c.hostname);
  const live = certLive(site.layout);
  fs.mkdirSync(live, { recursive: true });
  fs.writeFileSync(`${live}/fullchain.pem`, broken === 'chain' ? pki.fullchain.other : pki.fullchain.preferred);
  fs.writeFileSync(`${live}/privkey.pem`, pki.key, { mode: 0o600 });
  await site.apache.graceful();

  const rsyncPort = await freePort();
  let conf = renderRsyncdConf(c, { ...site.layout, rsyncPort, rsyncRunDir: `${site.root}/run`, rsyncLogDir: `${site.root}/var/log` });
  if (broken === 'checksum') conf = conf.replace(/^refuse options = checksum\n/m, '');
  if (broken === 'ipv6') conf = conf.replace(/^port = (\d+)$/m, 'port = $1\naddress = 127.0.0.1');
  const rsyncd = await startRsyncd(`${site.root}/etc/rsyncd.conf`, conf);

  // The master: the same tree (times kept, as a sync keeps them) with its trace.
  const masterRoot = path.join(site.root, 'master');
  fs.mkdirSync(masterRoot, { recursive: true });
  const cp = run('cp', ['-a', tree.path, path.join(masterRoot, tree.name)]);
  if (cp.status !== 0) throw new Error(`cp -a ${tree.path}: ${cp.stderr}`);
  const masterFile = path.join(masterRoot, tree.name, masterTrace);
  fs.mkdirSync(path.dirname(masterFile), { recursive: true });
  fs.writeFileSync(masterFile, 'Mon Dec  1 10:00:00 UTC 2026\n');
  fs.utimesSync(masterFile, masterTime, masterTime);
  const masterPort = await freePort();
  const master = await startRsyncd(`${masterRoot}/rsyncd.conf`, `port = ${masterPort}\npid file = ${masterRoot}/rsyncd.pid\nuse chroot = no\nuid = nobody\ngid = nogroup\n[${tree.name}]\n    path = ${masterRoot}/${tree.name}\n    read only = yes\n`);
  fs.chmodSync(masterRoot, 0o755);

  return {
    config: c,
    site,
    rsyncd,
    master,
    pki,
    ports: { http: site.apache.httpPort, https: site.apache.httpsPort, rsync: rsyncPort },
    masterUrl: `rsync://127.0.0.1:${masterPort}/${tree.name}/`,
    stop: async () => {
      await master.stop();
      await rsyncd.stop();
      await site.close();
    },
  };
}
