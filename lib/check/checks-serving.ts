import { CheckContext, Sample, WebScheme, attempt, endpoint, fetchOnce, record, urlPath } from './context';
import { HttpConnection } from './http-client';
import { probePath } from './checks-web';
import { MAX_LISTINGS } from './discover';

/*
 * How the mirror serves, seen as a client, the project's crawler and mirrorbits' health check see
 * it (N2-N8): keep-alive and its idle timeout, metadata that proxies must revalidate, ISO and RPM
 * as application/octet-stream, no compression, HEAD answered, a normal client's parallel
 * connections accepted, and the listings a guide requires. Each runs over every web scheme
 * served and reports both in one line.
 */

/** mirrorbits' health check: a HEAD of a file the mirror holds, with this User-Agent (mirrorbits-behaviour.md). */
export const MIRRORBITS_AGENT = 'Mirrorbits/0.6 PING CHECK';
/** dnf downloads three files at once by default; one more than that must still be served. */
export const NORMAL_PARALLEL = 4;
/** Keep-alive: closing an idle connection sooner breaks reuse; later, it ties a worker to an idle client (Fedora guide: 2 s is right, 15 s may be too much). */
export const KEEPALIVE_IDLE_MS = { min: 1500, max: 15_500 };

type Outcome = [ok: boolean, saw: string];

/** Runs `one` for every served scheme; passes when all pass, skipped when nothing is served. */
async function perScheme(ctx: CheckContext, id: Parameters<typeof record>[1], title: string, one: (s: WebScheme) => Promise<Outcome>, skipWhy?: string): Promise<void> {
  if (skipWhy) return void record(ctx, id, title, 'skipped', skipWhy);
  if (ctx.served.length === 0) return void record(ctx, id, title, 'skipped', 'neither HTTP nor HTTPS serves the tree');
  await attempt(ctx, id, title, async () => {
    const outcomes: [WebScheme, Outcome][] = [];
    for (const s of ctx.served) outcomes.push([s, await one(s).catch((e: Error) => [false, e.message] as Outcome)]);
    const text = outcomes.map(([s, [, saw]]) => `${s.toUpperCase()}: ${saw}`).join('; ');
    return [outcomes.every(([, [ok]]) => ok) ? 'pass' : 'fail', text];
  });
}

const notFound = (what: string) => `no ${what} found in the first ${MAX_LISTINGS} directory listings`;

export async function servingChecks(ctx: CheckContext): Promise<void> {
  const s = ctx.samples;
  await perScheme(ctx, 'keep-alive', 'keep-alive on, idle connections closed after a few seconds', (scheme) => keepAlive(ctx, scheme));

  await perScheme(ctx, 'metadata-cache', 'metadata answers Cache-Control: must-revalidate', async (scheme) => {
    const r = await fetchOnce(ctx, scheme, 'GET', urlPath(ctx, s.metadata!), {}, { maxBody: 1024 * 1024 });
    const cc = r.headers['cache-control'] ?? '';
    const expires = Date.parse(r.headers.expires ?? '');
    const date = Date.parse(r.headers.date ?? '');
    const expiresNow = !Number.isNaN(expires) && !Number.isNaN(date) && expires <= date;
    const ok = r.status === 200 && /must-revalidate/.test(cc) && (/max-age=0|no-cache/.test(cc) || expiresNow);
    return [ok, `${s.metadata!.rel}: ${r.status}, Cache-Control: ${cc || '(none)'}${r.headers.expires ? `; Expires ${expiresNow ? '= Date' : r.headers.expires}` : ''}`];
  }, s.metadata ? undefined : notFound('repository metadata'));

  const binaries = [s.iso, s.rpm].filter((x): x is Sample => x !== undefined);
  await perScheme(ctx, 'octet-stream', '.iso and .rpm served as application/octet-stream', async (scheme) => {
    const seen: string[] = [];
    let ok = true;
    for (const b of binaries) {
      const r = await fetchOnce(ctx, scheme, 'HEAD', urlPath(ctx, b));
      const type = r.headers['content-type'] ?? '(none)';
      ok &&= r.status === 200 && type === 'application/octet-stream';
      seen.push(`${b.rel.slice(b.rel.lastIndexOf('.'))} ${r.status} ${type}`);
    }
    return [ok, seen.join(', ')];
  }, binaries.length > 0 ? undefined : notFound('.iso or .rpm'));

  await perScheme(ctx, 'no-compression', 'mirror files served as they are, not compressed', async (scheme) => {
    const gzip = { 'Accept-Encoding': 'gzip, deflate, br' };
    const seen: string[] = [];
    let ok = true;
    // A text file is what a compressing server would compress; its length must be the file's.
    const text = s.metadata ?? s.trace;
    if (text) {
      const r = await fetchOnce(ctx, scheme, 'GET', urlPath(ctx, text), gzip, { maxBody: 1024 * 1024 });
      const sizeOk = text.size === undefined || r.body.length === text.size;
      ok &&= r.status === 200 && !r.headers['content-encoding'] && sizeOk;
      seen.push(`${text.rel.split('/').pop()}: ${r.headers['content-encoding'] ? `Content-Encoding ${r.headers['content-encoding']}` : 'no Content-Encoding'}, ${r.body.length} B${text.size !== undefined ? ` (rsync lists ${text.size} B)` : ''}`);
    }
    if (s.iso) {
      const r = await fetchOnce(ctx, scheme, 'GET', urlPath(ctx, s.iso), { ...gzip, Range: 'bytes=0-65535' }, { maxBody: 65536 });
      ok &&= (r.status === 206 || r.status === 200) && !r.headers['content-encoding'];
      seen.push(`.iso: ${r.status}, ${r.headers['content-encoding'] ? `Content-Encoding ${r.headers['content-encoding']}` : 'no Content-Encoding'}`);
    }
    return [ok, seen.join(', ')];
  }, s.metadata || s.trace || s.iso ? undefined : notFound('file'));

  const headTarget = s.iso ?? s.rpm ?? s.metadata;
  await perScheme(ctx, 'head', "HEAD answered with mirrorbits' User-Agent", async (scheme) => {
    const r = await fetchOnce(ctx, scheme, 'HEAD', urlPath(ctx, headTarget!), { 'User-Agent': MIRRORBITS_AGENT });
    const length = r.headers['content-length'];
    const ok = r.status === 200 && length !== undefined && (headTarget!.size === undefined || Number(length) === headTarget!.size);
    return [ok, `${headTarget!.rel.split('/').pop()}: ${r.status}, Content-Length ${length ?? '(none)'}${headTarget!.size !== undefined ? ` (rsync lists ${headTarget!.size})` : ''}`];
  }, headTarget ? undefined : notFound('file'));

  await perScheme(ctx, 'per-ip', `${NORMAL_PARALLEL} parallel connections of one client are served`, async (scheme) => {
    const results = await Promise.all(
      Array.from({ length: NORMAL_PARALLEL }, () => fetchOnce(ctx, scheme, 'HEAD', probePath(ctx)).then((r) => String(r.status), (e: Error) => e.message)),
    );
    return [results.every((r) => r === '200'), results.join(', ')];
  });

  const listings = ctx.preset.requiredListings;
  const title = `listings of ${listings.length > 0 ? listings.join(', ') : 'the required directories'}`;
  if (listings.length === 0) record(ctx, 'listings', title, 'skipped', `preset ${ctx.preset.id} requires no listing`);
  else await perScheme(ctx, 'listings', title, async (scheme) => {
    const seen: string[] = [];
    let ok = true;
    for (const t of ctx.target.trees) {
      for (const l of listings) {
        const p = `${t.urlPath}${l.replace(/^\/|\/$/g, '')}/`;
        const r = await fetchOnce(ctx, scheme, 'GET', p, {}, { maxBody: 512 * 1024 });
        const listed = r.status === 200 && /<a href=/i.test(r.body.toString('utf8'));
        ok &&= listed;
        seen.push(`${p} ${r.status}${r.status === 200 && !listed ? ' (no links)' : ''}`);
      }
    }
    return [ok, seen.join(', ')];
  });
}

async function keepAlive(ctx: CheckContext, scheme: WebScheme): Promise<Outcome> {
  const conn = await HttpConnection.open(endpoint(ctx, scheme), ctx.budget, 10_000);
  try {
    const path = probePath(ctx);
    const first = await conn.request('GET', path, { Connection: 'keep-alive' }, { maxBody: 1024 * 1024 });
    const header = first.headers['keep-alive'];
    if (/close/i.test(first.headers.connection ?? '') || !conn.open) return [false, `the server closed the connection after one request (Connection: ${first.headers.connection ?? '-'})`];
    const second = await conn.request('HEAD', path, { Connection: 'keep-alive' });
    const idle = await conn.idleClose(KEEPALIVE_IDLE_MS.max);
    const kept = `2 requests on one connection (${first.status}, ${second.status})${header ? `, Keep-Alive: ${header}` : ''}`;
    if (idle === undefined) return [false, `${kept}; the idle connection was still open after ${KEEPALIVE_IDLE_MS.max / 1000} s`];
    const seconds = `idle connection closed after ${(idle / 1000).toFixed(1)} s`;
    return [idle >= KEEPALIVE_IDLE_MS.min, `${kept}; ${seconds}${idle < KEEPALIVE_IDLE_MS.min ? ' (too soon to reuse)' : ''}`];
  } finally {
    conn.close();
  }
}
