import * as fs from 'node:fs';
import * as path from 'node:path';
import { NODE_LAYOUT, SYNC_USER } from '../../lib/render/layout';
import { PUBLISH_MARKER, incomingPath, publishUnitName } from '../../lib/roles/master/files';
import { readNodeFile, unitJournal, unitProps } from './inspect';
import type { MasterCtx } from './master';
import { sshKey } from './master-config';
import { http } from './probe';
import { expect } from './results';
import { Ran, sh, sleep, tail } from './sh';
import { TREES, diffManifests, manifest, sha256, writeTree } from './trees';

/**
 * The project's build host, played by the host: it uploads the whole tree over SSH as the
 * content's owner with the key project.yaml lists (forced into rrsync below the incoming area),
 * then the `.publish` marker; the master's path unit publishes it (docs/master.md). Then the
 * same key, from outside, tries to get out of its area and to get a shell.
 */

const SPEC = TREES['xcp-ng'];
/** The build host's output directory (the tree as it must be published). */
export const buildOutput = (c: MasterCtx) => path.join(c.dir, 'build-output');

function sshCommand(c: MasterCtx, identity = c.buildKey.file): string {
  // accept-new into a file of the test's own: later connections must meet the same host key.
  return `ssh -i ${identity} -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=${path.join(c.dir, 'known_hosts')} -o BatchMode=yes -o ConnectTimeout=10 -o LogLevel=ERROR`;
}

const remote = (c: MasterCtx, p: string) => `${SYNC_USER}@${c.world.nodeIp}:${p}`;
const rsyncSsh = (c: MasterCtx, args: readonly string[], identity?: string): Ran => sh('rsync', ['-e', sshCommand(c, identity), ...args], { timeoutMs: 60_000 });
const ssh = (c: MasterCtx, args: readonly string[], identity?: string): Ran => sh('ssh', [...sshCommand(c, identity).split(' ').slice(1), ...args], { timeoutMs: 30_000 });

export async function uploadAndPublish(c: MasterCtx): Promise<boolean> {
  const { results, master, boot } = c;
  const p = boot.project;
  const tree = p.master.node.trees[0];
  const out = buildOutput(c);
  writeTree(SPEC, out);
  const t0 = Date.now();
  const up = rsyncSsh(c, ['-rlpt', '--delete', `${out}/`, remote(c, `${tree.name}/`)]);
  const tUpload = (Date.now() - t0) / 1000;
  if (!results.check('the build host uploads the tree: rsync -rlpt --delete over SSH as mirror', up.status === 0, `${up.cmd}\nexit ${up.status}\n${up.stderr}`, `${tUpload.toFixed(1)} s`)) return false;
  const unit = `${publishUnitName(tree)}.service`;
  const before = unitProps(master, unit, ['ExecMainExitTimestampMonotonic']).ExecMainExitTimestampMonotonic;
  const markerDir = path.join(c.dir, 'marker');
  fs.mkdirSync(markerDir, { recursive: true });
  fs.writeFileSync(path.join(markerDir, PUBLISH_MARKER), '');
  const t1 = Date.now();
  const mark = rsyncSsh(c, [path.join(markerDir, PUBLISH_MARKER), remote(c, `${tree.name}/`)]);
  if (!results.check('then the .publish marker', mark.status === 0, `${mark.cmd}\n${mark.stderr}`)) return false;
  // The path unit starts the publish; done when the service has run once more and is inactive.
  let s = unitProps(master, unit, ['ActiveState', 'Result', 'ExecMainExitTimestampMonotonic', 'ExecMainStartTimestampMonotonic']);
  while (Date.now() - t1 < 60_000 && (s.ExecMainExitTimestampMonotonic === before || s.ActiveState === 'activating')) {
    await sleep(200);
    s = unitProps(master, unit, ['ActiveState', 'Result', 'ExecMainExitTimestampMonotonic', 'ExecMainStartTimestampMonotonic']);
  }
  const tPublish = (Date.now() - t1) / 1000;
  const ran = (Number(s.ExecMainExitTimestampMonotonic) - Number(s.ExecMainStartTimestampMonotonic)) / 1e6;
  const journal = unitJournal(master, unit, 20);
  const ok = results.check(
    `the marker started ${unit} and it succeeded`,
    s.Result === 'success' && s.ExecMainExitTimestampMonotonic !== before && /published \d+ files/.test(journal),
    `${JSON.stringify(s)}\n${journal}`,
    `${tPublish.toFixed(1)} s from the marker, the service ran ${ran.toFixed(1)} s: ${/published .*/.exec(journal)?.[0] ?? ''}`,
  );
  c.figures.push(`build host upload: ${tUpload.toFixed(1)} s (${Object.keys(SPEC.files).length} files, rsync over SSH); publish: ${tPublish.toFixed(1)} s from the marker to the tree published (the service ran ${ran.toFixed(1)} s)`);
  if (!ok) return false;
  await publishedChecks(c);
  return true;
}

async function publishedChecks(c: MasterCtx): Promise<void> {
  const { results, master, world, boot } = c;
  const p = boot.project;
  const tree = p.master.node.trees[0];
  const list = `fullfiletimelist-${tree.name}`;
  const trace = `project/trace/${p.master.node.hostname}`;
  const own = (rel: string) => rel === 'project' || rel.startsWith('project/') || rel === list;
  await results.run('the tree on the master is the upload (content, sizes, modes), new files hard-linked from the incoming area', () => {
    const diff = diffManifests(manifest(buildOutput(c)), manifest(master.path(tree.path)), own);
    expect(diff.length === 0, diff.join('\n'));
    const iso = SPEC.octetStream[0];
    const links = fs.statSync(master.path(`${tree.path}/${iso}`)).nlink;
    expect(links === 2, `${iso} has ${links} link(s) (2: the tree and the incoming area)`);
    const marker = fs.existsSync(master.path(`${incomingPath(p.master.node, tree.name)}/${PUBLISH_MARKER}`));
    expect(!marker, 'the .publish marker is still in the incoming area');
    return `${iso}: ${links} links; marker consumed`;
  });
  await results.run('publish metrics say success (M2)', () => {
    const prom = readNodeFile(master, `${NODE_LAYOUT.metricsDir}/mirrorfleet_publish_${tree.name}.prom`);
    expect(new RegExp(`mirrorfleet_publish_success\\{tree="${tree.name}"\\} 1`).test(prom), prom || 'no metrics file');
  });
  const url = (rel: string) => `http://${world.nodeIp}${tree.urlPath}${rel}`;
  await results.run('HTTP serves the published tree byte-exact; the staged 0750 release and the incoming area are refused', () => {
    for (const rel of [SPEC.metadata, ...SPEC.octetStream]) {
      const r = http(url(rel), c.dir);
      expect(r.status === 200 && sha256(r.body) === sha256(fs.readFileSync(path.join(buildOutput(c), rel))), `${rel}: ${r.status} ${r.error}`);
    }
    const staged = http(url(SPEC.staged), c.dir).status;
    expect(staged === 403 || staged === 404, `${SPEC.staged}: ${staged}`);
    const incoming = http(`http://${world.nodeIp}/.incoming/${tree.name}/${SPEC.metadata}`, c.dir).status;
    expect(incoming === 403 || incoming === 404, `/.incoming/: ${incoming}`);
    return `staged ${staged}, /.incoming/ ${incoming}`;
  });
  await results.run(`the file list ${list} and the trace published and served (M2)`, () => {
    const l = http(url(list), c.dir);
    const text = l.body.toString();
    expect(l.status === 200 && text.startsWith('[Version]\n3\n') && text.trimEnd().endsWith('[End]'), `${list}: ${l.status}\n${tail(text, 5)}`);
    const missing = Object.keys(SPEC.files).filter((f) => !f.startsWith(`${Object.keys(SPEC.dirModes)[0]}/`) && !text.includes(`\t${f}\n`));
    expect(missing.length === 0, `not in ${list}: ${missing.join(', ')}`);
    const t = http(url(trace), c.dir);
    expect(t.status === 200 && t.body.length > 0, `${trace}: ${t.status}`);
    return `${text.split('\n').filter((x) => /^\d+\t/.test(x)).length} entries; ${trace}: ${t.body.toString().split('\n')[0]}`;
  });
}

/** From outside, with the build host's key: no way out of the incoming area, no shell, no reading. */
export async function restrictedKeyChecks(c: MasterCtx): Promise<void> {
  const { results, master, boot } = c;
  const incoming = path.dirname(incomingPath(boot.project.master.node, boot.project.master.node.trees[0].name));
  const probe = path.join(c.dir, 'probe-upload');
  fs.mkdirSync(probe, { recursive: true });
  fs.writeFileSync(path.join(probe, 'escape.txt'), 'from the build host\n');
  await results.run('"../" out of the incoming area is refused by rrsync', () => {
    const r = rsyncSsh(c, ['-rlpt', `${probe}/`, remote(c, '../../../etc/')]);
    expect(r.status !== 0 && /rrsync/.test(r.stderr), `exit ${r.status}\n${r.stderr}`);
    expect(!fs.existsSync(master.path('/etc/escape.txt')), '/etc/escape.txt exists on the master');
    return r.stderr.split('\n').find((l) => /rrsync/.test(l))?.slice(0, 120);
  });
  await results.run('an absolute path lands below the incoming area, not at that path', () => {
    const r = rsyncSsh(c, ['-rlpt', '--mkpath', `${probe}/`, remote(c, '/etc/mirrorfleet-escape/')]);
    const inside = master.path(`${incoming}/etc/mirrorfleet-escape/escape.txt`);
    const landed = fs.existsSync(inside);
    master.exec(['rm', '-rf', `${incoming}/etc`]);
    expect(!fs.existsSync(master.path('/etc/mirrorfleet-escape')), '/etc/mirrorfleet-escape exists on the master');
    expect(r.status !== 0 || landed, `exit ${r.status}: ${r.stderr}`);
    return r.status === 0 ? `written to ${incoming}/etc/mirrorfleet-escape/` : `refused: ${r.stderr.trim().split('\n')[0]}`;
  });
  await results.run('a command gets no shell: rrsync refuses it', () => {
    const r = ssh(c, [`${SYNC_USER}@${c.world.nodeIp}`, 'id; touch /tmp/mirrorfleet-shell']);
    expect(r.status !== 0 && /rrsync/.test(r.stderr) && !r.stdout.includes('uid='), `exit ${r.status}\n${r.stdout}${r.stderr}`);
    expect(!fs.existsSync(master.path('/tmp/mirrorfleet-shell')), 'the command ran: /tmp/mirrorfleet-shell exists');
    return r.stderr.trim().split('\n')[0];
  });
  await results.run('an interactive login gets no shell and no terminal', () => {
    const r = sh('ssh', [...sshCommand(c).split(' ').slice(1), '-tt', `${SYNC_USER}@${c.world.nodeIp}`], { input: 'id\nexit\n', timeoutMs: 30_000 });
    expect(r.status !== 0 && !r.stdout.includes('uid='), `exit ${r.status}\n${r.stdout}${r.stderr}`);
    return (r.stderr + r.stdout).trim().split('\n').filter(Boolean).slice(0, 2).join(' / ');
  });
  await results.run('the upload area is write-only: reading back is refused', () => {
    const dst = path.join(c.dir, 'read-back');
    fs.mkdirSync(dst, { recursive: true });
    const r = rsyncSsh(c, ['-rlpt', remote(c, 'xcp-ng/'), `${dst}/`]);
    expect(r.status !== 0 && fs.readdirSync(dst).length === 0, `exit ${r.status}\n${r.stderr}`);
    return r.stderr.trim().split('\n')[0];
  });
  await results.run('a key the project does not list is refused', () => {
    const other = sshKey(path.join(c.dir, 'keys'), 'other');
    const r = rsyncSsh(c, ['-rlpt', `${probe}/`, remote(c, 'xcp-ng/other/')], other.file);
    expect(r.status !== 0 && /Permission denied/.test(r.stderr), `exit ${r.status}\n${r.stderr}`);
    return r.stderr.trim().split('\n')[0];
  });
}
