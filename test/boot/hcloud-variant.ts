import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { NodeConfig } from '../../lib/config/node-config';
import { NODE_EXPORTER_PORT } from '../../lib/config/hcloud';
import { ASSETS_DIR } from '../../lib/host/files';
import { hcloudVolumeDevice } from '../../lib/host/hcloud/hcloud-host';
import { NODE_EXPORTER_SERVICE } from '../../lib/host/hcloud/node-exporter';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { freePort, waitForPort } from '../support/ports';
import { startDaemon } from './daemon';
import { applyHcloudFirewall } from './hcloud-firewall';
import { HcloudStackRender, TEST_HCLOUD_VOLUME_ID, synthHcloudNode } from './hcloud-stack';
import { unitJournal, unitProps } from './inspect';
import { expect } from './results';
import { must, sh, sleep } from './sh';
import { BootVariant, VariantContext, lateVolumeCheck } from './variant';
import { World } from './world';

/*
 * The Hetzner Cloud variant (lib/host/hcloud): the user data from the synthesized Terraform
 * configuration, the volume under its scsi-0HC_Volume_<id> name attached late, node_exporter
 * open to the listed Prometheus addresses only (Hetzner's firewall played by the host from the
 * synthesized rules, hcloud-firewall.ts), and a real Prometheus on the host, at a listed address,
 * scraping the node with the project's alert rules loaded.
 */

export const HCLOUD_DATA_DEVICE = hcloudVolumeDevice(TEST_HCLOUD_VOLUME_ID);

interface HcloudState {
  stack?: HcloudStackRender;
  /** A host address the metrics list leaves out: the unlisted client. */
  unlisted?: string;
}

export function hcloudVariant(): BootVariant {
  const state: HcloudState = {};
  return {
    cloud: 'hcloud',
    title: 'Hetzner Cloud',
    world: {},
    dataDevice: HCLOUD_DATA_DEVICE,
    // The host's own addresses on the link are the Prometheus servers this node admits.
    editConfig: (doc, world) => doc.setIn(['hcloud', 'metricsCidrs'], [`${world.hostIp}/32`, `${world.hostIp6}/128`]),
    async start(world: World, config: NodeConfig, dir: string): Promise<string> {
      const stack = synthHcloudNode(config);
      console.log(`  cdktf synth: ${stack.seconds.toFixed(1)} s; ${stack.firewall.length} firewall rules; user data ${Buffer.byteLength(stack.userData)} bytes`);
      applyHcloudFirewall(world, stack.firewall);
      state.unlisted = world.hostIp6.replace(/::1$/, '::99');
      must('ip', ['-6', 'addr', 'add', `${state.unlisted}/64`, 'dev', world.vethHost, 'nodad']);
      state.stack = stack;
      fs.writeFileSync(path.join(dir, 'hcloud-firewall.json'), JSON.stringify(stack.firewall, null, 1));
      return stack.userData;
    },
    checks: (c) => hcloudChecks(c, state),
  };
}

/** curl to node_exporter from one of the host's addresses; 0 when nothing answered. */
function scrape(url: string, from: string): { status: number; body: string; error: string } {
  const r = sh('curl', ['-sS', '-g', '--max-time', '4', '--interface', from, '-o', '-', '-w', '\n%{http_code}', url], { timeoutMs: 10_000 });
  const lines = r.stdout.split('\n');
  return { status: Number(lines.pop() ?? 0), body: lines.join('\n'), error: r.stderr.trim() };
}

async function hcloudChecks(c: VariantContext, s: HcloudState): Promise<void> {
  const { results, node, world, config } = c;
  const rule = s.stack!.firewall.find((r) => r.port === String(NODE_EXPORTER_PORT));
  await results.run(`the Hetzner volume appeared late under its name (${path.basename(HCLOUD_DATA_DEVICE)}) and the data-volume step waited for it`, () => lateVolumeCheck(c));
  await results.run(`${NODE_EXPORTER_SERVICE} enabled and running with mirrorfleet's settings (textfile collector, every address: metricsCidrs is set)`, () => {
    const p = unitProps(node, NODE_EXPORTER_SERVICE, ['ActiveState', 'SubState', 'UnitFileState', 'DropInPaths']);
    expect(p.ActiveState === 'active' && p.SubState === 'running' && p.UnitFileState === 'enabled', `${JSON.stringify(p)}\n${unitJournal(node, NODE_EXPORTER_SERVICE, 10)}`);
    expect(p.DropInPaths.includes('mirrorfleet.conf'), `drop-ins: ${p.DropInPaths}`);
    const args = node.exec(['ps', '-o', 'args=', '-C', 'prometheus-node-exporter']).stdout.trim();
    expect(args.includes(`--collector.textfile.directory=${NODE_LAYOUT.metricsDir}`) && args.includes(`--web.listen-address=:${NODE_EXPORTER_PORT}`), `node_exporter runs as: ${args}`);
    const ss = node.exec(['ss', '-ltnH', `sport = :${NODE_EXPORTER_PORT}`]).stdout.trim();
    return `${args.replace(/^\S+\s+/, '')}; listening: ${ss.split('\n').map((l) => l.trim().split(/\s+/)[3]).join(' ')}`;
  });
  await results.run('the synthesized firewall admits node_exporter from the metrics addresses only', () => {
    expect(!!rule && rule.source_ips.join(' ') === config.hcloud.metricsCidrs.join(' '), `firewall rule for ${NODE_EXPORTER_PORT}: ${JSON.stringify(rule)}`);
    return rule!.source_ips.join(', ');
  });
  for (const [from, to] of [[world.hostIp, world.nodeIp], [world.hostIp6, `[${world.nodeIp6}]`]]) {
    await results.run(`node_exporter answers a listed address (${from})`, () => {
      const r = scrape(`http://${to}:${NODE_EXPORTER_PORT}/metrics`, from);
      expect(r.status === 200 && /^node_exporter_build_info\{/m.test(r.body), `HTTP ${r.status} ${r.error}`);
      return `HTTP 200, ${r.body.split('\n').filter((l) => l && !l.startsWith('#')).length} samples`;
    });
  }
  await results.run(`node_exporter does not answer an unlisted address (${s.unlisted}): the firewall drops it`, () => {
    const r = scrape(`http://[${world.nodeIp6}]:${NODE_EXPORTER_PORT}/metrics`, s.unlisted!);
    expect(r.status === 0, `HTTP ${r.status} from an unlisted address:\n${r.body.slice(0, 200)}`);
    const http = scrape(`http://[${world.nodeIp6}]/`, s.unlisted!);
    expect(http.status === 200, `the same address is refused HTTP too (HTTP ${http.status} ${http.error}): the firewall stand-in is wrong, not node_exporter`);
    return `${r.error.split('\n')[0]}; HTTP from the same address: 200`;
  });
  await prometheusChecks(c);
}

/** The names of the series the alert rules read (recording rules, with a colon, left out). */
export function ruleMetricNames(rulesFile: string): string[] {
  const doc = parse(fs.readFileSync(rulesFile, 'utf8')) as { groups: { rules: { expr: string }[] }[] };
  const names = doc.groups.flatMap((g) => g.rules.flatMap((r) => r.expr.match(/\b(?:node|mirrorfleet)_[a-z0-9_]+\b/g) ?? []));
  return [...new Set(names)].sort();
}

async function prometheusChecks(c: VariantContext): Promise<void> {
  const { results, world, dir } = c;
  const rules = path.join(ASSETS_DIR, 'prometheus', 'mirrorfleet-rules.yml');
  const pdir = path.join(dir, 'prometheus');
  fs.mkdirSync(pdir, { recursive: true });
  const port = await freePort();
  fs.writeFileSync(
    path.join(pdir, 'prometheus.yml'),
    `global: { scrape_interval: 2s, evaluation_interval: 2s }
rule_files: ['${rules}']
scrape_configs:
  - job_name: mirror
    static_configs: [ { targets: ['${world.nodeIp}:${NODE_EXPORTER_PORT}'] } ]
`,
  );
  const prom = startDaemon('prometheus', 'prometheus', [`--config.file=${path.join(pdir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(pdir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], path.join(pdir, 'prometheus.log'));
  try {
    await waitForPort(port, '127.0.0.1', 30_000);
    const query = async (q: string) => {
      const r = (await (await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      return r.data.result;
    };
    // Three scrapes and rule evaluations.
    const t0 = Date.now();
    while (Date.now() - t0 < 30_000 && (await query('up{job="mirror"} == 1').catch(() => [])).length === 0) await sleep(1000);
    await sleep(5000);
    await results.run('a Prometheus at a listed address scrapes the node (up == 1)', async () => {
      const up = await query('up{job="mirror"}');
      expect(up.length === 1 && up[0].value[1] === '1', `up: ${JSON.stringify(up)}\n${prom.log().slice(-1500)}`);
      return `${world.hostIp} -> ${world.nodeIp}:${NODE_EXPORTER_PORT}`;
    });
    const names = ruleMetricNames(rules);
    await results.run(`every series the alert rules read is scraped from the node (${names.length} names)`, async () => {
      const missing: string[] = [];
      for (const n of names) if ((await query(`count(${n})`)).length === 0) missing.push(n);
      expect(missing.length === 0, `not scraped: ${missing.join(', ')}`);
      return names.join(', ');
    });
    await results.run('the data volume\'s free-space rule joins on the node\'s own mount point (mirrorfleet:data_volume_avail:ratio)', async () => {
      const r = await query('mirrorfleet:data_volume_avail:ratio');
      const v = r.find((x) => x.metric.mountpoint === c.config.storage.mountPoint);
      expect(!!v && Number(v.value[1]) > 0 && Number(v.value[1]) <= 1, `result: ${JSON.stringify(r)}`);
      const root = await query('mirrorfleet:root_fs_avail:ratio');
      return `${c.config.storage.mountPoint}: ${(Number(v!.value[1]) * 100).toFixed(1)} % free${root.length ? '' : '; "/" is an overlay in the container, which node_exporter leaves out: the root rule has no series here'}`;
    });
    await results.run('no alert firing or pending on the freshly booted node; no textfile read error', async () => {
      const alerts = ((await (await fetch(`http://127.0.0.1:${port}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } }).data.alerts;
      expect(alerts.length === 0, alerts.map((a) => `${a.labels.alertname} ${a.state} ${JSON.stringify(a.labels)}`).join('\n'));
      const err = await query('node_textfile_scrape_error');
      expect(err.length === 1 && err[0].value[1] === '0', `node_textfile_scrape_error: ${JSON.stringify(err)}`);
    });
  } finally {
    await prom.stop();
  }
}
