import { Node } from './node';
import { cloudInitErrorLines, cloudInitErrors, cloudInitStatus, failedUnits, failedUnitsReport } from './inspect';

/**
 * The verdict on a booted node, the way the boot test (and its negative cases) judge it:
 * cloud-init done without errors, systemd "running", no failed unit. Whatever is wrong is
 * quoted from the node: cloud-init's status and result.json errors, the apt/provisioning error
 * lines from its logs, and each failed unit's journal (e.g. "Failed at step EXEC").
 */
export interface Assessment {
  readonly cloudInitDone: boolean;
  readonly cloudInitErrors: string[];
  readonly systemState: string;
  readonly failedUnits: string[];
  readonly ok: boolean;
  /** The evidence, ready to print. */
  readonly quote: string;
}

export function assess(node: Node): Assessment {
  const statusText = node.exec(['cloud-init', 'status']).stdout.trim();
  const cloudInitDone = /^status: done$/m.test(statusText);
  const errors = cloudInitErrors(node);
  const systemState = node.exec(['systemctl', 'is-system-running']).stdout.trim();
  const failed = failedUnits(node);
  const ok = cloudInitDone && errors.length === 0 && systemState === 'running' && failed.length === 0;
  const lines = cloudInitErrorLines(node);
  const quote = [
    cloudInitStatus(node),
    `$ systemctl is-system-running\n${systemState}`,
    failedUnitsReport(node),
    lines.length ? `error lines in /var/log/cloud-init*.log:\n${lines.join('\n')}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  return { cloudInitDone, cloudInitErrors: errors, systemState, failedUnits: failed, ok, quote };
}
