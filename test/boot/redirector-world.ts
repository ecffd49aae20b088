import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { ProjectConfig } from '../../lib/project/project';
import { REPO } from '../support/fixtures';
import { cleanup } from './cleanup';
import { ARTIFACT_URL, LICENCE_KEY, urlParts } from './redirector-config';
import { startDaemon } from './daemon';
import { must } from './sh';
import { StandInHandler, StandInRequest, World } from './world';

/**
 * What the redirector reaches in the world, played by the host:
 * - the infra team's artifact server (the example's `artifacts.example.org`) with the mirrorbits
 *   stand-in packed as a release tarball;
 * - MaxMind's download API (`download.maxmind.com`): basic auth with the account ID and licence
 *   key, a redirect to the storage host as MaxMind answers, the archives with their `.sha256`
 *   built from the GeoIP test databases (test/redirector/geoip/, MaxMind's own test files);
 * - the mirrors of examples/mirrors.yaml, by their host names: one rsync daemon on :873 (the
 *   module their rsync URLs name) and HTTP on :80 and HTTPS on :443 serving the tree under each
 *   URL's path, a copy of the master's public tree with its sizes and mtimes (what mirrorbits
 *   compares with its own copy before it sends anyone there).
 */

const GEOIP_SOURCE = path.join(REPO, 'test', 'redirector', 'geoip');
export const GEOIP_EDITIONS = ['GeoLite2-City', 'GeoLite2-ASN'] as const;
/** Where MaxMind's API redirects a download to (its storage), another name of the world. */
export const GEOIP_STORAGE_HOST = 'mm-prod-geoip-databases.r2.cloudflarestorage.com';
const GEOIP_DATE = '20260101';

export interface GeoipArchive {
  readonly edition: string;
  readonly name: string;
  readonly tarball: Buffer;
  readonly sha256: string;
  /** The database inside, as the redirector must end up holding it. */
  readonly mmdb: Buffer;
}

/** MaxMind's archive layout: `<edition>_<date>/<edition>.mmdb` with its licence files. */
export function geoipArchives(dir: string): GeoipArchive[] {
  return GEOIP_EDITIONS.map((edition) => {
    const name = `${edition}_${GEOIP_DATE}`;
    const src = path.join(dir, 'geoip-src', name);
    fs.mkdirSync(src, { recursive: true });
    fs.copyFileSync(path.join(GEOIP_SOURCE, `${edition}.mmdb`), path.join(src, `${edition}.mmdb`));
    fs.copyFileSync(path.join(GEOIP_SOURCE, 'LICENSE-MIT'), path.join(src, 'LICENSE.txt'));
    const out = path.join(dir, `${name}.tar.gz`);
    must('tar', ['-czf', out, '-C', path.dirname(src), name]);
    const tarball = fs.readFileSync(out);
    return { edition, name, tarball, sha256: createHash('sha256').update(tarball).digest('hex'), mmdb: fs.readFileSync(path.join(src, `${edition}.mmdb`)) };
  });
}

export const basicAuth = (accountId: number, key: string) => `Basic ${Buffer.from(`${accountId}:${key}`).toString('base64')}`;

/** The HTTPS side of the world: the artifact, MaxMind's API and storage, each mirror's HTTPS URL. */
export function redirectorStandIns(o: { artifact: Buffer; archives: readonly GeoipArchive[]; accountId: number; mirrors: MirrorSite[] }): Record<string, StandInHandler> {
  const artifact = new URL(ARTIFACT_URL);
  const api = /^\/geoip\/databases\/(GeoLite2-City|GeoLite2-ASN)\/download\?suffix=tar\.gz(\.sha256)?$/;
  const handlers: Record<string, StandInHandler> = {
    [artifact.hostname]: (req) => (req.method === 'GET' && req.path === artifact.pathname ? { status: 200, type: 'application/gzip', body: o.artifact } : notFound()),
    'download.maxmind.com': (req) => {
      const m = api.exec(req.path);
      if (!m) return notFound();
      if (req.authorization !== basicAuth(o.accountId, LICENCE_KEY)) return { status: 401, body: 'Invalid account ID or license key\n' };
      const a = o.archives.find((x) => x.edition === m[1])!;
      if (m[2]) return { status: 200, body: `${a.sha256}  ${a.name}.tar.gz\n` };
      return { status: 302, headers: { location: `https://${GEOIP_STORAGE_HOST}/${a.name}.tar.gz?X-Amz-Signature=boot-test` }, body: '' };
    },
    [GEOIP_STORAGE_HOST]: (req) => {
      const a = o.archives.find((x) => req.path.startsWith(`/${x.name}.tar.gz?`));
      return a ? { status: 200, type: 'application/gzip', body: a.tarball } : notFound();
    },
  };
  for (const site of o.mirrors) {
    handlers[site.host] ??= (req) => serveSite(o.mirrors, site.host, 'https', req);
  }
  return handlers;
}

const notFound = () => ({ status: 404, body: 'not found\n' });

/** One host name of a mirror: which tree each of its URLs serves, under which path. */
export interface MirrorSite {
  readonly host: string;
  readonly scheme: 'http' | 'https';
  readonly path: string;
  readonly tree: string;
}

/** Every HTTP and HTTPS URL of examples/mirrors.yaml, each serving `tree` at its path. */
export function mirrorSites(p: ProjectConfig, tree: string): MirrorSite[] {
  return p.mirrorList.mirrors.flatMap((m) =>
    (['http', 'https'] as const).flatMap((scheme) => (m[scheme] ? [{ ...urlParts(m[scheme]!), scheme, tree }] : [])),
  );
}

/** Every host name the mirrors use (HTTP, HTTPS, rsync): mirrorbits' `add` resolves each. */
export function mirrorHosts(p: ProjectConfig): string[] {
  return [...new Set(p.mirrorList.mirrors.flatMap((m) => [m.http, m.https, m.rsync].filter((u): u is string => !!u).map((u) => new URL(u).hostname)))];
}

function serveSite(sites: readonly MirrorSite[], host: string, scheme: 'http' | 'https', req: Pick<StandInRequest, 'method' | 'path'>): { status: number; body: Buffer | string } {
  const rel = decodeURIComponent(req.path.split('?')[0]);
  const site = sites.find((s) => s.host === host && s.scheme === scheme && rel.startsWith(s.path));
  if (!site || (req.method !== 'GET' && req.method !== 'HEAD')) return notFound();
  const file = path.join(site.tree, rel.slice(site.path.length));
  if (!file.startsWith(`${site.tree}/`) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return notFound();
  return { status: 200, body: fs.readFileSync(file) };
}

/**
 * The mirrors' rsync daemon (the modules their rsync URLs name, read-only, on :873 as the URLs
 * have no port) and their plain HTTP server on :80, both on the host's address in the world.
 */
export async function startMirrors(world: World, p: ProjectConfig, tree: string, dir: string): Promise<void> {
  const modules = [...new Set(p.mirrorList.mirrors.filter((m) => m.rsync).map((m) => new URL(m.rsync!).pathname.split('/')[1]))];
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'rsyncd.conf');
  fs.writeFileSync(conf, `pid file = ${dir}/rsyncd.pid\nlog file = ${dir}/rsyncd.log\nuse chroot = no\nuid = root\ngid = root\nread only = yes\n${modules.map((m) => `[${m}]\n    path = ${tree}\n`).join('')}`);
  const rsyncd = startDaemon('mirrors\' rsyncd', 'rsync', ['--daemon', '--no-detach', `--config=${conf}`, `--address=${world.hostIp}`, '--port=873'], path.join(dir, 'stdout.log'));
  const sites = mirrorSites(p, tree);
  const server = http.createServer((req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    const out = serveSite(sites, host, 'http', { method: req.method ?? 'GET', path: req.url ?? '/' });
    res.writeHead(out.status, { 'content-type': 'application/octet-stream', 'content-length': Buffer.byteLength(out.body) });
    res.end(out.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(80, world.hostIp, () => resolve());
  });
  cleanup.add('stop the mirrors\' HTTP server', () => new Promise<void>((resolve) => server.close(() => resolve())));
  for (let i = 0; i < 40 && !fs.existsSync(`${dir}/rsyncd.pid`); i++) await new Promise((r) => setTimeout(r, 100));
  if (!rsyncd.alive()) throw new Error(`the mirrors' rsyncd exited:\n${rsyncd.log()}`);
}
