import * as fs from 'node:fs';
import * as path from 'node:path';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { mirrorNodeFiles, renderNodeUserData } from '../../lib/roles/mirror-node/role';
import { EXAMPLES, REPO, exampleConfig } from '../support/fixtures';

/*
 * Golden files: every rendered file of every example, as a node gets it, under
 * test/golden/<example>/<install path>. A change to a renderer shows up as a readable diff.
 * Regenerate deliberately with UPDATE_GOLDEN=1 and review the diff; CI never writes them.
 */
const GOLDEN = path.join(REPO, 'test', 'golden');
const update = process.env.UPDATE_GOLDEN === '1' && !process.env.CI;

/** The user data with the (binary) bundle replaced by a marker; its content is tested below. */
function normalisedUserData(text: string): string {
  return text.replace(/(- path: \/var\/lib\/mirrorfleet\/node-files\.tar\.gz\n(?:.*\n)*?\s+content: )\S+/, '$1<bundle of the files listed above>');
}

function goldenFilesOf(example: string): string[] {
  const root = path.join(GOLDEN, example);
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  return fs.existsSync(root) ? walk(root).map((f) => path.relative(root, f)).sort() : [];
}

describe.each(EXAMPLES)('golden files for examples/%s.yaml', (example) => {
  const config = exampleConfig(example);
  const rendered = new Map<string, string>();
  for (const f of mirrorNodeFiles(config, NODE_LAYOUT)) {
    if (!f.asset) rendered.set(f.path.replace(/^\//, ''), f.content);
  }
  rendered.set('user-data.yaml', normalisedUserData(renderNodeUserData(config)));

  if (update) {
    fs.rmSync(path.join(GOLDEN, example), { recursive: true, force: true });
    for (const [rel, content] of rendered) {
      fs.mkdirSync(path.dirname(path.join(GOLDEN, example, rel)), { recursive: true });
      fs.writeFileSync(path.join(GOLDEN, example, rel), content);
    }
  }

  it('renders exactly the files that have golden copies', () => {
    expect([...rendered.keys()].sort()).toEqual(goldenFilesOf(example));
  });

  it.each([...rendered.keys()].sort())('%s matches its golden copy', (rel) => {
    const golden = fs.readFileSync(path.join(GOLDEN, example, rel), 'utf8');
    expect(rendered.get(rel)).toEqual(golden);
  });
});
