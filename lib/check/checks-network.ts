import * as dgram from 'node:dgram';
import { CheckContext, attempt, fetchOnce, record } from './context';
import { parseModules, rsyncBase, runRsync } from './rsync-client';
import { probePath } from './checks-web';

/*
 * Every protocol the mirror serves answers on IPv4 and on IPv6 (N9). A family the checker's own
 * host cannot reach is "skipped", never "pass": the node may well be fine, it was not seen.
 */

/** Whether this host has a route to `address` (a UDP socket's connect sends nothing). */
export function hasRoute(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    const done = (ok: boolean) => {
      s.close();
      resolve(ok);
    };
    s.once('error', () => done(false));
    // node reports a connect failure to the callback (and not as 'error') when one is given.
    s.connect(9, address, (err?: Error) => done(!err));
  });
}

export async function familyChecks(ctx: CheckContext): Promise<void> {
  for (const [id, family, addresses] of [['ipv4', 'IPv4', ctx.target.v4], ['ipv6', 'IPv6', ctx.target.v6]] as const) {
    const title = `every protocol answers over ${family}`;
    if (addresses.length === 0) {
      record(ctx, id, title, 'fail', `${ctx.target.host} has no ${family} address`);
      continue;
    }
    const address = addresses[0];
    if (!(await hasRoute(address))) {
      record(ctx, id, title, 'skipped', `this host has no ${family} route to ${address}: not seen from here`);
      continue;
    }
    await attempt(ctx, id, title, async () => {
      const seen: string[] = [];
      const failed: string[] = [];
      for (const scheme of ctx.served) {
        try {
          const r = await fetchOnce(ctx, scheme, 'HEAD', probePath(ctx), {}, { address });
          (r.status === 200 ? seen : failed).push(`${scheme.toUpperCase()} ${r.status}`);
        } catch (e) {
          failed.push(`${scheme.toUpperCase()}: ${(e as Error).message}`);
        }
      }
      if (ctx.rsyncServed) {
        const r = await runRsync(['--list-only', rsyncBase(address, ctx.target.ports.rsync)], address, ctx.budget);
        const modules = parseModules(r.output);
        (r.status === 0 && ctx.target.trees.every((t) => modules.includes(t.module)) ? seen : failed).push(`rsync ${r.status === 0 ? `lists ${modules.join(', ') || 'nothing'}` : r.output.trim().split('\n')[0]}`);
      }
      if (seen.length + failed.length === 0) return ['fail', `nothing to ask at ${address}: no protocol answered at all`];
      return failed.length === 0 ? ['pass', `${address}: ${seen.join(', ')}`] : ['fail', `${address}: ${failed.join('; ')}${seen.length ? ` (answered: ${seen.join(', ')})` : ''}`];
    });
  }
}
