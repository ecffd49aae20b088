/*
 * npm run bench:reconcile -- [--mirrors N] [--rounds R]
 *
 * mirrorfleet-reconcile against the obvious alternative, in the same run, on the same mirrorbits
 * (the stand-in, or the real binary MIRRORBITS_BIN names) with Redis in a network namespace: a
 * naive script that removes every mirror and adds them all again (add, edit, enable), as the
 * MSYS2 deployment does at each start. Timed for N mirrors (default 200): (a) from scratch,
 * (b) a run with nothing changed. Also counted: the log entries each run writes into mirrorbits
 * (one per write: the naive script's no-change run rewrites every mirror and gives each a new ID).
 * The last line is
 *   reconcile-bench: mirrors=N scratch_ratio=R1 nochange_ratio=R2   (ratio = naive time / reconciler time)
 * Needs root (ip netns), redis-server, python3. Run it under flock /tmp/mirrorfleet-bench.lock.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseMirrorList } from '../lib/project/mirrors';
import { renderDesiredMirrors } from '../lib/roles/redirector/desired-mirrors';
import { BACKEND, BIN, RECONCILER, World, startWorld } from '../test/redirector/world';
import { median } from './common';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const MIRRORS = option('--mirrors', 200);
const ROUNDS = option('--rounds', 3);
if (!Number.isInteger(MIRRORS) || MIRRORS < 1 || MIRRORS > 999 || !Number.isInteger(ROUNDS) || ROUNDS < 1) {
  console.error('usage: npm run bench:reconcile -- [--mirrors N (1-999)] [--rounds R]');
  process.exit(2);
}

const NAIVE = `#!/bin/bash
# remove every mirror, then add, edit (countries, continent) and enable each one
set -euo pipefail
mb() { "$MIRRORBITS_BIN" -h 127.0.0.1 -p 3390 "$@"; }
mb list -state=false | tail -n +2 | while read -r n; do [ -z "$n" ] || mb remove -f "$n" >/dev/null; done
[ "\${1:-}" = --remove-only ] && exit 0
while IFS=$'\\t' read -r name http cc cont; do
  mb add -http "$http" -admin-name "Mirror Team" -admin-email mirror@example.org "$name" >/dev/null
  CC="$cc" CONT="$cont" EDITOR="$NAIVE_EDITOR" mb edit "$name" >/dev/null
  mb enable "$name" >/dev/null
done < "$NAIVE_LIST"
`;
const NAIVE_EDITOR = `#!/bin/sh
sed -i -e "s/^CountryCodes: .*/CountryCodes: $CC/" -e "s/^ContinentCode: .*/ContinentCode: $CONT/" "$1"
`;

function mirrorsYaml(n: number): string {
  const lines = ['mirrors:'];
  for (let i = 1; i <= n; i++) {
    const name = `m${String(i).padStart(3, '0')}`;
    lines.push(`  - name: ${name}`, `    admin: { name: Mirror Team, email: mirror@example.org }`, `    http: http://127.0.0.1/${name}/`, `    countries: [${i % 2 ? 'FR' : 'DE'}]`, '    continent: EU');
  }
  return `${lines.join('\n')}\n`;
}

function timed(what: string, fn: () => { status: number; stdout: string; stderr: string }, ok: number[]): number {
  const start = process.hrtime.bigint();
  const r = fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (!ok.includes(r.status)) throw new Error(`${what}: exit ${r.status}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  return seconds;
}

/** Log entries per mirror ID (MIRRORLOGS_<id>): a removed mirror's go with it, a new mirror's are new. */
const logEntries = (w: World): Map<string, number> =>
  new Map(w.redis('KEYS', 'MIRRORLOGS_*').trim().split('\n').filter(Boolean).map((k) => [k, Number(w.redis('LLEN', k).trim())]));
const written = (before: Map<string, number>, after: Map<string, number>) =>
  [...after].reduce((sum, [k, n]) => sum + Math.max(0, n - (before.get(k) ?? 0)), 0);

async function round(): Promise<Record<string, { seconds: number; writes: number }>> {
  const w = await startWorld();
  try {
    const list = parseMirrorList(mirrorsYaml(MIRRORS), 'bench-mirrors.yaml');
    const desired = path.join(w.dir, 'mirrors.json');
    fs.writeFileSync(desired, renderDesiredMirrors(list));
    fs.writeFileSync(path.join(w.dir, 'naive.tsv'), list.mirrors.map((m) => [m.name, m.http, m.countries.join(' '), m.continent].join('\t')).join('\n') + '\n');
    fs.writeFileSync(path.join(w.dir, 'naive'), NAIVE, { mode: 0o755 });
    fs.writeFileSync(path.join(w.dir, 'naive-editor'), NAIVE_EDITOR, { mode: 0o755 });
    const env = [`MIRRORBITS_BIN=${BIN}`, `NAIVE_LIST=${w.dir}/naive.tsv`, `NAIVE_EDITOR=${w.dir}/naive-editor`];
    // In the namespace, with no time limit of its own (the tests' helpers stop a command at 60 s)
    const inNs = (cmd: string, a: string[]) => {
      const r = spawnSync('ip', ['netns', 'exec', w.ns.name, cmd, ...a], { encoding: 'utf8', maxBuffer: 64 << 20 });
      return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    };
    const naive = (...a: string[]) => inNs('env', [...env, path.join(w.dir, 'naive'), ...a]);
    const reconcile = () => inNs('env', [`MIRRORBITS_BIN=${BIN}`, 'MIRRORBITS_HOST=127.0.0.1', 'MIRRORBITS_PORT=3390', RECONCILER, desired]);
    const out: Record<string, { seconds: number; writes: number }> = {};
    const measure = (key: string, fn: () => ReturnType<typeof naive>, ok: number[]) => {
      const before = logEntries(w);
      const seconds = timed(key, fn, ok);
      out[key] = { seconds, writes: written(before, logEntries(w)) };
      console.log(`    ${key}: ${seconds.toFixed(1)} s, ${out[key].writes} log entries, load ${os.loadavg()[0].toFixed(2)}`);
    };
    measure('reconciler, from scratch', reconcile, [2]);
    measure('reconciler, no change', reconcile, [0]);
    measure('naive, no change', () => naive(), [0]);
    timed('naive removal', () => naive('--remove-only'), [0]);
    measure('naive, from scratch', () => naive(), [0]);
    return out;
  } finally {
    await w.stop();
  }
}

async function main(): Promise<void> {
  console.log(`reconcile-bench: ${MIRRORS} mirrors, ${ROUNDS} rounds, ${BACKEND}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const rounds: Record<string, { seconds: number; writes: number }>[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    rounds.push(await round());
    console.log(`  round ${i + 1}: ${Object.entries(rounds[i]).map(([k, v]) => `${k} ${v.seconds.toFixed(1)} s`).join(', ')}; load ${os.loadavg()[0].toFixed(2)}`);
  }
  const stat = (k: string) => {
    const xs = rounds.map((r) => r[k].seconds);
    return { med: median(xs), range: `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)} s`, writes: rounds[0][k].writes };
  };
  const row = (label: string, ours: string, theirs: string) => {
    const [a, b] = [stat(ours), stat(theirs)];
    console.log(`${label}: reconciler ${a.med.toFixed(1)} s (${a.range}, ${a.writes} log entries)   naive ${b.med.toFixed(1)} s (${b.range}, ${b.writes} log entries)   ratio ${(b.med / a.med).toFixed(1)}`);
    return b.med / a.med;
  };
  const r1 = row('(a) from scratch', 'reconciler, from scratch', 'naive, from scratch');
  const r2 = row('(b) no change   ', 'reconciler, no change', 'naive, no change');
  console.log(`reconcile-bench: mirrors=${MIRRORS} scratch_ratio=${r1.toFixed(1)} nochange_ratio=${r2.toFixed(1)}   (medians of ${ROUNDS}; load average now ${os.loadavg()[0].toFixed(2)})`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
