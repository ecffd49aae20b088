import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrafficBudget } from './budget';

/*
 * The checker's rsync side: the rsync binary, as a mirror or the project's crawler would run it,
 * each run counted against the traffic budget, bounded in connect time, I/O time and output.
 * Listings are read with TZ=UTC so the times they print are UTC.
 */

export interface RsyncRun {
  readonly status: number;
  readonly output: string;
}

export interface RsyncEntry {
  readonly name: string;
  readonly type: 'd' | 'f' | 'l';
  readonly size: number;
  /** Modification time, ms since the epoch. */
  readonly mtime: number;
}

/** rsync://address:port/ with the address bracketed when it is IPv6. */
export const rsyncBase = (address: string, port: number) => `rsync://${address.includes(':') ? `[${address}]` : address}${port === 873 ? '' : `:${port}`}/`;

const MAX_OUTPUT = 256 * 1024;

export function runRsync(args: readonly string[], address: string, budget: TrafficBudget, timeoutMs = 20_000): Promise<RsyncRun> {
  budget.take(address, `rsync ${args[args.length - 1]}`);
  const ms = budget.remainingMs(timeoutMs);
  return new Promise((resolve) => {
    const child = spawn('rsync', ['--contimeout=5', '--timeout=10', ...args], { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const add = (d: Buffer) => {
      out += d.toString();
      if (out.length > MAX_OUTPUT) child.kill('SIGKILL');
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', (e) => resolve({ status: -1, output: `rsync could not run: ${e.message}` }));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, output: signal ? `${out}\n(stopped: no end within ${(ms / 1000).toFixed(0)} s or more than ${MAX_OUTPUT} bytes of output)` : out });
    });
  });
}

/** Module names of a daemon's list. */
export function parseModules(output: string): string[] {
  return output.split('\n').map((l) => /^(\S+)\s/.exec(l)?.[1] ?? (/^\S+$/.test(l.trim()) ? l.trim() : '')).filter(Boolean);
}

/** `rsync --list-only --no-h` lines: "drwxr-xr-x 4096 2026/01/01 00:00:00 name" (UTC). */
export function parseListing(output: string): RsyncEntry[] {
  const out: RsyncEntry[] = [];
  for (const line of output.split('\n')) {
    const m = /^([dl-])[rwxsStT-]{9}\s+([\d,]+)\s+(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d) (.+)$/.exec(line);
    if (!m) continue;
    const [, t, size, y, mo, d, h, mi, s, name] = m;
    const mtime = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
    out.push({ name: t === 'l' ? name.replace(/ -> .*$/, '') : name, type: t === '-' ? 'f' : (t as 'd' | 'l'), size: Number(size.replace(/,/g, '')), mtime });
  }
  return out;
}

/** A one-line file to offer in the upload probe (a dry run: nothing is written even where it is accepted). */
export function probeFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirrorfleet-check-'));
  const f = path.join(dir, 'upload-probe');
  fs.writeFileSync(f, 'mirrorfleet check: upload probe\n');
  return f;
}
