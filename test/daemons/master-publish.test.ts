import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadProjectFile } from '../../lib/project/project';
import { PUBLISH_MARKER, incomingPath, renderPublishConf } from '../../lib/roles/master/files';
import { REPO, testLayout, tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';

/*
 * M2 with the real rsync: a build host's upload (the whole tree, the marker last) published by
 * mirrorfleet-publish into the tree as hard links, in order (files, metadata, deletions), then the
 * file list and the trace by mirror-publish; and what it refuses.
 */
describeWith(['rsync', 'find', 'awk'], 'publishing an upload on the master (M2)', () => {
  let root: string;
  let conf: string;
  let incoming: string;
  let tree: string;
  const env = { ...process.env, PATH: `${path.join(REPO, 'assets')}:${process.env.PATH}` };
  const publish = () => run('bash', [path.join(REPO, 'assets', 'mirrorfleet-publish'), conf], { env });
  const write = (dir: string, files: Record<string, string>) => {
    for (const [rel, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), text);
    }
  };
  /** What a build host does: its output into the incoming area (rsync --delete), then the marker. */
  const upload = (files: Record<string, string>) => {
    const out = fs.mkdtempSync(path.join(root, 'build-'));
    write(out, files);
    const r = run('rsync', ['-rlpt', '--delete', `${out}/`, `${incoming}/`]);
    if (r.status !== 0) throw new Error(r.stderr);
    fs.writeFileSync(path.join(incoming, PUBLISH_MARKER), '');
  };
  const ino = (p: string) => fs.statSync(p).ino;

  beforeAll(() => {
    root = tmpDir('publish');
    const file = path.join(root, 'project.yaml');
    fs.writeFileSync(file, fs.readFileSync(path.join(REPO, 'examples', 'project.yaml'), 'utf8').replace('    mountPoint: /srv/mirror', `    mountPoint: ${root}/srv/mirror`));
    fs.copyFileSync(path.join(REPO, 'examples', 'mirrors.yaml'), path.join(root, 'mirrors.yaml'));
    const p = loadProjectFile(file);
    const t = p.master.node.trees[0];
    const layout = testLayout(root);
    conf = path.join(root, 'publish.conf');
    fs.writeFileSync(conf, renderPublishConf(p, layout, t));
    incoming = incomingPath(p.master.node, t.name);
    tree = t.path;
    fs.mkdirSync(incoming, { recursive: true });
    fs.mkdirSync(tree, { recursive: true });
  });

  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('without a finished upload (no marker) it does nothing', () => {
    const r = publish();
    expect(r.stdout).toContain('no finished upload');
    expect(r.status).toBe(0);
    expect(fs.readdirSync(tree)).toEqual([]);
  });

  it('publishes an upload as hard links (nothing copied), then the file list and the trace, and consumes the marker', () => {
    upload({ '8.3/x86_64/Packages/a.rpm': 'a1', '8.3/x86_64/Packages/b.rpm': 'b1', '8.3/x86_64/repodata/repomd.xml': '<repomd>1</repomd>\n' });
    const r = publish();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(fs.readFileSync(`${tree}/8.3/x86_64/Packages/a.rpm`, 'utf8')).toBe('a1');
    expect(ino(`${tree}/8.3/x86_64/Packages/a.rpm`)).toBe(ino(`${incoming}/8.3/x86_64/Packages/a.rpm`));
    expect(ino(`${tree}/8.3/x86_64/repodata/repomd.xml`)).toBe(ino(`${incoming}/8.3/x86_64/repodata/repomd.xml`));
    const list = fs.readFileSync(`${tree}/fullfiletimelist-xcp-ng`, 'utf8');
    expect(list).toMatch(/\tf\t2\t8\.3\/x86_64\/Packages\/a\.rpm\n/);
    expect(fs.readFileSync(`${tree}/project/trace/master.example.org`, 'utf8')).toContain('fullfiletimelist-xcp-ng');
    expect(fs.existsSync(path.join(incoming, PUBLISH_MARKER))).toBe(false);
    expect(fs.readFileSync(`${root}/var/lib/mirrorfleet/metrics/mirrorfleet_publish_xcp-ng.prom`, 'utf8')).toContain('mirrorfleet_publish_success{tree="xcp-ng"} 1\n');
  });

  it('a later upload adds, changes and deletes, keeping the master\'s own list and trace', () => {
    upload({ '8.3/x86_64/Packages/a.rpm': 'a1', '8.3/x86_64/Packages/c.rpm': 'c1', '8.3/x86_64/repodata/repomd.xml': '<repomd>two</repomd>\n' });
    const r = publish();
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain('cannot delete');
    expect(r.status).toBe(0);
    expect(fs.readdirSync(`${tree}/8.3/x86_64/Packages`).sort()).toEqual(['a.rpm', 'c.rpm']);
    expect(fs.readFileSync(`${tree}/8.3/x86_64/repodata/repomd.xml`, 'utf8')).toBe('<repomd>two</repomd>\n');
    expect(fs.existsSync(`${tree}/fullfiletimelist-xcp-ng`)).toBe(true);
    expect(fs.existsSync(`${tree}/project/trace/master.example.org`)).toBe(true);
  });

  it('metadata goes after the files it names: when the metadata step fails, the new packages are in and the old metadata stays', () => {
    upload({ '8.3/x86_64/Packages/a.rpm': 'a1', '8.3/x86_64/Packages/c.rpm': 'c1', '8.3/x86_64/Packages/d.rpm': 'd1', '8.3/x86_64/repodata/repomd.xml': '<repomd>three!</repomd>\n' });
    const asUser = run('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'true']);
    try {
      if (asUser.status !== 0) throw new Error('setpriv is needed to drop root for this test');
      // Root ignores directory modes: publish as the tree's owner would, with the tree handed to nobody.
      run('chown', ['-R', 'nobody:nogroup', root]);
      // The metadata directory cannot take the new file (another owner): stage 2 fails, as a full disk would.
      run('chown', ['root:root', `${tree}/8.3/x86_64/repodata`]);
      const r = run('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'bash', path.join(REPO, 'assets', 'mirrorfleet-publish'), conf], { env });
      expect(r.stdout + r.stderr).toContain('FAILED (metadata)');
      expect(r.status).toBe(1);
      expect(fs.readFileSync(`${tree}/8.3/x86_64/Packages/d.rpm`, 'utf8')).toBe('d1');
      expect(fs.readFileSync(`${tree}/8.3/x86_64/repodata/repomd.xml`, 'utf8')).toBe('<repomd>two</repomd>\n');
      expect(fs.readFileSync(`${root}/var/lib/mirrorfleet/metrics/mirrorfleet_publish_xcp-ng.prom`, 'utf8')).toContain('mirrorfleet_publish_success{tree="xcp-ng"} 0\n');
    } finally {
      run('chown', ['-R', 'root:root', root]);
    }
  });

  it('refuses an empty upload and leaves the tree as it was', () => {
    const before = fs.readdirSync(`${tree}/8.3/x86_64/Packages`).sort();
    fs.rmSync(incoming, { recursive: true, force: true });
    fs.mkdirSync(incoming);
    fs.writeFileSync(path.join(incoming, PUBLISH_MARKER), '');
    const r = publish();
    expect(r.stderr).toContain('FAILED (empty upload)');
    expect(r.status).toBe(1);
    expect(fs.readdirSync(`${tree}/8.3/x86_64/Packages`).sort()).toEqual(before);
  });
});
