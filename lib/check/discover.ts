import { CheckContext, Sample, fetchOnce, primary } from './context';
import { parseListing, rsyncBase, runRsync } from './rsync-client';

/*
 * Finds files to check on a mirror it knows nothing about: one repository metadata file (the
 * preset's patterns), one .iso and one .rpm, by walking directory listings the way a person
 * browsing the mirror would: rsync listings when rsync answers, else the HTTP index pages. The
 * walk is depth first, prefers the names real trees use (releases, the newest version, x86_64,
 * os, repodata), skips debug and source trees, and stops after a fixed number of listings.
 */

export const MAX_LISTINGS = 24;

interface Entry {
  readonly name: string;
  readonly dir: boolean;
  readonly size?: number;
  readonly mtime?: number;
}

const PREFERRED = ['releases', 'isos', 'iso', 'os', 'repodata', 'Packages', 'Everything', 'x86_64', 'amd64', 'autobuilds', 'base', 'linux', 'current-install-amd64-minimal'];
const AVOIDED = /^(debug|source|SRPMS|development|rawhide|historical|testing|test|project|lost\+found|\.~tmp~|distfiles|experimental)$/i;

/** Higher first: preferred names, then versions newest first, then the rest by name. */
function rank(a: Entry, b: Entry): number {
  const score = (e: Entry) => (AVOIDED.test(e.name) ? -1 : PREFERRED.includes(e.name) ? 2 : /^\d/.test(e.name) ? 1 : 0);
  const d = score(b) - score(a);
  if (d !== 0) return d;
  if (/^\d/.test(a.name) && /^\d/.test(b.name)) return b.name.localeCompare(a.name, 'en', { numeric: true });
  return a.name.localeCompare(b.name);
}

export interface Discovery {
  readonly listings: number;
  readonly via: 'rsync' | 'http' | 'none';
}

export async function discover(ctx: CheckContext): Promise<Discovery> {
  const via = ctx.rsyncServed ? 'rsync' : ctx.served.length > 0 ? 'http' : 'none';
  if (via === 'none') return { listings: 0, via };
  const patterns = ctx.preset.metadataPatterns.map((p) => new RegExp(p));
  const wantRpm = ctx.preset.id !== 'gentoo';
  let listings = 0;
  const list = async (tree: number, rel: string): Promise<Entry[]> => {
    listings++;
    return via === 'rsync' ? rsyncList(ctx, tree, rel) : httpList(ctx, tree, rel);
  };
  const s = ctx.samples;
  const done = () => s.metadata && s.iso && (s.rpm || !wantRpm);
  for (let tree = 0; tree < ctx.target.trees.length && !done(); tree++) {
    const stack: string[] = [''];
    while (stack.length > 0 && listings < MAX_LISTINGS && !done()) {
      const dir = stack.pop()!;
      let entries: Entry[];
      try {
        entries = await list(tree, dir);
      } catch {
        continue;
      }
      // repomd.xml names every other metadata file: the one a client fetches first.
      for (const e of entries.filter((x) => !x.dir).sort((a, b) => Number(b.name === 'repomd.xml') - Number(a.name === 'repomd.xml'))) {
        const rel = `${dir}${e.name}`;
        const sample: Sample = { tree, rel, size: e.size, mtime: e.mtime };
        if (!s.metadata && patterns.some((p) => p.test(`/${rel}`))) s.metadata = sample;
        else if (!s.iso && e.name.endsWith('.iso')) s.iso = sample;
        else if (!s.rpm && wantRpm && e.name.endsWith('.rpm')) s.rpm = sample;
      }
      // Depth first: the best-ranked directory is listed next.
      const dirs = entries.filter((x) => x.dir && x.name !== '.' && x.name !== '..' && !AVOIDED.test(x.name)).sort(rank);
      for (const d of dirs.reverse()) stack.push(`${dir}${d.name}/`);
    }
  }
  return { listings, via };
}

async function rsyncList(ctx: CheckContext, tree: number, rel: string): Promise<Entry[]> {
  const addr = primary(ctx.target);
  const r = await runRsync(['--list-only', '--no-h', `${rsyncBase(addr, ctx.target.ports.rsync)}${ctx.target.trees[tree].module}/${rel}`], addr, ctx.budget);
  if (r.status !== 0) throw new Error(r.output);
  return parseListing(r.output).map((e) => ({ name: e.name, dir: e.type === 'd', size: e.type === 'f' ? e.size : undefined, mtime: e.mtime }));
}

async function httpList(ctx: CheckContext, tree: number, rel: string): Promise<Entry[]> {
  const res = await fetchOnce(ctx, ctx.served[0], 'GET', `${ctx.target.trees[tree].urlPath}${rel}`, {}, { maxBody: 512 * 1024 });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  const names = [...res.body.toString('utf8').matchAll(/href="([^"?#]+)"/gi)].map((m) => decodeURIComponent(m[1]));
  return [...new Set(names)]
    .filter((n) => !n.startsWith('/') && !n.startsWith('.') && !/^[a-z]+:/i.test(n) && /^[^/]+\/?$/.test(n))
    .map((n) => ({ name: n.replace(/\/$/, ''), dir: n.endsWith('/') }));
}
