import { scheduleIntervalMinutes } from '../config/schedule';
import { syncAgeAlarmSeconds } from '../host/metrics';
import { GuideQuote, Preset } from '../presets/types';
import { CheckId } from './types';

/*
 * Which checks a preset's guide requires, in the guide's own words. A check no guide asks for is
 * still run and shown (mirrorfleet's node does it, docs/node.md) but does not fail the run.
 */

const FEDORA = 'Fedora mirror guide (fedoraproject.org/wiki/Infrastructure/Mirroring)';
const XCP_NG = 'XCP-ng mirror guide (docs.xcp-ng.org/project/mirrors)';
const GENTOO = 'Gentoo source mirror guide (wiki.gentoo.org/wiki/Project:Mirrors/Source_mirrors)';
const q = (guide: string, text: string): GuideQuote => ({ guide, text });

/** What each guide asks beyond the preset's own `requires` (which names the protocols). */
const EXTRA: Partial<Record<Preset['id'], Partial<Record<CheckId, GuideQuote>>>> = {
  'xcp-ng': {
    ipv4: q(XCP_NG, 'Provide both IPv4 and IPv6 addresses.'),
    chain: q(XCP_NG, 'Append "preferred_chain = ISRG Root X1" ... we ask that every mirror that relies on Let\'s Encrypt for their certificates apply this workaround.'),
    head: q(XCP_NG, 'XCP-ng uses mirrorbits to redirect download requests to an appropriate mirror based on their update status.'),
  },
  fedora: {
    'rsync-checksum': q(FEDORA, "Make sure you have the 'refuse options' set to checksum."),
    'keep-alive': q(FEDORA, 'HTTP Keepalives should be enabled on your mirror server ... with a timeout of at least 2 seconds.'),
    'metadata-cache': q(FEDORA, "We don't want caching proxy servers between our mirrors and our end user systems to cache our yum repository metadata."),
    'octet-stream': q(FEDORA, 'ISO and RPM files should be served using MIME Content-Type: application/octet-stream.'),
  },
  gentoo: {
    web: q(GENTOO, 'Users must be able to reach your mirror via HTTP and/or HTTPS (with valid certificates).'),
  },
  custom: {
    web: q('mirrorfleet brief N1', 'HTTP and HTTPS for the whole tree with a valid certificate.'),
  },
};

/** The quote that makes `id` required for the preset, or undefined when no guide asks for it. */
export function requiredBy(p: Preset, id: CheckId): GuideQuote | undefined {
  const extra = EXTRA[p.id]?.[id];
  if (extra) return extra;
  switch (id) {
    case 'http':
      return p.requires.http;
    case 'https':
    case 'certificate':
      return p.requires.https;
    case 'ipv6':
      return p.requires.ipv6;
    case 'rsync-list':
    case 'rsync-read-only':
      return p.requires.rsync;
    case 'listings':
      return p.requiredListings.length > 0 ? p.requiredListingsQuote : undefined;
    case 'freshness':
      return p.fixedSchedule ?? p.maxSyncIntervalMinutes?.quote ?? q(p.guide, `sync ${'everyMinutes' in p.schedule ? `every ${p.schedule.everyMinutes} minutes` : `every ${p.schedule.everyHours} hours`}`);
    default:
      return undefined;
  }
}

/** The web check ("HTTP or HTTPS") exists only where the guide requires neither one by name. */
export const needsWebCheck = (p: Preset) => !p.requires.http && !p.requires.https;

/** The longest interval between syncs the guide accepts, in minutes. */
export const acceptedIntervalMinutes = (p: Preset) => Math.max(scheduleIntervalMinutes(p.schedule), p.maxSyncIntervalMinutes?.minutes ?? 0);

/**
 * How far behind the master a node may be before it counts as stale: the node's own sync-age
 * alarm (two missed runs plus an hour, lib/host/metrics.ts) at the slowest cadence the guide accepts.
 */
export const freshnessLimitSeconds = (p: Preset) => syncAgeAlarmSeconds(acceptedIntervalMinutes(p));
