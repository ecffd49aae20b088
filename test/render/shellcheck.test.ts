import * as fs from 'node:fs';
import * as path from 'node:path';
import { ASSETS_DIR } from '../../lib/host/files';
import { mirrorNodeFiles } from '../../lib/roles/mirror-node/role';
import { EXAMPLES, exampleConfig, tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';

/** Every bash script in assets/: what some role or host ships. */
const SCRIPTS = fs
  .readdirSync(ASSETS_DIR, { withFileTypes: true })
  .filter((e) => e.isFile() && fs.readFileSync(path.join(ASSETS_DIR, e.name), 'utf8').startsWith('#!/bin/bash'))
  .map((e) => e.name)
  .sort();

describe('what a mirror node ships from assets/', () => {
  it.each(EXAMPLES)('examples/%s.yaml: the node\'s and the host\'s scripts, not the master\'s mirror-publish', (example) => {
    const shipped = mirrorNodeFiles(exampleConfig(example)).filter((f) => f.asset).map((f) => path.basename(f.path)).sort();
    expect(shipped).toEqual([
      'mirror-post-sync', 'mirror-sync', 'mirror-sync-apply', 'mirror-sync-plan', 'mirror-sync-stages', 'mirror-sync-watchdog',
      'mirrorfleet-apache-setup', 'mirrorfleet-cert', 'mirrorfleet-cert-deploy', 'mirrorfleet-provision', 'mirrorfleet-provision-node',
    ]);
    expect(shipped.every((s) => SCRIPTS.includes(s))).toBe(true);
  });
});

describeWith(['shellcheck'], 'shellcheck on every script in assets/', () => {
  it.each(SCRIPTS)('%s is shellcheck-clean', (script) => {
    const r = run('shellcheck', ['--format=gcc', '--external-sources', path.join(ASSETS_DIR, script)]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('reports a classic mistake (the check can fail)', () => {
    const dir = tmpDir('sc');
    const file = path.join(dir, 'bad.sh');
    fs.writeFileSync(file, '#!/bin/bash\nfor f in $(ls *.txt); do rm $f; done\n');
    const r = run('shellcheck', ['--format=gcc', file]);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(r.status).not.toBe(0);
    expect(r.stdout).toMatch(/SC2045|SC2086/);
  });
});
