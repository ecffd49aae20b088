/**
 * The Hetzner-only node files (lib/host/hcloud/node-exporter.ts, lib/host/hcloud/hcloud-host.ts): node_exporter's settings, the
 * drop-in that makes its unit read them, the figures the alert rules need. Proven by the real
 * prometheus-node-exporter (scraped on loopback), systemd-analyze and cloud-init.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { parse } from 'yaml';
import { PREPARE_DATA_VOLUME } from '../../lib/host/data-volume';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { NodeConfig } from '../../lib/config/node-config';
import { hcloudUserDataBindings as bindingsOf, hcloudVolumeDevice, renderHcloudHostFiles, renderHcloudUserData as userDataOf } from '../../lib/host/hcloud/hcloud-host';
import { NODE_EXPORTER_PACKAGE, nodeExporterDropInPath, renderNodeExporterDropIn, renderNodeExporterEnv } from '../../lib/host/hcloud/node-exporter';
import { mirrorNodeHost, renderNodeStaticMetrics as renderNodeMetrics } from '../../lib/roles/mirror-node/role';
import { freePort, waitForPort } from '../support/ports';
import { EXAMPLES, exampleConfig, tmpDir } from '../support/fixtures';
import { extractInlineBundle } from '../support/bundle';
import { describeWith, run } from '../support/tools';
import { hcloudConfig } from './helpers';

const DEVICE = hcloudVolumeDevice('4711');
// A mirror node's host on Hetzner, as HcloudMirrorNode builds it.
const hcloudUserDataBindings = (c: NodeConfig, device: string) => bindingsOf(mirrorNodeHost(c), c.hcloud, device);
const renderHcloudUserData = (c: NodeConfig, device: string) => userDataOf(mirrorNodeHost(c), c.hcloud, device);
const renderHcloudNodeFiles = (c: NodeConfig, l = NODE_LAYOUT) => renderHcloudHostFiles(mirrorNodeHost(c, l), c.hcloud, l);

describe('node_exporter settings', () => {
  it('listen on loopback only by default, with the textfile collector on the metrics directory', () => {
    expect(renderNodeExporterEnv(exampleConfig('xcp-ng').hcloud.metricsCidrs.length > 0, NODE_LAYOUT)).toBe(
      '# mirrorfleet: prometheus-node-exporter settings (N21), read through /etc/systemd/system/prometheus-node-exporter.service.d/mirrorfleet.conf.\n'
      + 'ARGS="--collector.textfile.directory=/var/lib/mirrorfleet/metrics --web.listen-address=127.0.0.1:9100 --web.listen-address=[::1]:9100"\n',
    );
  });

  it('listen on every address (IPv4 and IPv6) once Prometheus servers are listed', () => {
    expect(renderNodeExporterEnv(hcloudConfig('xcp-ng', { 'hcloud.metricsCidrs': ['203.0.113.9'] }).hcloud.metricsCidrs.length > 0, NODE_LAYOUT)).toContain(
      'ARGS="--collector.textfile.directory=/var/lib/mirrorfleet/metrics --web.listen-address=:9100"',
    );
  });

  it('publish each tree\'s interval and the data volume\'s mount point for the alert rules', () => {
    expect(renderNodeMetrics(exampleConfig('gentoo'))).toBe(`# HELP mirrorfleet_sync_interval_seconds The tree's sync schedule interval, from mirror.yaml.
# TYPE mirrorfleet_sync_interval_seconds gauge
mirrorfleet_sync_interval_seconds{tree="gentoo"} 14400
# HELP mirrorfleet_data_volume_info The mount point of the data volume that holds the trees.
# TYPE mirrorfleet_data_volume_info gauge
mirrorfleet_data_volume_info{mountpoint="/srv/mirror"} 1
`);
    expect(renderNodeMetrics(exampleConfig('fedora'))).toContain('mirrorfleet_sync_interval_seconds{tree="fedora"} 600\n');
  });

  it('go into the user data: files in the bundle, a wait for the volume, node_exporter installed after extraction', () => {
    const config = exampleConfig('xcp-ng');
    const b = hcloudUserDataBindings(config, DEVICE);
    expect(b.extraFiles!.map((f) => `${f.mode} ${f.path}`)).toEqual([
      '0644 /etc/mirrorfleet/node-exporter.env',
      '0644 /etc/systemd/system/prometheus-node-exporter.service.d/mirrorfleet.conf',
      '0644 /var/lib/mirrorfleet/metrics/mirrorfleet_node.prom',
    ]);
    const doc = parse(renderHcloudUserData(config, DEVICE));
    expect(doc.bootcmd).toEqual([['sh', '-c', PREPARE_DATA_VOLUME, 'mirrorfleet-data-volume', DEVICE, config.storage.filesystem, 'mirrordata', '300']]);
    expect(doc.runcmd.map((c: string[]) => c.join(' '))).toEqual([
      expect.stringMatching(/^python3 -c /),
      expect.stringMatching(/^tar --extract/),
      `env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${NODE_EXPORTER_PACKAGE}`,
      'systemctl daemon-reload',
      'systemctl enable prometheus-node-exporter.service',
      'systemctl restart prometheus-node-exporter.service',
      '/usr/local/bin/mirrorfleet-provision',
    ]);
  });
});

describeWith(['cloud-init', 'tar', 'python3'], 'the Hetzner user data, checked by the real programs', () => {
  it.each(EXAMPLES)('examples/%s.yaml passes `cloud-init schema` and its bundle holds the Hetzner files', (example) => {
    const config = exampleConfig(example);
    const dir = tmpDir('hcloud-ud');
    const file = path.join(dir, 'user-data.yaml');
    fs.writeFileSync(file, renderHcloudUserData(config, DEVICE));
    const r = run('cloud-init', ['schema', '--config-file', file]);
    const root = extractInlineBundle(parse(fs.readFileSync(file, 'utf8')), dir);
    const extracted = (p: string) => fs.readFileSync(path.join(root, p), 'utf8');
    try {
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      for (const f of renderHcloudNodeFiles(config, NODE_LAYOUT)) expect(extracted(f.path)).toBe(f.content);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWith(['prometheus-node-exporter', 'systemd-analyze', 'bash'], 'node_exporter and systemd read the rendered files', () => {
  const environmentFilesWith = (dropIn: string): { status: number; files: string[] } => {
    const root = tmpDir('ne-unit');
    const unitDir = path.join(root, 'etc/systemd/system');
    fs.mkdirSync(path.join(unitDir, 'prometheus-node-exporter.service.d'), { recursive: true });
    fs.copyFileSync('/lib/systemd/system/prometheus-node-exporter.service', path.join(unitDir, 'prometheus-node-exporter.service'));
    fs.writeFileSync(path.join(root, nodeExporterDropInPath(NODE_LAYOUT)), dropIn);
    const r = run('systemd-analyze', ['verify', path.join(unitDir, 'prometheus-node-exporter.service')], { env: { ...process.env, SYSTEMD_LOG_LEVEL: 'debug' } });
    fs.rmSync(root, { recursive: true, force: true });
    const files = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /^\s*EnvironmentFile:/.test(l)).map((l) => l.trim());
    return { status: r.status, files };
  };

  it('systemd loads only our EnvironmentFile through the drop-in (the package\'s /etc/default one is dropped)', () => {
    expect(environmentFilesWith(renderNodeExporterDropIn(NODE_LAYOUT))).toEqual({ status: 0, files: ['EnvironmentFile: /etc/mirrorfleet/node-exporter.env'] });
    // Without the reset line both files would be read (the check can fail).
    expect(environmentFilesWith(renderNodeExporterDropIn(NODE_LAYOUT).replace('EnvironmentFile=\n', '')).files).toHaveLength(2);
  });

  it('serves the sync metrics and the rule figures from the textfile directory', async () => {
    const root = tmpDir('ne');
    const layout = { ...NODE_LAYOUT, etcDir: `${root}/etc`, metricsDir: `${root}/metrics` };
    fs.mkdirSync(layout.etcDir);
    fs.mkdirSync(layout.metricsDir);
    const config = exampleConfig('xcp-ng');
    const port = await freePort();
    const env = path.join(layout.etcDir, 'node-exporter.env');
    fs.writeFileSync(env, renderNodeExporterEnv(false, layout, [`127.0.0.1:${port}`]));
    fs.writeFileSync(path.join(layout.metricsDir, 'mirrorfleet_node.prom'), renderNodeMetrics(config));
    // What mirror-sync writes after a good run.
    fs.writeFileSync(path.join(layout.metricsDir, 'mirrorfleet_sync_xcp-ng.prom'),
      '# TYPE mirrorfleet_sync_last_success_timestamp_seconds gauge\nmirrorfleet_sync_last_success_timestamp_seconds{tree="xcp-ng"} 1700000000\n');
    // ARGS as systemd passes them: the env file's value, split on white space.
    const child = spawn('bash', ['-c', '. "$1"; exec prometheus-node-exporter $ARGS --collector.disable-defaults --collector.textfile', 'ne', env], { stdio: 'ignore' });
    try {
      await waitForPort(port);
      const text = await new Promise<string>((resolve, reject) => {
        http.get(`http://127.0.0.1:${port}/metrics`, (res) => {
          let data = '';
          res.on('data', (d) => (data += d));
          res.on('end', () => resolve(data));
        }).on('error', reject);
      });
      expect(text).toContain('mirrorfleet_sync_interval_seconds{tree="xcp-ng"} 900\n');
      expect(text).toContain('mirrorfleet_data_volume_info{mountpoint="/srv/mirror"} 1\n');
      expect(text).toContain('mirrorfleet_sync_last_success_timestamp_seconds{tree="xcp-ng"} 1.7e+09\n');
      expect(text).toContain('node_textfile_scrape_error 0\n');
    } finally {
      child.kill('SIGTERM');
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
