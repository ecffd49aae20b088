import * as fs from 'node:fs';
import * as path from 'node:path';
import { Node } from './node';
import { sleep, tail } from './sh';

/**
 * Reading a booted node's state from outside, and quoting what went wrong: cloud-init's own
 * status and errors, systemd's failed units with their journal lines. A node that fails is
 * reported with the first error it logged, not with a timeout.
 */

export interface BootWait {
  /** cloud-init's final stage finished (result.json written). */
  readonly finished: boolean;
  readonly seconds: number;
  /** Why it did not finish, quoted from the node (empty when it finished). */
  readonly problem: string;
}

/** Waits for cloud-init's final stage; gives up early when the node cannot get there. */
export async function waitForCloudInit(node: Node, timeoutMs = 240_000): Promise<BootWait> {
  const t0 = Date.now();
  const result = path.join(node.root, 'var/lib/cloud/data/result.json');
  let lastProbe = 0;
  for (;;) {
    const seconds = (Date.now() - t0) / 1000;
    if (fs.existsSync(result)) return { finished: true, seconds, problem: '' };
    if (!node.running) {
      return { finished: false, seconds, problem: `the container exited during boot; its console:\n${tail(node.bootOutput(), 40)}` };
    }
    if (Date.now() - lastProbe > 5000) {
      lastProbe = Date.now();
      // Boot finished (no jobs left) while cloud-init never wrote its result: it crashed or never ran.
      const state = node.exec(['systemctl', 'is-system-running']).stdout.trim();
      if (state === 'running' || state === 'degraded') {
        const finals = node.exec(['systemctl', 'show', '-p', 'ActiveState', '--value', 'cloud-final.service']).stdout.trim();
        if (finals !== 'activating' && finals !== 'active' && !fs.existsSync(result)) {
          return {
            finished: false,
            seconds,
            problem: `boot finished (${state}) but cloud-init's final stage never completed (cloud-final.service: ${finals}):\n${cloudInitStatus(node)}\n${failedUnitsReport(node)}`,
          };
        }
      }
    }
    if (Date.now() - t0 > timeoutMs) {
      return {
        finished: false,
        seconds,
        problem: `cloud-init did not finish in ${timeoutMs / 1000} s; last lines of /var/log/cloud-init-output.log:\n${tail(readNodeFile(node, '/var/log/cloud-init-output.log'), 25)}`,
      };
    }
    await sleep(500);
  }
}

/**
 * After cloud-init: the units mirrorfleet-provision started with --no-block (first sync, first
 * certificate attempt) run to their end. Returns the units still busy after the timeout.
 */
export async function waitForQuiet(node: Node, units: readonly string[], timeoutMs = 120_000): Promise<string[]> {
  const t0 = Date.now();
  for (;;) {
    const jobs = node.exec(['systemctl', 'list-jobs', '--no-legend', '--plain']).stdout.trim();
    const states = units.length ? node.exec(['systemctl', 'show', '-p', 'Id,ActiveState', ...units]).stdout : '';
    const busy = [...states.matchAll(/Id=(\S+)\nActiveState=(activating|deactivating|reloading)/g)].map((m) => m[1]);
    if (!jobs && busy.length === 0) return [];
    if (Date.now() - t0 > timeoutMs) return busy.length ? busy : [jobs];
    await sleep(500);
  }
}

export function readNodeFile(node: Node, p: string): string {
  try {
    return fs.readFileSync(path.join(node.root, p), 'utf8');
  } catch {
    return '';
  }
}

/** `cloud-init status --long` and the errors in result.json, quoted. */
export function cloudInitStatus(node: Node): string {
  const status = node.exec(['cloud-init', 'status', '--long']).stdout.trim();
  const errors = cloudInitErrors(node);
  return `$ cloud-init status --long\n${status}${errors.length ? `\nresult.json errors:\n${errors.map((e) => `  ${e}`).join('\n')}` : ''}`;
}

/** result.json's v1.errors (empty when cloud-init is happy). */
export function cloudInitErrors(node: Node): string[] {
  const text = readNodeFile(node, '/var/lib/cloud/data/result.json');
  if (!text) return ['no /var/lib/cloud/data/result.json'];
  try {
    return (JSON.parse(text).v1?.errors ?? []) as string[];
  } catch (e) {
    return [`unreadable result.json: ${(e as Error).message}`];
  }
}

/**
 * The lines of cloud-init's logs that say what failed: apt's E: lines, cloud-init's own
 * WARNING/ERROR lines (a module failing), and the provisioning script's messages.
 */
export function cloudInitErrorLines(node: Node): string[] {
  const output = readNodeFile(node, '/var/log/cloud-init-output.log');
  const log = readNodeFile(node, '/var/log/cloud-init.log');
  const picked = [
    ...output.split('\n').filter((l) => /^(E: |W: Failed|mirrorfleet: |mirrorfleet-provision: |mirrorfleet-data-volume: refusing|mirrorfleet-data-volume: no |.*\bFAILED\b|.*[Ee]rror:|.*\bfailed\b)/.test(l) && !/^\s*$/.test(l)),
    ...log.split('\n').filter((l) => / - [a-z_/.]+\.py\[(WARNING|ERROR|CRITICAL)\]/.test(l) && !/Running module|Unhandled non-multipart|No such file or directory: '\/var\/lib\/cloud\/data\/|use_fqdn/.test(l)),
  ];
  return [...new Set(picked)].slice(0, 20);
}

/** `systemctl --failed` and, for each failed unit, its status lines and journal. */
export function failedUnits(node: Node): string[] {
  return node
    .exec(['systemctl', '--failed', '--no-legend', '--plain', '--all'])
    .stdout.split('\n')
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean);
}

export function failedUnitsReport(node: Node): string {
  const units = failedUnits(node);
  if (units.length === 0) return '$ systemctl --failed\n(none)';
  const parts = [`$ systemctl --failed\n${node.exec(['systemctl', '--failed', '--no-legend', '--plain']).stdout.trim()}`];
  for (const u of units) parts.push(`$ journalctl -u ${u}\n${unitJournal(node, u, 12)}`);
  return parts.join('\n');
}

export function unitJournal(node: Node, unit: string, lines = 15): string {
  return node.exec(['journalctl', '--no-pager', '-o', 'short-monotonic', '-n', String(lines), '-u', unit]).stdout.trim();
}

/** systemctl show for a few properties of one unit. */
export function unitProps(node: Node, unit: string, props: readonly string[]): Record<string, string> {
  const out = node.exec(['systemctl', 'show', unit, ...props.map((p) => `-p${p}`)]).stdout;
  const r: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) r[line.slice(0, i)] = line.slice(i + 1);
  }
  return r;
}

/** Everything a failed boot check quotes: cloud-init, failed units, the logs' error lines. */
export function diagnosis(node: Node): string {
  const lines = cloudInitErrorLines(node);
  return [cloudInitStatus(node), failedUnitsReport(node), lines.length ? `errors logged during provisioning:\n${lines.join('\n')}` : ''].filter(Boolean).join('\n');
}
