import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { renderAwsScript } from '../../lib/host/aws/aws-host';
import { ASSETS_DIR } from '../../lib/host/files';
import { ALL_TEXTFILE_METRICS, CW_METRICS, TEXTFILE_METRICS } from '../../lib/host/metrics';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { mirrorNodeRole } from '../../lib/roles/mirror-node/role';
import { exampleConfig } from '../support/fixtures';

/*
 * The metrics table (lib/host/metrics.ts) against everything that writes or reads a metric: the
 * node's scripts, the role's declaration, the AWS feed to CloudWatch, the Prometheus rules.
 */
const asset = (name: string) => fs.readFileSync(path.join(ASSETS_DIR, name), 'utf8');

/** Metric names a script writes: literal names, and its `gauge NAME …` calls (with the script's prefix). */
function written(text: string, prefix = 'mirrorfleet_sync_'): string[] {
  const literal = [...text.matchAll(/\bmirrorfleet_[a-z_]+(?=[{ ])/g)].map((m) => m[0]);
  const gauges = [...text.matchAll(/^\s*gauge ([a-z_]+) /gm)].map((m) => `${prefix}${m[1]}`);
  return [...new Set([...literal, ...gauges])].filter((n) => !n.endsWith('_')).sort();
}

describe('the metrics table', () => {
  it.each([
    ['mirror-sync', TEXTFILE_METRICS.sync, 'mirrorfleet_sync_'],
    ['mirror-post-sync', TEXTFILE_METRICS.hooks, 'mirrorfleet_sync_'],
    ['mirrorfleet-cert-deploy', TEXTFILE_METRICS.certificate, 'mirrorfleet_cert_'],
    ['mirrorfleet-publish', TEXTFILE_METRICS.publish, 'mirrorfleet_publish_'],
    ['mirrorfleet-acl', TEXTFILE_METRICS.acl, 'mirrorfleet_acl_'],
  ] as const)('%s writes exactly its names', (script, names, prefix) => {
    expect(written(asset(script), prefix)).toEqual([...names].sort());
  });

  it('the check can fail: a renamed gauge is seen', () => {
    expect(written('gauge bytes_recieved "x" "$b"\necho "mirrorfleet_cert_expiry{domain=\\"d\\"} 1"\n')).toEqual(['mirrorfleet_cert_expiry', 'mirrorfleet_sync_bytes_recieved']);
  });

  it('the mirror node declares the metrics its scripts and static file write', () => {
    const role = mirrorNodeRole(exampleConfig('fedora'));
    expect([...role.metrics].sort()).toEqual([...TEXTFILE_METRICS.sync, ...TEXTFILE_METRICS.hooks, ...TEXTFILE_METRICS.static].sort());
    expect(written(role.staticMetrics)).toEqual([...TEXTFILE_METRICS.static].sort());
  });

  it('the AWS feed reads table names and sends the CloudWatch names the alarms watch', () => {
    const script = renderAwsScript(NODE_LAYOUT);
    const read = [...script.matchAll(/"(mirrorfleet_[a-z_]+)"/g)].map((m) => m[1]);
    expect(read.length).toBeGreaterThan(0);
    expect(read.filter((n) => !ALL_TEXTFILE_METRICS.includes(n as never))).toEqual([]);
    for (const name of [CW_METRICS.syncAge, CW_METRICS.certDaysLeft]) expect(script).toContain(name);
  });

  it('the Prometheus rules read only table names (and their own recording rules)', () => {
    const groups = parse(fs.readFileSync(path.join(ASSETS_DIR, 'prometheus', 'mirrorfleet-rules.yml'), 'utf8')).groups as { rules: { expr: string }[] }[];
    const used = [...new Set(groups.flatMap((g) => g.rules.flatMap((r) => [...r.expr.matchAll(/\bmirrorfleet_[a-z_]+\b/g)].map((m) => m[0]))))];
    expect(used.length).toBeGreaterThan(3);
    expect(used.filter((n) => !ALL_TEXTFILE_METRICS.includes(n as never))).toEqual([]);
  });
});
