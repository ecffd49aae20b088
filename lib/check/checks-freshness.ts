import { CheckContext, Sample, attempt, fetchOnce, primary, record, urlPath } from './context';
import { acceptedIntervalMinutes, freshnessLimitSeconds } from './requirements';
import { RsyncEntry, parseListing, rsyncBase, runRsync } from './rsync-client';

/*
 * Freshness: how far the node is behind its master. The master publishes markers that change
 * with its content (trace files in project/trace/, a Fedora file list, Gentoo's
 * timestamp.mirmon); the node copies them with their times. Same time on both: in step. An
 * older copy: the node has missed the master's update for as long as that update exists, which is
 * judged against the node's own sync-age alarm at the slowest cadence the guide accepts
 * (docs/adr/0053). Without --master there is nothing to compare with: skipped, with the age of
 * the node's own trace as a hint.
 */

export interface Master {
  readonly url: string;
  readonly address: string;
  readonly port: number;
  /** Module and path of the tree on the master, with a trailing "/". */
  readonly path: string;
}

export function parseMaster(url: string): { host: string; port: number; path: string } {
  const m = /^rsync:\/\/(\[[^\]]+\]|[^/:]+)(?::(\d+))?\/(.+?)\/?$/.exec(url);
  if (!m) throw new Error(`--master ${url}: an rsync URL of the tree on the master, such as rsync://master.example.org/xcp-ng/`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : 873, path: `${m[3]}/` };
}

const ago = (ms: number) => (ms < 90_000 ? `${Math.round(ms / 1000)} s` : ms < 90 * 60_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`);
const utc = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

export async function freshnessCheck(ctx: CheckContext, master?: Master): Promise<void> {
  const title = 'the node is in step with its master';
  const trace = ctx.samples.trace;
  if (!master) {
    const hint = trace?.mtime ? `; the node's own trace (${trace.rel}) is ${ago(Date.now() - trace.mtime)} old: its last sync that changed something` : '';
    return void record(ctx, 'freshness', title, 'skipped', `no --master rsync://… to compare with${hint}`, false);
  }
  await attempt(ctx, 'freshness', title, async () => {
    const markers = await masterMarkers(ctx, master);
    if (markers.length === 0) return ['skipped', `${master.url} publishes none of the markers mirrorfleet compares (project/trace/*, ${candidates(ctx).join(', ')})`];
    // The newest marker is the master's latest change.
    const [marker] = markers.sort((a, b) => b.mtime - a.mtime);
    const node = (await nodeFile(ctx, marker.rel))?.mtime;
    const limit = freshnessLimitSeconds(ctx.preset) * 1000;
    const every = acceptedIntervalMinutes(ctx.preset);
    const schedule = `syncs every ${every % 60 === 0 ? `${every / 60} h` : `${every} min`} at the slowest the guide accepts`;
    if (node !== undefined && node >= marker.mtime) return ['pass', `${marker.rel} of ${utc(marker.mtime)} on the master and on the node (0 s behind)`];
    const behind = Date.now() - marker.mtime;
    const copy = node === undefined ? 'the node has no copy' : `the node's copy is of ${utc(node)}`;
    const saw = `the master's ${marker.rel} of ${utc(marker.mtime)} has not reached the node for ${ago(behind)} (${copy}); limit ${ago(limit)} (${schedule})`;
    return [behind <= limit ? 'pass' : 'fail', saw];
  });
}

/** Marker paths to look for besides the trace files: the preset tree's file list and precheck marker. */
function candidates(ctx: CheckContext): string[] {
  const tree = ctx.preset.trees.find((t) => t.name === ctx.target.trees[0].module) ?? ctx.preset.trees[0];
  return [tree?.fileList, tree?.precheck].filter((x): x is string => !!x);
}

async function masterMarkers(ctx: CheckContext, m: Master): Promise<(RsyncEntry & { rel: string })[]> {
  const base = `${rsyncBase(m.address, m.port)}${m.path}`;
  const list = async (rel: string) => {
    const r = await runRsync(['--list-only', '--no-h', `${base}${rel}`], m.address, ctx.budget);
    return r.status === 0 ? parseListing(r.output) : [];
  };
  const traces = (await list('project/trace/'))
    .filter((e) => e.type === 'f' && !e.name.startsWith('_') && !/(\.new|-stage1)$/.test(e.name) && e.name !== ctx.target.host)
    .map((e) => ({ ...e, rel: `project/trace/${e.name}` }));
  const others = [];
  for (const rel of candidates(ctx)) {
    const [e] = (await list(rel)).filter((x) => x.type === 'f');
    if (e) others.push({ ...e, rel });
  }
  return [...traces, ...others];
}

/** A file of the node's first tree, as rsync lists it when rsync answers, else as HTTP's HEAD describes it. */
async function nodeFile(ctx: CheckContext, rel: string): Promise<Sample | undefined> {
  if (ctx.rsyncServed) {
    const addr = primary(ctx.target);
    const r = await runRsync(['--list-only', '--no-h', `${rsyncBase(addr, ctx.target.ports.rsync)}${ctx.target.trees[0].module}/${rel}`], addr, ctx.budget);
    const e = r.status === 0 ? parseListing(r.output).find((x) => x.type === 'f') : undefined;
    return e ? { tree: 0, rel, size: e.size, mtime: e.mtime } : undefined;
  }
  if (ctx.served.length === 0) throw new Error('neither rsync nor HTTP(S) serves the tree: nothing to compare');
  const r = await fetchOnce(ctx, ctx.served[0], 'HEAD', urlPath(ctx, { tree: 0, rel }));
  const lm = Date.parse(r.headers['last-modified'] ?? '');
  return r.status === 200 ? { tree: 0, rel, size: Number(r.headers['content-length']), ...(Number.isNaN(lm) ? {} : { mtime: lm }) } : undefined;
}

/** The node's own trace file (what mirrorfleet writes after a sync that changed something), when there is time to look. */
export async function findTrace(ctx: CheckContext): Promise<void> {
  try {
    const trace = await nodeFile(ctx, `project/trace/${ctx.target.host}`);
    if (trace) ctx.samples.trace = trace;
  } catch {
    // A sample only: without it the checks that use it say what they did instead.
  }
}
