import { DEFAULTS } from '../../lib/config/defaults';
import { parseConfig } from '../../lib/config/load';
import { MirrorConfigError } from '../../lib/config/problems';
import { PRESETS } from '../../lib/presets';
import { SYNC_TIMEOUT_HOURS } from '../../lib/render/systemd';
import { exampleConfig, docSection } from '../support/fixtures';

/*
 * The sync engine's tree keys (docs/sync-engine.md): every bad value gets one positioned line
 * saying what is allowed, all at once; presets and DEFAULTS fill what a tree leaves out.
 */
const HEAD = `preset: custom
hostname: mirror.example.org
admin: { name: Ops, email: ops@example.org }
site: { city: Lyon, country: FR }
bandwidthMbps: 1000
trees:
`;
const problemsOf = (trees: string): string[] => {
  try {
    parseConfig(`${HEAD}${trees}storage: { sizeGiB: 500 }\n`, 'FILE');
  } catch (e) {
    if (e instanceof MirrorConfigError) return [...e.lines];
    throw e;
  }
  return [];
};

describe('sync engine keys: bad values', () => {
  it('reports every bad value with what is allowed', () => {
    expect(
      problemsOf(`  - name: alma
    upstream: rsync://rsync.example.org/alma/
    strategy: fileslist
    fileList: ../etc/passwd
    precheck: /timestamp
    preBitflip: "yes"
    metadataLast: [repodata/, "repo data/"]
    maxDeletePercent: 150
    minFreeMiB: -1
    retries: 50
    maxRuntimeMinutes: 720
    verifySchedule: daily
`),
    ).toEqual([
      'FILE:9:15 trees[0].strategy: "fileslist" — rsync, filelist (did you mean "filelist"?)',
      'FILE:10:15 trees[0].fileList: "../etc/passwd" — a path in the upstream tree (relative, no ".."), such as fullfiletimelist-fedora',
      'FILE:11:15 trees[0].precheck: "/timestamp" — a path in the upstream tree (relative, no ".."), such as distfiles/timestamp.mirmon',
      'FILE:12:17 trees[0].preBitflip: "yes" — true or false',
      'FILE:13:31 trees[0].metadataLast[1]: "repo data/" — an rsync pattern such as repodata/, *.xml or /dists/ (letters, digits, . _ - + / * ? [ ])',
      'FILE:14:23 trees[0].maxDeletePercent: 150 — a whole percentage from 0 to 100 of the tree a sync may delete',
      'FILE:15:17 trees[0].minFreeMiB: -1 — a whole number of MiB from 0 to 1048576 that must stay free after a sync',
      'FILE:16:14 trees[0].retries: 50 — a whole number of retries from 0 to 20',
      'FILE:17:24 trees[0].maxRuntimeMinutes: 720 — a whole number of minutes from 5 to 690 (the sync service is stopped at 12 h)',
      'FILE:18:21 trees[0].verifySchedule: "daily" — "off", or when to compare the whole tree with upstream: "every N minutes" with N dividing 60 (1-60), or "every N hours from HH:MM" with N dividing 24',
    ]);
  });

  it('reports keys that do not fit the strategy', () => {
    expect(
      problemsOf(`  - name: alma
    upstream: rsync://rsync.example.org/alma/
    strategy: filelist
  - name: rocky
    upstream: rsync://rsync.example.org/rocky/
    fileList: fullfiletimelist-rocky
`),
    ).toEqual([
      'FILE:7:5 trees[0].fileList: missing — required with strategy filelist: the file list the upstream publishes, such as fullfiletimelist-fedora',
      'FILE:12:15 trees[1].fileList: "fullfiletimelist-rocky" — only with strategy filelist (this tree syncs with rsync)',
    ]);
  });

  it('accepts the well-formed values', () => {
    expect(
      problemsOf(`  - name: alma
    upstream: rsync://rsync.example.org/alma/
    strategy: filelist
    fileList: sub/fullfiletimelist-alma
    precheck: TIME
    preBitflip: true
    metadataLast: [repodata/, "*.xml*", /dists/, "[A-Z]*SUMS"]
    maxDeletePercent: 0
    minFreeMiB: 0
    retries: 0
    maxRuntimeMinutes: 690
    verifySchedule: every 12 hours from 04:30
  - name: rocky
    upstream: rsync://rsync.example.org/rocky/
    verifySchedule: "off"
`),
    ).toEqual([]);
  });
});

describe('sync engine keys: presets and defaults', () => {
  it('Fedora syncs with its file list; XCP-ng with rsync; Gentoo with rsync behind its timestamp marker', () => {
    const fedora = exampleConfig('fedora').trees[0];
    expect(fedora).toMatchObject({ strategy: 'filelist', fileList: 'fullfiletimelist-fedora', precheck: undefined, metadataLast: PRESETS.fedora.metadataLast });
    expect(exampleConfig('xcp-ng').trees[0]).toMatchObject({ strategy: 'rsync', fileList: undefined, precheck: undefined });
    expect(exampleConfig('gentoo').trees[0]).toMatchObject({ strategy: 'rsync', precheck: 'distfiles/timestamp.mirmon', metadataLast: PRESETS.gentoo.metadataLast });
  });

  it('a tree on another upstream keeps the preset\'s list (it is part of the mirrored tree); strategy rsync drops it', () => {
    const fedora = (tree: string) =>
      parseConfig(`preset: fedora\nhostname: f.example.org\nadmin: { name: O, email: o@example.org }\nsite: { city: L, country: FR }\nbandwidthMbps: 1000\nreports: { reportMirror: { site: S } }\ntrees:\n${tree}`).trees[0];
    expect(fedora('  - name: fedora\n    upstream: rsync://tier1.example.org/fedora-enchilada0/\n    preBitflip: true\n')).toMatchObject({
      strategy: 'filelist',
      fileList: 'fullfiletimelist-fedora',
      preBitflip: true,
    });
    expect(fedora('  - name: fedora\n    strategy: rsync\n').fileList).toBeUndefined();
  });

  it('the engine stops itself before systemd would kill it (N13)', () => {
    expect(DEFAULTS.maxRuntimeMinutes).toBeLessThan(SYNC_TIMEOUT_HOURS * 60);
    expect(690).toBeLessThan(SYNC_TIMEOUT_HOURS * 60); // the schema's maximum
  });

  it('the README\'s sync engine section gives every default as DEFAULTS has it', () => {
    const doc = docSection('docs/sync-engine.md', 'The sync engine');
    const defaultOf = (key: string) => doc.split('\n').find((l) => l.startsWith(`| \`trees[].${key}\``))?.split('|')[2].trim();
    expect(defaultOf('strategy')).toBe(`the preset's, else \`${DEFAULTS.syncStrategy}\``);
    expect(defaultOf('maxDeletePercent')).toBe(`\`${DEFAULTS.maxDeletePercent}\``);
    expect(defaultOf('minFreeMiB')).toBe(`\`${DEFAULTS.minFreeMiB}\``);
    expect(defaultOf('retries')).toBe(`\`${DEFAULTS.syncRetries}\``);
    expect(defaultOf('maxRuntimeMinutes')).toBe(`\`${DEFAULTS.maxRuntimeMinutes}\``);
    expect(defaultOf('preBitflip')).toBe('`false`');
    expect(defaultOf('verifySchedule')).toBe(`\`${DEFAULTS.verifySchedule}\``);
  });
});
