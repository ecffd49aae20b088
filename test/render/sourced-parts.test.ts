import * as path from 'node:path';
import { HostFile } from '../../lib/host/files';
import { hostFiles } from '../../lib/host/host';
import { loadProjectFile } from '../../lib/project/project';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { masterHost } from '../../lib/roles/master/role';
import { mirrorNodeHost } from '../../lib/roles/mirror-node/role';
import { redirectorHost } from '../../lib/roles/redirector/role';
import { TASK_SCRIPTS } from '../../lib/roles/redirector/scaled/image';
import { EXAMPLES, exampleConfig } from '../support/fixtures';
import * as fs from 'node:fs';
import { ASSETS_DIR } from '../../lib/host/files';

/** The files a script sources from its own directory (`. "${BASH_SOURCE[0]%/*}/name"`). */
const sourcedParts = (script: string) => [...script.matchAll(/^\s*\.\s+"\$\{BASH_SOURCE\[0\]%\/\*\}\/([\w.-]+)"/gm)].map((m) => m[1]);

/** Every part some shipped script sources but the same set of files lacks, as "script -> part". */
function missingParts(files: readonly { path: string; content: string }[]): string[] {
  const byPath = new Set(files.map((f) => f.path));
  return files.flatMap((f) => sourcedParts(f.content).filter((p) => !byPath.has(path.join(path.dirname(f.path), p))).map((p) => `${f.path} -> ${p}`));
}

const project = loadProjectFile('examples/project.yaml');
const HOSTS: [string, HostFile[]][] = [
  ...EXAMPLES.map((e): [string, HostFile[]] => [`mirror node ${e}`, hostFiles(mirrorNodeHost(exampleConfig(e)), NODE_LAYOUT)]),
  ['master', hostFiles(masterHost(project), NODE_LAYOUT)],
  ['redirector', hostFiles(redirectorHost(project, { geoip: { kind: 'file' }, mirrorList: { kind: 'file' } }), NODE_LAYOUT)],
];

describe('a script that sources its parts ships with them', () => {
  it('finds the sync engine\'s parts (the check sees what it looks for)', () => {
    expect(sourcedParts(fs.readFileSync(path.join(ASSETS_DIR, 'mirror-sync'), 'utf8'))).toEqual(['mirror-sync-apply']);
    expect(missingParts([{ path: '/usr/local/bin/mirror-sync', content: '. "${BASH_SOURCE[0]%/*}/mirror-sync-apply"\n' }])).toEqual(['/usr/local/bin/mirror-sync -> mirror-sync-apply']);
  });

  it.each(HOSTS)('%s: every sourced part is in the bundle, beside its script', (_, files) => {
    expect(missingParts(files)).toEqual([]);
  });

  it('the scaled redirector\'s tasks image: every sourced part is copied in', () => {
    const files = TASK_SCRIPTS.filter((s) => fs.existsSync(path.join(ASSETS_DIR, s))).map((s) => ({ path: `/bin/${s}`, content: fs.readFileSync(path.join(ASSETS_DIR, s), 'utf8') }));
    expect(missingParts(files)).toEqual([]);
  });
});
