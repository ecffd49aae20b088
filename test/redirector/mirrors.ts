import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseMirrorList } from '../../lib/project/mirrors';
import { renderDesiredMirrors } from '../../lib/roles/redirector/desired-mirrors';
import { GEO_MIRRORS, World } from './world';

/**
 * The contract suite's mirrors.yaml: the three mirrors the GeoIP test database places, plus two
 * that mirrorbits never scans (no rsync URL), so they write no log entries of their own.
 */
export interface TestMirror {
  name: string;
  http?: string;
  https?: string;
  rsync?: string;
  countries: string[];
  continent: string;
  enabled?: boolean;
  comment?: string;
  asn?: number;
  score?: number;
}

export function fiveMirrors(): TestMirror[] {
  return [
    ...GEO_MIRRORS.map((m) => ({ name: m.name, http: `http://${m.ip}/${m.module}/`, rsync: `rsync://${m.ip}/${m.module}/`, countries: [m.country], continent: m.continent })),
    { name: 'mirror-fr', http: 'http://127.0.0.1/fr', https: 'https://127.0.0.1/fr', countries: ['FR', 'BE'], continent: 'EU', comment: 'sponsored by a university' },
    { name: 'mirror-jp', https: 'https://127.0.0.1/jp/', countries: ['JP'], continent: 'AS', asn: 64496, score: 20 },
  ];
}

/** Renders the list through the product's own path: mirrors.yaml parsed, then mirrors.json. */
export function desiredFile(w: World, file: string, mirrors: readonly TestMirror[]): string {
  const yaml = mirrors
    .map((m) => {
      const lines = [`  - name: ${m.name}`, '    admin: { name: Mirror Team, email: mirror@example.org }'];
      for (const k of ['http', 'https', 'rsync', 'continent', 'comment'] as const) if (m[k]) lines.push(`    ${k}: ${JSON.stringify(m[k])}`);
      lines.push(`    countries: [${m.countries.join(', ')}]`);
      if (m.enabled !== undefined) lines.push(`    enabled: ${m.enabled}`);
      if (m.asn !== undefined) lines.push(`    asn: ${m.asn}`);
      if (m.score !== undefined) lines.push(`    score: ${m.score}`);
      return lines.join('\n');
    })
    .join('\n');
  const out = path.join(w.dir, file);
  fs.writeFileSync(out, renderDesiredMirrors(parseMirrorList(`mirrors:\n${yaml}\n`, file)));
  return out;
}

/** Mirror name -> numeric ID, from mirrorbits' MIRRORS hash (read only). */
export function ids(w: World): Record<string, string> {
  const flat = w.redis('HGETALL', 'MIRRORS').trim().split('\n');
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i + 1]] = flat[i];
  return out;
}

/** `logs NAME` line count per mirror: each write through the CLI adds one. */
export function logCounts(w: World, names: readonly string[]): Record<string, number> {
  return Object.fromEntries(names.map((n) => [n, w.cli('logs', n).stdout.split('\n').filter((l) => /^\d{4}-\d\d-\d\d /.test(l)).length]));
}

/** What mirrorbits keeps of a mirror's last scan (MIRROR_<id>) and its file index (HANDLEDFILES_<id>). */
export function scanState(w: World, name: string): { lastSuccessfulSync: string; handled: string[] } {
  const id = ids(w)[name];
  return {
    lastSuccessfulSync: w.redis('HGET', `MIRROR_${id}`, 'lastSuccessfulSync').trim(),
    handled: w.redis('SMEMBERS', `HANDLEDFILES_${id}`).trim().split('\n').filter(Boolean).sort(),
  };
}

/** `show NAME` as key -> value (the YAML part), plus Comment. */
export function show(w: World, name: string): Record<string, string> {
  const r = w.cli('show', name);
  if (r.status !== 0) throw new Error(`show ${name}: ${r.stderr}`);
  const [yaml, comment = ''] = r.stdout.split('\nComment:\n');
  const out: Record<string, string> = { Comment: comment.trim() };
  for (const l of yaml.split('\n')) {
    const m = /^(\w+): (.*)$/.exec(l);
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  return out;
}
