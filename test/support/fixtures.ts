import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseConfig } from '../../lib/config/load';
import { NodeConfig } from '../../lib/config/node-config';
import { NODE_LAYOUT, NodeLayout } from '../../lib/render/layout';

export const REPO = path.join(__dirname, '..', '..');
export const EXAMPLES = ['xcp-ng', 'fedora', 'gentoo'] as const;
export type Example = (typeof EXAMPLES)[number];

export function exampleText(name: Example): string {
  return fs.readFileSync(path.join(REPO, 'examples', `${name}.yaml`), 'utf8');
}

export function exampleConfig(name: Example): NodeConfig {
  return parseConfig(exampleText(name), `examples/${name}.yaml`);
}

/**
 * An example config with its data volume moved to `mountPoint` (and any other top-level keys
 * replaced), parsed through the normal loader: the tests run the same validation as users.
 */
export function exampleConfigAt(name: Example, mountPoint: string, replace: Record<string, unknown> = {}): NodeConfig {
  const YAML = require('yaml') as typeof import('yaml');
  const doc = YAML.parseDocument(exampleText(name));
  doc.setIn(['storage', 'mountPoint'], mountPoint);
  for (const [k, v] of Object.entries(replace)) doc.set(k, v);
  return parseConfig(doc.toString(), `examples/${name}.yaml (test copy)`);
}

/**
 * The section of a Markdown file of the repo (`README.md`, `docs/aws.md`…) under the heading
 * `title` (any level), up to the next heading of the same or a higher level.
 */
export function docSection(file: string, title: string): string {
  const text = fs.readFileSync(path.join(REPO, file), 'utf8');
  const m = new RegExp(`^(#+) ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`, 'm').exec(text);
  if (!m) throw new Error(`${file} has no section "${title}"`);
  const rest = text.slice(m.index + m[0].length);
  const end = new RegExp(`^#{1,${m[1].length}} `, 'm').exec(rest);
  return end ? rest.slice(0, end.index) : rest;
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `mirrorfleet-${prefix}-`));
}

/** The node layout with every path under `root` and the given ports: what the daemon tests use. */
export function testLayout(root: string, ports: { http?: number; https?: number; rsync?: number; privateRsync?: number } = {}): NodeLayout {
  return {
    ...NODE_LAYOUT,
    etcDir: `${root}/etc/mirrorfleet`,
    stateDir: `${root}/var/lib/mirrorfleet`,
    metricsDir: `${root}/var/lib/mirrorfleet/metrics`,
    binDir: path.join(REPO, 'assets'),
    apacheConfDir: `${root}/etc/apache2`,
    apacheLogDir: `${root}/var/log/apache2`,
    httpListen: [`127.0.0.1:${ports.http ?? 18080}`, `[::1]:${ports.http ?? 18080}`],
    httpsListen: [`127.0.0.1:${ports.https ?? 18443}`, `[::1]:${ports.https ?? 18443}`],
    letsencryptDir: `${root}/etc/letsencrypt`,
    letsencryptWorkDir: `${root}/var/lib/letsencrypt`,
    letsencryptLogsDir: `${root}/var/log/letsencrypt`,
    rsyncPort: ports.rsync ?? 18873,
    rsyncRunDir: `${root}/run`,
    rsyncLogDir: `${root}/var/log`,
    privateRsyncPort: ports.privateRsync ?? 18874,
    systemdDir: `${root}/etc/systemd/system`,
  };
}
