import { GuideQuote } from '../presets/types';
import { NodeConfig } from './node-config';
import { Problem } from './problems';
import { MirrorConfigInput } from './schema';
import { describeSchedule, scheduleIntervalMinutes } from './schedule';

const cites = (q: GuideQuote) => `${q.guide} requires: "${q.text}"`;

/**
 * Checks a resolved config against its preset's prerequisites and against rules that hold for
 * every node. Paths point at what the user wrote; when the value is a default, the problem is
 * shown at the nearest enclosing key with the default value.
 */
export function checkPrerequisites(input: MirrorConfigInput, c: NodeConfig): Problem[] {
  const p = c.preset;
  const problems: Problem[] = [];

  if (c.bandwidthMbps < p.minimumBandwidthMbps.mbps) {
    problems.push({ path: ['bandwidthMbps'], allowed: `at least ${p.minimumBandwidthMbps.mbps}: ${cites(p.minimumBandwidthMbps.quote)}` });
  }

  c.trees.forEach((t, i) => {
    checkNames(c, i, problems);
    // The guide's rules on a tree hold for the preset's own tree, not for trees of the node's own.
    if (t.presetTree === undefined) return;
    const written = input.trees?.[i]?.schedule !== undefined;
    const at = written ? ['trees', i, 'schedule'] : input.trees ? ['trees', i] : ['preset'];
    const shown = written ? undefined : `"${describeSchedule(t.schedule)}" (preset default)`;
    if (p.maxSyncIntervalMinutes && scheduleIntervalMinutes(t.schedule) > p.maxSyncIntervalMinutes.minutes) {
      problems.push({ path: at, shown, allowed: `at most every ${p.maxSyncIntervalMinutes.minutes} minutes: ${cites(p.maxSyncIntervalMinutes.quote)}` });
    }
    if (p.fixedSchedule && describeSchedule(t.schedule) !== describeSchedule(p.schedule)) {
      problems.push({ path: at, shown, allowed: `"${describeSchedule(p.schedule)}" only: ${cites(p.fixedSchedule)}` });
    }
    if (p.allowedExcludes !== 'any') {
      const allowed = p.allowedExcludes;
      t.excludes.forEach((e, j) => {
        if (!allowed.paths.includes(e.replace(/\/+$/, ''))) {
          const what = allowed.paths.length ? `only ${allowed.paths.join(', ')}` : 'no excludes';
          problems.push({ path: ['trees', i, 'excludes', j], allowed: `${what}: ${cites(allowed.quote)}` });
        }
      });
    }
  });

  const min = p.minimumVolumeGiB;
  if (min && c.storage.sizeGiB < min.gib) {
    problems.push({ path: ['storage', 'sizeGiB'], allowed: `at least ${min.gib}: ${cites(min.quote)}` });
  }
  const conns = p.minimumConcurrentConnections;
  if (conns && c.http.maxRequestWorkers < conns.connections) {
    problems.push({ path: ['http', 'maxRequestWorkers'], allowed: `at least ${conns.connections}: ${cites(conns.quote)}` });
  }
  if (p.requiredListings.length > 0 && c.http.listings !== 'all') {
    const listed = c.http.listings === 'none' ? [] : c.http.listings;
    const missing = c.trees
      .filter((t) => t.presetTree !== undefined)
      .flatMap((t) => p.requiredListings.map((r) => `${t.urlPath.replace(/\/$/, '')}${r}`))
      .filter((need) => !listed.some((l) => need === l.replace(/\/+$/, '') || need.startsWith(l.endsWith('/') ? l : `${l}/`)));
    if (missing.length > 0) {
      problems.push({ path: ['http', 'listings'], allowed: `"all" or a list that includes ${missing.join(', ')}: ${cites(p.requiredListingsQuote!)}` });
    }
  }

  const required: [keyof typeof p.requires, boolean, (string | number)[]][] = [
    ['http', c.http.enabled, ['http', 'enabled']],
    ['https', c.https.enabled, ['https', 'enabled']],
    ['rsync', c.rsync.enabled, ['rsync', 'enabled']],
  ];
  for (const [proto, on, at] of required) {
    const q = p.requires[proto];
    if (q && !on) problems.push({ path: at, allowed: `true: ${cites(q)}` });
  }
  if (!c.http.enabled && !c.https.enabled) {
    problems.push({ path: ['https', 'enabled'], shown: 'false (with http.enabled false)', allowed: 'HTTP or HTTPS (or both) must be on: a mirror serves downloads over the web (N1)' });
  }
  if (c.rsync.private && !c.rsync.enabled) {
    problems.push({ path: ['rsync', 'private'], shown: 'set while rsync.enabled is false', allowed: 'rsync.enabled true: the tier-1 daemon serves the same trees (N11)' });
  }
  if (p.reportMirror && !c.reports.reportMirror) {
    problems.push({
      path: input.reports ? ['reports'] : ['preset'],
      shown: 'no reports.reportMirror',
      allowed: `reports.reportMirror with the MirrorManager Site name: ${cites(p.reportMirror)}`,
    });
  }
  return problems;
}

/** Tree names and paths are each the tree's own: no two trees share a name or nest. */
function checkNames(c: NodeConfig, i: number, problems: Problem[]): void {
  const t = c.trees[i];
  c.trees.slice(0, i).forEach((other) => {
    if (other.name === t.name) problems.push({ path: ['trees', i, 'name'], allowed: `a name not used by another tree` });
    else if (t.path.startsWith(`${other.path}/`) || other.path.startsWith(`${t.path}/`) || t.path === other.path) {
      problems.push({ path: ['trees', i, 'path'], shown: `"${t.path}"`, allowed: `a directory that neither holds nor sits inside tree "${other.name}" (${other.path})` });
    }
  });
}
