import { formatReport } from '../../lib/check/format';
import { checkMirror } from '../../lib/check/run';
import { CheckReport } from '../../lib/check/types';
import { NodeConfig } from '../../lib/config/node-config';
import { preferredRoot } from './config';
import { Results } from './results';
import { World } from './world';

/*
 * The product's own checker (`mirrorfleet check`, lib/check) proves the booted node from
 * outside: every check it makes is one line of the boot proof. Before the certificate exists
 * only the HTTP and rsync checks count (HTTPS is off, which the scenario checks itself); after
 * it, every check must pass, the chain ending at the root the config prefers.
 */
export async function checkerChecks(results: Results, world: World, config: NodeConfig, phase: 'http' | 'https'): Promise<CheckReport | undefined> {
  const preferred = preferredRoot(world);
  let report: CheckReport | undefined;
  const ran = await results.run(`mirrorfleet check ran (${phase} phase)`, async () => {
    report = await checkMirror(config.hostname, {
      preset: config.preset,
      addresses: [world.nodeIp, world.nodeIp6],
      master: world.upstreamUrl(config.trees[0].name),
      ca: [preferred.pem],
      chainRoot: preferred.cn,
    });
    console.log(formatReport(report).replace(/^/gm, '      '));
    return `${report.traffic.connections} connections, ${report.traffic.seconds} s`;
  });
  if (!ran || !report) return undefined;
  const httpsOnly = new Set(['https', 'certificate', 'chain']);
  for (const r of report.results) {
    if (phase === 'http' && httpsOnly.has(r.id)) continue;
    // Nothing to list where the guide requires no listing; everything else is seen and passes.
    const nothingToSee = r.id === 'listings' && config.preset.requiredListings.length === 0 && r.status === 'skipped';
    results.check(`mirrorfleet check ${r.id}: ${r.title} (${phase})`, r.status === 'pass' || nothingToSee, `${r.status}: ${r.detail}`, r.detail.length > 140 ? `${r.detail.slice(0, 137)}...` : r.detail);
  }
  // What the node's rendered config says, seen by the checker (N2, N3).
  const detail = (id: string) => report!.results.find((x) => x.id === id)?.detail ?? '';
  results.check(`keep-alive as rendered: timeout=2, max=100 (N2, ${phase})`, detail('keep-alive').includes('Keep-Alive: timeout=2, max=100'), detail('keep-alive'));
  results.check(`metadata expires at once: max-age=0 and Expires = Date (N3, ${phase})`, /max-age=0, must-revalidate; Expires = Date/.test(detail('metadata-cache')), detail('metadata-cache'));
  return report;
}
