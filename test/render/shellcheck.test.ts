import * as fs from 'node:fs';
import * as path from 'node:path';
import { ASSET_SCRIPTS, ASSETS_DIR } from '../../lib/render/node-files';
import { tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';

describeWith(['shellcheck'], 'shellcheck on every script a node runs', () => {
  it('ships exactly the scripts in assets/', () => {
    const onDisk = fs
      .readdirSync(ASSETS_DIR, { withFileTypes: true })
      .filter((e) => e.isFile() && fs.readFileSync(path.join(ASSETS_DIR, e.name), 'utf8').startsWith('#!/bin/bash'))
      .map((e) => e.name);
    expect([...ASSET_SCRIPTS].sort()).toEqual(onDisk.sort());
  });

  it.each([...ASSET_SCRIPTS])('%s is shellcheck-clean', (script) => {
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
