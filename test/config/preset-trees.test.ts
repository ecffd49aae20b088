import { parseDocument } from 'yaml';
import { parseConfig } from '../../lib/config/load';
import { NodeConfig } from '../../lib/config/node-config';
import { upstreamModulePath } from '../../lib/config/preset-trees';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { mirrorNodeFiles } from '../../lib/roles/mirror-node/role';
import { EXAMPLES, Example, exampleConfig, exampleText } from '../support/fixtures';

/*
 * What a preset requires follows its tree, never the tree's name (lib/config/preset-trees.ts):
 * an example whose tree is renamed renders the same node but for the name.
 */

function renamed(example: Example, name: string, edit: (doc: ReturnType<typeof parseDocument>) => void = () => undefined): NodeConfig {
  const doc = parseDocument(exampleText(example));
  doc.setIn(['trees', 0, 'name'], name);
  doc.deleteIn(['bitflips']); // bitflip paths start with the tree's name
  edit(doc);
  return parseConfig(doc.toString(), `examples/${example}.yaml (renamed tree)`);
}

/** Every rendered file, path and content, with the tree's name put back. */
function rendered(c: NodeConfig, name: string, as: string): Record<string, string> {
  const back = (s: string) => s.split(name).join(as);
  return Object.fromEntries(mirrorNodeFiles(c, NODE_LAYOUT).map((f) => [back(f.path), back(f.content)]));
}

describe('a preset tree under another name', () => {
  it.each(EXAMPLES)('examples/%s.yaml with its tree renamed renders the same node but for the name', (example) => {
    const original = exampleConfig(example);
    const doc = parseDocument(exampleText(example));
    doc.deleteIn(['bitflips']);
    const same = parseConfig(doc.toString(), 'x.yaml');
    const other = renamed(example, `pub-${example}`);
    expect(other.trees[0].presetTree).toBe(example);
    expect(rendered(other, `pub-${example}`, example)).toEqual(rendered(same, example, example));
    expect(original.trees[0].presetTree).toBe(example);
  });

  it('Fedora under another name keeps report_mirror, its hook and the file list', () => {
    const c = renamed('fedora', 'pub-fedora');
    const paths = mirrorNodeFiles(c, NODE_LAYOUT).map((f) => f.path);
    expect(paths).toContain('/etc/mirrorfleet/report_mirror.conf');
    expect(c.trees[0]).toMatchObject({ strategy: 'filelist', fileList: 'fullfiletimelist-fedora', mirrorManagerCategories: { 'Fedora Linux': 'linux' } });
  });

  it('Gentoo under another name keeps its marker precheck and its required listings', () => {
    const c = renamed('gentoo', 'distfiles');
    expect(c.trees[0].precheck).toBe('distfiles/timestamp.mirmon');
    expect(() => renamed('gentoo', 'distfiles', (d) => d.setIn(['http', 'listings'], ['/distfiles/releases']))).toThrow(
      /http\.listings: \["\/distfiles\/releases"\] — "all" or a list that includes \/distfiles\/experimental, \/distfiles\/snapshots/,
    );
  });

  it('a tree on another module is the preset\'s when it says so (presetTree)', () => {
    const c = renamed('fedora', 'fedora', (d) => {
      d.setIn(['trees', 0, 'upstream'], 'rsync://tier1.example.net/pub-fedora/');
      d.setIn(['trees', 0, 'presetTree'], 'fedora');
    });
    expect(c.trees[0]).toMatchObject({ presetTree: 'fedora', strategy: 'filelist', upstream: 'rsync://tier1.example.net/pub-fedora/' });
  });

  it('a tree of the node\'s own next to the preset\'s gets none of its settings', () => {
    const c = renamed('fedora', 'fedora', (d) => {
      d.addIn(['trees'], { name: 'epel', upstream: 'rsync://dl.fedoraproject.org/fedora-epel/', sizeGiB: 300 });
    });
    expect(c.trees.map((t) => [t.name, t.presetTree, t.strategy, Object.keys(t.mirrorManagerCategories).length])).toEqual([
      ['fedora', 'fedora', 'filelist', 1],
      ['epel', undefined, 'rsync', 0],
    ]);
  });

  it.each([
    ['rsync://dl.fedoraproject.org/fedora-enchilada/', 'fedora-enchilada'],
    ['rsync://dl.fedoraproject.org/fedora-buffet0/fedora/', 'fedora-buffet0/fedora'],
    ['rsync://[2001:db8::1]:8873/repo', 'repo'],
    ['rsync://host/gentoo//', 'gentoo'],
  ])('the module path of %s is %s', (url, module) => expect(upstreamModulePath(url)).toBe(module));
});
