import { NodeConfig } from '../config/node-config';
import { customApplication } from './custom';
import { fedoraApplication } from './fedora';
import { facts } from './fields';
import { gentooApplication } from './gentoo';
import { Deployed } from './outputs';
import { xcpNgApplication } from './xcp-ng';

/*
 * The mirror application (O1): what the preset's project asks a new mirror to send, filled from
 * the config and, once deployed, the stack's addresses. Each text is written in mirrorfleet's
 * words from the fields the guide lists; what only the provider knows is a marked blank.
 */

const BY_PRESET = { 'xcp-ng': xcpNgApplication, fedora: fedoraApplication, gentoo: gentooApplication, custom: customApplication } as const;

export function mirrorApplication(c: NodeConfig, deployed?: Deployed): string {
  return BY_PRESET[c.preset.id](facts(c, deployed));
}
