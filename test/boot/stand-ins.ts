import { REPORT_MIRROR_URL } from '../../lib/render/node-files';
import { DEFAULTS } from '../../lib/config/defaults';
import { StandInHandler, World } from './world';

/**
 * Fedora's node needs two services of the outside world the test network cannot reach:
 * GitHub, where mirrorfleet-provision downloads MirrorManager's report_mirror (REPORT_MIRROR_URL,
 * docs/adr/0007), and MirrorManager's XML-RPC endpoint, where report_mirror checks in. The world
 * answers for both names (its DNS and CA), so the node runs its real code paths unchanged: the
 * download with curl over HTTPS, the post-sync hook writing a private config copy with the
 * password and calling `report_mirror -c`. The client served is a STAND-IN written here (the
 * real one cannot be fetched offline and is not vendored): it reads the config the way the real
 * client does (configparser, the same sections) and checks in over XML-RPC with what it read,
 * so the test sees the site, host, password and category listings the node would report. What
 * it does not prove is the real client's wire format against Fedora's server.
 */
export const REPORT_MIRROR_STAND_IN = `#!/usr/bin/python3
# mirrorfleet boot test: a stand-in for MirrorManager's report_mirror (client/report_mirror).
import configparser, json, optparse, os, sys, xmlrpc.client

parser = optparse.OptionParser()
parser.add_option("-c", "--config", dest="config", default="/etc/mirrormanager-client/report_mirror.conf")
opts, _ = parser.parse_args()
config = configparser.ConfigParser()
if not config.read(opts.config):
    sys.exit("report_mirror: cannot read " + opts.config)
if not config.getboolean("global", "enabled", fallback=False):
    sys.exit(0)
categories = {}
for section in config.sections():
    if section in ("global", "site", "host", "stats") or not config.getboolean(section, "enabled", fallback=False):
        continue
    root = config.get(section, "path")
    categories[section] = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, files in os.walk(root) for f in files)
data = {
    "site": config.get("site", "name"),
    "password": config.get("site", "password"),
    "host": config.get("host", "name"),
    "categories": categories,
}
print(xmlrpc.client.ServerProxy(config.get("global", "server")).checkin(json.dumps(data)))
`;

export interface Checkin {
  readonly site: string;
  readonly host: string;
  readonly password: string;
  readonly categories: Record<string, string[]>;
}

export function fedoraStandIns(): Record<string, StandInHandler> {
  const download = new URL(REPORT_MIRROR_URL);
  const mm = new URL(DEFAULTS.mirrorManagerServer);
  return {
    [download.hostname]: (req) =>
      req.method === 'GET' && req.path === download.pathname ? { status: 200, body: REPORT_MIRROR_STAND_IN } : { status: 404, body: 'not found\n' },
    [mm.hostname]: (req) =>
      req.method === 'POST' && req.path === mm.pathname
        ? {
            status: 200,
            type: 'text/xml',
            body: '<?xml version="1.0"?>\n<methodResponse><params><param><value><string>checked in</string></value></param></params></methodResponse>\n',
          }
        : { status: 404, body: 'not found\n' },
  };
}

/** The check-ins MirrorManager's stand-in received, decoded. */
export function reportCheckins(world: World): Checkin[] {
  const mm = new URL(DEFAULTS.mirrorManagerServer).hostname;
  return world.standInLog
    .filter((e) => e.host === mm && e.method === 'POST')
    .map((e) => {
      const s = /<string>([\s\S]*?)<\/string>/.exec(e.body)?.[1] ?? '{}';
      const json = s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
      return JSON.parse(json) as Checkin;
    });
}
