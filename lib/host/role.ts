import type { HostFile } from './files';
import type { IngressRule } from './ingress';
import type { MetricName } from './metrics';

/*
 * The seam between a machine and what it runs. A host (lib/host/host.ts) is the same for every
 * role: packages every machine needs, the data volume, unattended upgrades, the certificate, the
 * metrics agent of its cloud, the provisioning entry point. A role (the mirror node today; the
 * project's master and redirector next) declares what it adds, and the host renders the user data
 * and the firewall from that declaration alone.
 */

/** A system account a role runs its services as. */
export interface SystemUser {
  readonly name: string;
  readonly group: string;
  readonly gecos: string;
  /** A login shell, for an account that runs a forced command over SSH; default none (nologin). */
  readonly shell?: string;
  /** Its home, for an SSH login (sshd changes into it); default none (/nonexistent). */
  readonly home?: string;
}

export interface HostRole {
  /** e.g. "mirror-node": labels and tags. */
  readonly kind: string;
  /** One line for humans: "XCP-ng mirror node". */
  readonly title: string;
  /** Debian packages the role needs besides the host's. */
  readonly packages: readonly string[];
  readonly groups: readonly string[];
  readonly users: readonly SystemUser[];
  /** Every file of the role: rendered configs, its units, the scripts it ships from assets/. */
  readonly files: readonly HostFile[];
  /** Units enabled (and started) at provisioning: timers and daemons. */
  readonly enableUnits: readonly string[];
  /** Units started once, without waiting, when provisioning ends (a first sync). */
  readonly startUnits: readonly string[];
  /** The role's own provisioning step, an installed script run by mirrorfleet-provision. */
  readonly provisionStep: string;
  /** Who owns the metrics directory: the account whose scripts write most of it. */
  readonly metricsOwner: string;
  /** What the role admits (lib/host/ingress.ts); the host adds its admin ports per cloud. */
  readonly ingress: readonly IngressRule[];
  /** The metrics the role's scripts write (lib/host/metrics.ts). */
  readonly metrics: readonly MetricName[];
  /** Static textfile metrics the alert rules compare against (intervals, mount points). */
  readonly staticMetrics: string;
}
