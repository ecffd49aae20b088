import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CheckContext, attempt, primary, record } from './context';
import { parseModules, probeFile, rsyncBase, runRsync } from './rsync-client';

/*
 * Public rsync (N10): the module list shows every tree, an upload is refused (a dry run: nothing
 * is written even where it is accepted), and --checksum is refused. The checksum probe asks for a
 * few small files only, so a server that does not refuse it reads little.
 */

export async function rsyncListCheck(ctx: CheckContext): Promise<void> {
  const addr = primary(ctx.target);
  const r = await attempt(ctx, 'rsync-list', 'rsync lists the modules', async () => {
    const run = await runRsync(['--list-only', rsyncBase(addr, ctx.target.ports.rsync)], addr, ctx.budget);
    if (run.status !== 0) return ['fail', `${rsyncBase(addr, ctx.target.ports.rsync)}: exit ${run.status}: ${firstLine(run.output)}`];
    const modules = parseModules(run.output);
    const missing = ctx.target.trees.map((t) => t.module).filter((m) => !modules.includes(m));
    return missing.length === 0 ? ['pass', `lists ${modules.join(', ')}`] : ['fail', `lists ${modules.join(', ') || 'nothing'}; missing ${missing.join(', ')}`];
  });
  ctx.rsyncServed = r.status === 'pass';
}

export async function rsyncProbes(ctx: CheckContext): Promise<void> {
  const addr = primary(ctx.target);
  const module = ctx.target.trees[0].module;
  const base = `${rsyncBase(addr, ctx.target.ports.rsync)}${module}/`;
  if (!ctx.rsyncServed) {
    const why = 'rsync does not answer (see rsync-list)';
    record(ctx, 'rsync-read-only', 'an rsync upload is refused', 'skipped', why);
    record(ctx, 'rsync-checksum', 'rsync --checksum is refused', 'skipped', why);
    return;
  }
  await attempt(ctx, 'rsync-read-only', 'an rsync upload is refused', async () => {
    const file = probeFile();
    try {
      const r = await runRsync(['--dry-run', file, `${base}.mirrorfleet-upload-probe`], addr, ctx.budget);
      const refused = r.status !== 0 && /read only|read-only/i.test(r.output);
      return refused ? ['pass', firstLine(r.output, /read.only/i)] : ['fail', r.status === 0 ? `a dry-run upload to ${base} was accepted: the module is writable` : `exit ${r.status}, not a read-only refusal: ${firstLine(r.output)}`];
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });
  await attempt(ctx, 'rsync-checksum', 'rsync --checksum is refused', async () => {
    // The smallest thing known on the mirror: the metadata file or its trace directory.
    const rel = ctx.samples.metadata?.tree === 0 ? ctx.samples.metadata.rel : ctx.samples.trace ? 'project/trace/' : '';
    const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'mirrorfleet-check-'));
    try {
      const r = await runRsync(['--dirs', '--checksum', '--dry-run', `${base}${rel}`, `${dest}/`], addr, ctx.budget);
      const refused = r.status !== 0 && /checksum|-c\b/.test(r.output);
      return refused ? ['pass', firstLine(r.output, /checksum/)] : ['fail', r.status === 0 ? `rsync -c --dry-run ${base}${rel} was served: the server reads whole files for anyone who asks` : `exit ${r.status}, not a checksum refusal: ${firstLine(r.output)}`];
    } finally {
      fs.rmSync(dest, { recursive: true, force: true });
    }
  });
}

const firstLine = (text: string, re?: RegExp) => (text.split('\n').find((l) => (re ? re.test(l) : l.trim() !== '')) ?? text).trim().slice(0, 200);
