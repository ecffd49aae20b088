import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { parseConfig } from '../../lib/config/load';
import { NodeConfig } from '../../lib/config/node-config';
import { renderUserData } from '../../lib/host/user-data';
import { ProjectConfig, loadProjectFile } from '../../lib/project/project';
import { masterAcl, renderAclFile } from '../../lib/roles/master/acl';
import { masterHost } from '../../lib/roles/master/role';
import { REPO, exampleText } from '../support/fixtures';
import { preferredRoot } from './config';
import { DATA_DEVICE } from './node';
import { must } from './sh';
import { World } from './world';

/**
 * The example project pointed at the test world, through the normal loader: test copies of
 * examples/project.yaml and mirrors.yaml where only keys and addresses change (the build host's
 * key and address, pebble as the ACME server and one of its alternate roots as the preferred
 * chain, the example node's syncFrom). Everything else is the example's own.
 */
export interface BootProject {
  readonly file: string;
  readonly project: ProjectConfig;
}

/** The example mirror the booted xcp-ng node plays (examples/xcp-ng.yaml's host name). */
export const NODE_MIRROR = 'mirror.example.org';

export interface BootProjectOptions {
  readonly dir: string;
  readonly world: World;
  /** The build host's public key line (master.incoming.keys). */
  readonly buildKey: string;
  /** syncFrom per mirror name, replacing the example's addresses. */
  readonly syncFrom: Readonly<Record<string, readonly string[]>>;
  /** Mirrors appended to the example's list (a list change: a new mirror joins). */
  readonly newMirrors?: readonly { name: string; syncFrom: readonly string[]; enabled?: boolean }[];
}

export function writeBootProject(o: BootProjectOptions): BootProject {
  fs.mkdirSync(o.dir, { recursive: true });
  const project = parseDocument(fs.readFileSync(path.join(REPO, 'examples', 'project.yaml'), 'utf8'));
  project.setIn(['master', 'incoming', 'keys'], [o.buildKey]);
  project.setIn(['master', 'incoming', 'from'], [o.world.hostIp, o.world.hostIp6]);
  project.setIn(['master', 'tls', 'acmeServer'], o.world.acmeDirectory);
  project.setIn(['master', 'tls', 'preferredChain'], preferredRoot(o.world).cn);
  const mirrors = parseDocument(fs.readFileSync(path.join(REPO, 'examples', 'mirrors.yaml'), 'utf8'));
  const items = (mirrors.get('mirrors') as { items: unknown[] }).items;
  items.forEach((_, i) => {
    const name = mirrors.getIn(['mirrors', i, 'name']) as string;
    if (o.syncFrom[name]) mirrors.setIn(['mirrors', i, 'syncFrom'], [...o.syncFrom[name]]);
  });
  for (const m of o.newMirrors ?? []) {
    items.push(mirrors.createNode({ name: m.name, admin: { name: 'Boot Test', email: 'boot-test@example.net' }, https: `https://${m.name}/xcp-ng/`, countries: ['FR'], continent: 'EU', syncFrom: [...m.syncFrom], ...(m.enabled === false ? { enabled: false } : {}) }));
  }
  const file = path.join(o.dir, 'project.yaml');
  fs.writeFileSync(file, project.toString());
  fs.writeFileSync(path.join(o.dir, project.get('mirrors') as string), mirrors.toString());
  return { file, project: loadProjectFile(file) };
}

/** The master's generic user data (no cloud's bindings), the data disk at the nodes' device path. */
export function masterUserData(p: ProjectConfig): string {
  return renderUserData(masterHost(p), { dataDevice: DATA_DEVICE });
}

/** The list mirrorfleet-acl reads, as the product renders it from a project's mirrors.yaml. */
export const aclText = (p: ProjectConfig) => renderAclFile(masterAcl(p));

/**
 * examples/xcp-ng.yaml pointed at the booted master: its tree syncs from the master's module by
 * the master's host name (answered by the node's world DNS) with the file list strategy on the
 * list the master publishes (M2), pebble as ACME server. The rest is the example's own.
 */
export function nodeFromMasterConfig(world: World, p: ProjectConfig): NodeConfig {
  const doc = parseDocument(exampleText('xcp-ng'));
  const tree = p.master.node.trees[0];
  doc.setIn(['trees', 0, 'upstream'], `rsync://${p.master.node.hostname}/${tree.name}/`);
  doc.setIn(['trees', 0, 'strategy'], 'filelist');
  doc.setIn(['trees', 0, 'fileList'], `fullfiletimelist-${tree.name}`);
  doc.setIn(['tls', 'acmeServer'], world.acmeDirectory);
  doc.setIn(['tls', 'preferredChain'], preferredRoot(world).cn);
  return parseConfig(doc.toString(), 'examples/xcp-ng.yaml (boot-test copy, syncing from the booted master)');
}

/** A fresh ed25519 key pair in `dir` (the build host's, or one the master does not know). */
export function sshKey(dir: string, name: string): { file: string; pub: string } {
  const file = path.join(dir, name);
  must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@boot-test`, '-f', file]);
  return { file, pub: fs.readFileSync(`${file}.pub`, 'utf8').trim() };
}
