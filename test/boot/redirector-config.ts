import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { renderUserData } from '../../lib/host/user-data';
import { ProjectConfig, loadProjectFile } from '../../lib/project/project';
import { masterAcl, renderAclFile } from '../../lib/roles/master/acl';
import { redirectorHost } from '../../lib/roles/redirector/role';
import { preferredRoot } from './config';
import type { BootProject } from './master-config';
import { DATA_DEVICE } from './node';
import { World } from './world';
import { WorldLink } from './world-link';

/**
 * The example project's redirector pointed at the test world, through the normal loader: the
 * master's test copy of examples/project.yaml and mirrors.yaml (master-config.ts) where only the
 * redirector's artifact (the mirrorbits stand-in served by the world, pinned by its sha256) and
 * its ACME server and preferred chain change. Host name, GeoIP account, schedules, storage and
 * the mirror list stay the example's own.
 */

/** Where the world serves the stand-in: the example's artifact host, a path that says what it is. */
export const ARTIFACT_URL = 'https://artifacts.example.org/mirrorbits/mirrorbits-standin.tar.gz';

/** The licence key the operator places on the host (never in project.yaml or the user data). */
export const LICENCE_KEY = 'boot-test-licence-key-0123456789';

export function writeRedirectorProject(o: { dir: string; master: BootProject; world: World; sha256: string }): BootProject {
  fs.mkdirSync(o.dir, { recursive: true });
  const doc = parseDocument(fs.readFileSync(o.master.file, 'utf8'));
  doc.setIn(['redirector', 'mirrorbits', 'artifact', 'url'], ARTIFACT_URL);
  doc.setIn(['redirector', 'mirrorbits', 'artifact', 'sha256'], o.sha256);
  doc.setIn(['redirector', 'tls', 'acmeServer'], o.world.acmeDirectory);
  doc.setIn(['redirector', 'tls', 'preferredChain'], preferredRoot(o.world).cn);
  const file = path.join(o.dir, 'project.yaml');
  fs.writeFileSync(file, doc.toString());
  const mirrors = doc.get('mirrors') as string;
  fs.copyFileSync(path.join(path.dirname(o.master.file), mirrors), path.join(o.dir, mirrors));
  return { file, project: loadProjectFile(file) };
}

/** The redirector's generic user data (no cloud's bindings), the data disk at the nodes' device path. */
export function redirectorUserData(p: ProjectConfig): string {
  return renderUserData(redirectorHost(p), { dataDevice: DATA_DEVICE });
}

/**
 * The master's list with the redirector's addresses on the link admitted to the public module,
 * as both clouds' project stacks pass them (`extraRsyncSources`), for `mirrorfleet-acl apply`.
 */
export function aclWithRedirector(p: ProjectConfig, link: WorldLink): string {
  return renderAclFile(masterAcl(p, [`${link.aIp}/32`, `${link.aIp6}/128`]));
}

/** Host name and path of a mirror URL (`https://xcp.mirror.example.net/` -> that host, `/`). */
export function urlParts(url: string): { host: string; path: string } {
  const u = new URL(url);
  return { host: u.hostname, path: u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/` };
}
