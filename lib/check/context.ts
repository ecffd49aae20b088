import { Preset } from '../presets/types';
import { TrafficBudget } from './budget';
import { HttpConnection, HttpResponse, Endpoint, TlsState } from './http-client';
import { requiredBy } from './requirements';
import { Target } from './target';
import { CheckId, CheckResult, CheckStatus } from './types';

/*
 * What every check shares: the target, the traffic budget, the samples found on the mirror, and
 * one way to record a result. Checks run one after the other, so the checker never holds more
 * than a few connections to the mirror at once.
 */

export type WebScheme = 'http' | 'https';

/** Files found on the mirror to check against, as URL paths and (when rsync listed them) sizes and times. */
export interface Samples {
  metadata?: Sample;
  iso?: Sample;
  rpm?: Sample;
  /** The node's own trace file (project/trace/<host>), when it serves one. */
  trace?: Sample;
}

export interface Sample {
  readonly tree: number;
  /** Path relative to the tree. */
  readonly rel: string;
  readonly size?: number;
  readonly mtime?: number;
}

export interface CheckContext {
  readonly preset: Preset;
  readonly target: Target;
  readonly budget: TrafficBudget;
  readonly ca?: readonly string[];
  /** Web schemes that answered, in the order HTTP, HTTPS. */
  served: WebScheme[];
  rsyncServed: boolean;
  tls?: TlsState;
  samples: Samples;
  readonly results: CheckResult[];
}

/** The address general checks use: the first IPv4 address, else the first IPv6 one. */
export const primary = (t: Target) => t.v4[0] ?? t.v6[0];

export const endpoint = (ctx: CheckContext, scheme: WebScheme, address = primary(ctx.target)): Endpoint => ({
  host: ctx.target.host,
  address,
  port: ctx.target.ports[scheme],
  tls: scheme === 'https',
  ...(ctx.ca ? { ca: ctx.ca } : {}),
});

export const urlPath = (ctx: CheckContext, s: Pick<Sample, 'tree' | 'rel'>) => `${ctx.target.trees[s.tree].urlPath}${s.rel}`;

export const schemeUrl = (ctx: CheckContext, scheme: WebScheme, path: string) => {
  const port = ctx.target.ports[scheme];
  return `${scheme}://${ctx.target.host}${port === (scheme === 'https' ? 443 : 80) ? '' : `:${port}`}${path}`;
};

/** One request on a fresh connection, closed afterwards. */
export async function fetchOnce(
  ctx: CheckContext,
  scheme: WebScheme,
  method: 'GET' | 'HEAD',
  path: string,
  headers: Record<string, string> = {},
  o: { address?: string; maxBody?: number } = {},
): Promise<HttpResponse & { tls?: TlsState }> {
  const conn = await HttpConnection.open(endpoint(ctx, scheme, o.address), ctx.budget, 10_000);
  try {
    return { ...(await conn.request(method, path, { Connection: 'close', ...headers }, { maxBody: o.maxBody, timeoutMs: ctx.budget.remainingMs(15_000) })), tls: conn.tls };
  } finally {
    conn.close();
  }
}

/** Records a result; `required` follows the preset's guide unless given. */
export function record(ctx: CheckContext, id: CheckId, title: string, status: CheckStatus, detail: string, required?: boolean): CheckResult {
  const because = requiredBy(ctx.preset, id);
  const r: CheckResult = { id, title, status, required: required ?? because !== undefined, detail, ...(because && (required ?? true) ? { because: `${because.guide}: "${because.text}"` } : {}) };
  ctx.results.push(r);
  return r;
}

/** Runs `body`; an exception (no answer, the budget used up) is a fail with its message, or a skip when `skipOnError`. */
export async function attempt(ctx: CheckContext, id: CheckId, title: string, body: () => Promise<[CheckStatus, string]>, required?: boolean): Promise<CheckResult> {
  try {
    const [status, detail] = await body();
    return record(ctx, id, title, status, detail, required);
  } catch (e) {
    const err = e as Error;
    return record(ctx, id, title, err.name === 'BudgetExceeded' ? 'skipped' : 'fail', err.message, required);
  }
}
