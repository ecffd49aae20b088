import * as fs from 'node:fs';
import * as path from 'node:path';
import { HostFile } from '../../lib/host/files';
import { REPO } from './fixtures';

/*
 * Golden files: every rendered file of a host, as it gets it, under test/golden/<name>/<install
 * path>. A change to a renderer shows up as a readable diff. Regenerate deliberately with
 * UPDATE_GOLDEN=1 and review the diff; CI never writes them.
 */
export const GOLDEN = path.join(REPO, 'test', 'golden');
const update = process.env.UPDATE_GOLDEN === '1' && !process.env.CI;

/** The user data with the (binary) bundle replaced by a marker; its content is tested elsewhere. */
export function normalisedUserData(text: string): string {
  return text.replace(/(- path: \/var\/lib\/mirrorfleet\/node-files\.tar\.lzma\.b85\n(?:.*\n)*?\s+content: )\S+/, '$1<bundle of the files listed above>');
}

function goldenFilesOf(name: string): string[] {
  const root = path.join(GOLDEN, name);
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  return fs.existsSync(root) ? walk(root).map((f) => path.relative(root, f)).sort() : [];
}

/** The rendered (not verbatim) files, plus the user data, against test/golden/<name>/. */
export function describeGolden(name: string, files: readonly HostFile[], userData: string): void {
  const rendered = new Map<string, string>();
  for (const f of files) if (!f.asset) rendered.set(f.path.replace(/^\//, ''), f.content);
  rendered.set('user-data.yaml', normalisedUserData(userData));

  if (update) {
    fs.rmSync(path.join(GOLDEN, name), { recursive: true, force: true });
    for (const [rel, content] of rendered) {
      fs.mkdirSync(path.dirname(path.join(GOLDEN, name, rel)), { recursive: true });
      fs.writeFileSync(path.join(GOLDEN, name, rel), content);
    }
  }

  it('renders exactly the files that have golden copies', () => {
    expect([...rendered.keys()].sort()).toEqual(goldenFilesOf(name));
  });

  it.each([...rendered.keys()].sort())('%s matches its golden copy', (rel) => {
    const golden = fs.readFileSync(path.join(GOLDEN, name, rel), 'utf8');
    expect(rendered.get(rel)).toEqual(golden);
  });
}
