import { stringify } from 'yaml';
import type { NodeConfig } from '../../config/node-config';
import type { RedirectorConfig } from '../../project/redirector';
import { RedirectorLayout, repositoryPath } from './layout';

/**
 * mirrorbits.conf (R1, R2, R7): the local copy as the repository, Redis on loopback, the GeoIP
 * directory the refresh keeps current, the master as the fallback, the master's trace as the
 * freshness the mirror list page shows, both of mirrorbits' ports on loopback only.
 */
export function renderMirrorbitsConf(r: RedirectorConfig, master: NodeConfig, rl: RedirectorLayout): string {
  const fallback = master.https.enabled ? `https://${master.hostname}/` : `http://${master.hostname}/`;
  const conf = {
    Repository: repositoryPath(r),
    Templates: `${rl.mirrorbitsDir}/templates`,
    LogDir: rl.mirrorbitsLogDir,
    GeoipDatabasePath: rl.geoipDir,
    // Clients are sent on: JSON only for whoever asks with Accept: application/json.
    OutputMode: 'auto',
    ListenAddress: rl.mirrorbitsHttp,
    RPCListenAddress: rl.mirrorbitsRpc,
    RedisAddress: `127.0.0.1:${rl.redisPort}`,
    RedisDB: 0,
    // The sync calls `mirrorbits refresh` after each run; the interval is the safety net.
    RepositoryScanInterval: 5,
    Hashes: { SHA256: true, SHA1: false, MD5: false },
    ConcurrentSync: 5,
    ScanInterval: r.scanIntervalMinutes,
    CheckInterval: r.checkIntervalMinutes,
    // A mirror that answers its health check with a redirect is not serving the file itself.
    DisallowRedirects: true,
    // Path relative to the repository: what the master writes after each publish (M2).
    TraceFileLocation: `project/trace/${master.hostname}`,
    Fallbacks: [{ URL: `${fallback}${r.node.trees[0].name}/`, CountryCode: master.site.country }],
  };
  return `# mirrorfleet: mirrorbits for ${r.node.hostname} (R1). Written by mirrorfleet.\n${stringify(conf)}`;
}
