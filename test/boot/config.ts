import { parse, parseDocument, stringify } from 'yaml';
import { parseConfig } from '../../lib/config/load';
import { NodeConfig } from '../../lib/config/node-config';
import { renderInlineBundle } from '../../lib/host/inline-bundle';
import { HostFile } from '../../lib/host/files';
import { hostFiles } from '../../lib/host/host';
import { mirrorNodeHost, renderNodeUserData } from '../../lib/roles/mirror-node/role';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { Example, exampleText } from '../support/fixtures';
import { DATA_DEVICE } from './node';
import { World } from './world';

/**
 * An example's config pointed at the test world, through the normal loader: each tree's
 * upstream is the host's rsync daemon, the ACME server is pebble and the preferred chain one of
 * pebble's alternate roots. The host name, storage, schedules and everything else stay the
 * example's own. Fedora's tier-1 daemon admits the host's IPv4 address only (so the test can
 * both pull from it and be refused over IPv6).
 */
export function bootConfig(example: Example, world: World, at: { upstream?: (tree: string) => string; acme?: string; edit?: (doc: ReturnType<typeof parseDocument>) => void } = {}): NodeConfig {
  const doc = parseDocument(exampleText(example));
  const trees = doc.get('trees') as { items: unknown[] } | undefined;
  (trees?.items ?? []).forEach((_, i) => {
    const name = doc.getIn(['trees', i, 'name']) as string;
    doc.setIn(['trees', i, 'upstream'], at.upstream ? at.upstream(name) : world.upstreamUrl(name));
  });
  doc.setIn(['tls', 'acmeServer'], at.acme ?? world.acmeDirectory);
  doc.setIn(['tls', 'preferredChain'], preferredRoot(world).cn);
  if (doc.hasIn(['rsync', 'private', 'allow'])) doc.setIn(['rsync', 'private', 'allow'], [world.hostIp]);
  at.edit?.(doc);
  return parseConfig(doc.toString(), `examples/${example}.yaml (boot-test copy)`);
}

/** The chain the node must prefer: pebble's last alternate root (never the default chain). */
export const preferredRoot = (world: World) => world.roots[world.roots.length - 1];

export function bootUserData(c: NodeConfig): string {
  return renderNodeUserData(c, { dataDevice: DATA_DEVICE });
}

/** The product's user data with `edit` applied to its parsed #cloud-config (negative cases). */
export function editUserData(userData: string, edit: (doc: Record<string, unknown>) => void): string {
  const doc = parse(userData) as Record<string, unknown>;
  edit(doc);
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}

/** The product's user data with its file bundle rebuilt from edited node files (negative cases). */
export function editBundle(c: NodeConfig, userData: string, edit: (files: HostFile[]) => HostFile[]): string {
  const files = edit(hostFiles(mirrorNodeHost(c), NODE_LAYOUT));
  return editUserData(userData, (doc) => {
    const wf = doc.write_files as { content: string }[];
    wf[0].content = renderInlineBundle(files);
  });
}
