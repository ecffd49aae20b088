import * as dns from 'node:dns';
import * as net from 'node:net';
import { Preset } from '../presets/types';
import { TrafficBudget } from './budget';
import { Master, freshnessCheck, findTrace, parseMaster } from './checks-freshness';
import { familyChecks } from './checks-network';
import { rsyncListCheck, rsyncProbes } from './checks-rsync';
import { servingChecks } from './checks-serving';
import { webChecks } from './checks-web';
import { CheckContext } from './context';
import { discover } from './discover';
import { resolveTarget, TargetError, TargetOptions } from './target';
import { CHECK_IDS, CheckReport } from './types';

/*
 * `mirrorfleet check`: every prerequisite of the preset, checked from outside against a live
 * mirror, in an order where each check can use what the earlier ones found (rsync first, so the
 * walk for sample files can use its cheap listings). Traffic goes to the mirror's addresses (and
 * the master's, when given) only, within MAX_CONNECTIONS and MAX_SECONDS.
 */

export const MAX_CONNECTIONS = 80;
export const MAX_SECONDS = 120;

export interface CheckOptions extends TargetOptions {
  readonly preset: Preset;
  /** rsync URL of the tree on the master: freshness is judged against it. */
  readonly master?: string;
  /** Trust anchors (PEM) added to node's bundled roots. */
  readonly ca?: readonly string[];
  /** The root the certificate chain must end at, instead of the preset's (XCP-ng: ISRG Root X1). */
  readonly chainRoot?: string;
  readonly maxConnections?: number;
  readonly maxSeconds?: number;
}

export async function checkMirror(input: string, o: CheckOptions): Promise<CheckReport> {
  const target = await resolveTarget(input, o.preset, o);
  const master = o.master ? await resolveMaster(o.master) : undefined;
  const allowed = new Set([...target.v4, ...target.v6, ...(master ? [master.address] : [])]);
  const budget = new TrafficBudget(allowed, o.maxConnections ?? MAX_CONNECTIONS, o.maxSeconds ?? MAX_SECONDS);
  if (target.v4.length + target.v6.length === 0) throw new TargetError(`${target.host}: no address to check`);
  const ctx: CheckContext = { preset: o.preset, target, budget, ca: o.ca, served: [], rsyncServed: false, samples: {}, results: [] };

  await rsyncListCheck(ctx);
  // The samples the web checks fetch come from the walk; over HTTP the walk needs a served scheme,
  // so without rsync the tree's index is fetched first.
  if (ctx.rsyncServed) await discover(ctx);
  await webChecks(ctx, o.chainRoot);
  if (!ctx.rsyncServed) await discover(ctx);
  await findTrace(ctx);
  await familyChecks(ctx);
  await rsyncProbes(ctx);
  await servingChecks(ctx);
  await freshnessCheck(ctx, master);

  const order = (id: string) => CHECK_IDS.indexOf(id as never);
  const results = [...ctx.results].sort((a, b) => order(a.id) - order(b.id));
  return {
    target: input,
    preset: o.preset.id,
    addresses: [...target.v4, ...target.v6],
    results,
    traffic: budget.summary(),
    ok: results.every((r) => !r.required || r.status === 'pass'),
  };
}

async function resolveMaster(url: string): Promise<Master> {
  let m: ReturnType<typeof parseMaster>;
  try {
    m = parseMaster(url);
  } catch (e) {
    throw new TargetError((e as Error).message);
  }
  const address = net.isIP(m.host) ? m.host : (await dns.promises.lookup(m.host).catch(() => undefined))?.address;
  if (!address) throw new TargetError(`--master ${url}: ${m.host} has no address`);
  return { url, address, port: m.port, path: m.path };
}
