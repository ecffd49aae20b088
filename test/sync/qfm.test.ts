import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';
import { Engine, engine, writeFiles } from './harness';

/*
 * Strategy quick-fedora-mirror (docs/adr/0021). The real script needs Fedora's masters, so what
 * is proven here is the part mirrorfleet owns: the tree file is a valid zsh config giving the
 * script the settings intended, and mirror-sync's wrapper maps its runs to outcomes (lock,
 * metrics, hooks). A stand-in on PATH plays the script's three endings.
 */
describeWith(['zsh', 'flock', 'sed'], 'strategy quick-fedora-mirror: the rendered config and the wrapper', () => {
  let root: string;
  let e: Engine;
  let env: NodeJS.ProcessEnv;
  const mount = () => path.join(root, 'srv', 'mirror');

  beforeAll(() => {
    root = tmpDir('sync-qfm');
    e = engine(
      root,
      'rsync://tier1.example.org/fedora-enchilada0/',
      { strategy: 'quick-fedora-mirror', path: `${path.join(root, 'srv', 'mirror')}/fedora`, excludes: ['/linux/development/rawhide/*/debug', '/linux/releases/*/Everything/source'], bandwidthLimitMbps: 100 },
      { example: 'fedora' },
    );
    // The stand-in reads its config as the real one does (zsh, `source`), then ends as $QFM_MODE says.
    writeFiles(root, {
      'bin/quick-fedora-mirror': `#!/bin/zsh
[[ $1 == -c ]] && source $2 || exit 9
echo "config: $DESTD $MASTERMODULE $MODULES $PREBITFLIP" >> ${root}/qfm-calls
case $QFM_MODE in
  nochange) echo "No changed files." ;;
  sync) echo "Transferring 3 files." ;;
  fail) echo "rsync finished with nonzero exit status." >&2; echo "Could not retrieve file lists." >&2 ;;
esac
exit 0
`,
    });
    fs.chmodSync(path.join(root, 'bin', 'quick-fedora-mirror'), 0o755);
    env = { PATH: `${path.join(root, 'bin')}:/usr/sbin:/usr/bin:/sbin:/bin` };
  });

  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('the tree file is valid zsh, and gives quick-fedora-mirror its settings (tier 1: fedora-buffet0, PREBITFLIP)', () => {
    expect(run('zsh', ['-n', e.conf])).toMatchObject({ status: 0, stderr: '' });
    const r = run('zsh', ['-c', 'source $1; print -r -- "$DESTD|$TIMEFILE|$REMOTE|$MASTERMODULE|${MODULES[*]}|$PREBITFLIP|$VERBOSE|${RSYNCOPTS[-1]}"', 'zsh', e.conf]);
    expect(r.stdout).toBe(`${mount()}|${e.state}/qfm-timefile|rsync://tier1.example.org|fedora-buffet0|fedora-enchilada|1|2|--bwlimit=12207\n`);
    // bash reads the same file for mirror-sync.
    expect(run('bash', ['-c', 'source "$1"; echo "$STRATEGY $TREE_PATH"', 'bash', e.conf]).stdout).toBe(`quick-fedora-mirror ${mount()}/fedora\n`);
  });

  it('FILTEREXP drops exactly the excluded paths when quick-fedora-mirror applies it (sed -r "\\,EXP,d")', () => {
    const exp = run('zsh', ['-c', 'source $1; print -r -- $FILTEREXP', 'zsh', e.conf]).stdout.trim();
    const paths = [
      'fedora/linux/development/rawhide/x86_64/debug/tree/a.rpm',
      'fedora/linux/development/rawhide/x86_64/os/a.rpm',
      'fedora/linux/releases/45/Everything/source/tree/a.src.rpm',
      'fedora/linux/releases/45/Everything/sources.txt',
    ];
    const r = run('sed', ['-r', '-e', `\\,${exp},d`], { input: `${paths.join('\n')}\n` });
    expect(r.stdout).toBe(`${paths[1]}\n${paths[3]}\n`);
  });

  it('"No changed files." is an unchanged run: no hook', async () => {
    const r = await e.run([], { env: { ...env, QFM_MODE: 'nochange' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('No changed files.\nmirror-sync[repo]: unchanged: quick-fedora-mirror found no changed files\n');
    expect(e.hookCalls()).toEqual([]);
    expect(fs.readFileSync(path.join(root, 'qfm-calls'), 'utf8')).toBe(`config: ${mount()} fedora-buffet0 fedora-enchilada 1\n`);
  });

  it('a run that transferred is a success: metrics, then the hooks', async () => {
    const r = await e.run([], { env: { ...env, QFM_MODE: 'sync' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Transferring 3 files\.\nmirror-sync\[repo\]: done in \d+ s: 0 files, 0 bytes received\n$/);
    expect(e.hookCalls()).toHaveLength(1);
    expect(e.metrics()).toContain('mirrorfleet_sync_outcome{tree="repo",outcome="success"} 1\n');
  });

  it('it exits 0 even when rsync failed: its stderr makes the run fail, without hooks', async () => {
    const r = await e.run([], { env: { ...env, QFM_MODE: 'fail' } });
    expect(r.status).toBe(1);
    expect(r.stderr.split('\n').filter((l) => l.includes('FAILED'))).toEqual(['mirror-sync[repo]: FAILED (quick-fedora-mirror exit 0): Could not retrieve file lists.']);
    expect(e.hookCalls()).toHaveLength(1);
    expect(e.metrics()).toContain('mirrorfleet_sync_success{tree="repo"} 0\n');
  });

  it('not installed: a clear failure', async () => {
    const r = await e.run([], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    expect(r.stderr).toBe('mirror-sync[repo]: FAILED (quick-fedora-mirror): not installed (README: The sync engine)\n');
  });
});
