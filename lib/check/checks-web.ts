import { CheckContext, WebScheme, attempt, fetchOnce, record, schemeUrl, urlPath } from './context';
import { needsWebCheck } from './requirements';

/*
 * HTTP and HTTPS serve the tree (N1), the certificate is valid for the name, and its chain ends
 * at the root the preset asks for (XCP-ng: ISRG Root X1, N19).
 */

/** What the web checks fetch: a file found on the mirror, else the first tree's index. */
export const probePath = (ctx: CheckContext) => (ctx.samples.metadata ? urlPath(ctx, ctx.samples.metadata) : ctx.target.trees[0].urlPath);

export async function webChecks(ctx: CheckContext, chainRoot?: string): Promise<void> {
  const path = probePath(ctx);
  for (const scheme of ['http', 'https'] as const) {
    const r = await attempt(ctx, scheme, `${scheme.toUpperCase()} serves the tree`, async () => {
      const res = await fetchOnce(ctx, scheme, 'GET', path, {}, { maxBody: 64 * 1024 });
      if (scheme === 'https') ctx.tls = res.tls;
      const ok = res.status === 200;
      return [ok ? 'pass' : 'fail', `GET ${schemeUrl(ctx, scheme, path)}: ${res.status}${res.headers['content-length'] ? `, ${res.headers['content-length']} B` : ''}`];
    });
    if (r.status === 'pass') ctx.served.push(scheme);
  }
  if (needsWebCheck(ctx.preset)) {
    record(ctx, 'web', 'HTTP or HTTPS serves the tree', ctx.served.length > 0 ? 'pass' : 'fail', ctx.served.length > 0 ? `served over ${ctx.served.map((s) => s.toUpperCase()).join(' and ')}` : 'neither HTTP nor HTTPS served it');
  }
  certificateCheck(ctx);
  chainCheck(ctx, chainRoot);
}

function certificateCheck(ctx: CheckContext): void {
  const t = ctx.tls;
  const title = 'the certificate is valid for the name';
  if (!t) {
    record(ctx, 'certificate', title, ctx.results.find((r) => r.id === 'https')?.required ? 'fail' : 'skipped', 'no TLS connection to look at (HTTPS did not answer)');
    return;
  }
  const leaf = t.chain[0];
  const days = leaf ? Math.floor((Date.parse(leaf.validTo) - Date.now()) / 86_400_000) : NaN;
  const seen = leaf ? `leaf "${leaf.subject}" issued by "${leaf.issuer}", ${days} day${days === 1 ? '' : 's'} left` : 'no certificate';
  // A certificate that is served must be valid, whatever the guide says about HTTPS.
  record(ctx, 'certificate', title, t.trusted ? 'pass' : 'fail', t.trusted ? seen : `${t.error}; ${seen}`, true);
}

const LETS_ENCRYPT = /ISRG Root|^R1\d$|^E\d+$|Let's Encrypt/;

function chainCheck(ctx: CheckContext, chainRoot?: string): void {
  const t = ctx.tls;
  const wanted = chainRoot ?? (ctx.preset.id === 'xcp-ng' ? 'ISRG Root X1' : undefined);
  const title = wanted ? `the chain ends at ${wanted}` : 'the certificate chain';
  if (!wanted) return void record(ctx, 'chain', title, 'skipped', `preset ${ctx.preset.id} asks for no particular root`);
  if (!t || t.chain.length === 0) return void record(ctx, 'chain', title, 'skipped', 'no TLS connection to look at (HTTPS did not answer)');
  const names = t.chain.map((c) => c.subject);
  const path = [...names, ...(t.chain[t.chain.length - 1].selfSigned ? [] : [t.chain[t.chain.length - 1].issuer])].join(' → ');
  // The guide's workaround is for Let's Encrypt certificates; another CA's chain is not its business.
  if (!chainRoot && !t.chain.some((c) => LETS_ENCRYPT.test(c.issuer) || LETS_ENCRYPT.test(c.subject))) {
    return void record(ctx, 'chain', title, 'skipped', `not a Let's Encrypt certificate (${path}): the workaround does not apply`);
  }
  // Walk up from the leaf: the chain must reach the wanted root and go no further (a cross-signed
  // copy of it, issued by an older root, is what the XCP-ng installer trips over).
  const i = t.chain.findIndex((c) => c.issuer === wanted);
  const top = t.chain[t.chain.length - 1];
  const ok = i >= 0 && (i === t.chain.length - 1 || (i === t.chain.length - 2 && top.subject === wanted && top.selfSigned));
  record(ctx, 'chain', title, ok ? 'pass' : 'fail', ok ? path : `${path}: does not end at "${wanted}"`);
}

export const webScheme = (ctx: CheckContext): WebScheme | undefined => ctx.served[0];
