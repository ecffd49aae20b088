import { NODE_EXPORTER_PORT } from '../../config/hcloud';

import { NodeLayout } from '../../render/layout';

/*
 * What only a Hetzner node runs (N21 where CloudWatch does not exist): Debian's
 * prometheus-node-exporter with the textfile collector reading the sync's metrics, plus the
 * figures the alert rules in assets/prometheus/ compare against (each tree's sync interval, the
 * data volume's mount point). The rules are static; the node publishes its own thresholds.
 */

export const NODE_EXPORTER_PACKAGE = 'prometheus-node-exporter';
export const NODE_EXPORTER_SERVICE = 'prometheus-node-exporter.service';
/** Our settings, read by the unit through the drop-in below. */
export const nodeExporterEnvPath = (l: NodeLayout) => `${l.etcDir}/node-exporter.env`;
export const nodeExporterDropInPath = (l: NodeLayout) => `${l.systemdDir}/${NODE_EXPORTER_SERVICE}.d/mirrorfleet.conf`;
export const nodeMetricsPath = (l: NodeLayout) => `${l.metricsDir}/mirrorfleet_node.prom`;

/**
 * node_exporter's arguments: the textfile collector on our metrics directory; on loopback only
 * unless Prometheus servers are listed (then on every address, IPv4 and IPv6, and the cloud
 * firewall opens the port to those servers alone).
 */
export function nodeExporterArgs(openToPrometheus: boolean, l: NodeLayout, listen?: readonly string[]): string[] {
  const addresses = listen ?? (openToPrometheus ? [`:${NODE_EXPORTER_PORT}`] : [`127.0.0.1:${NODE_EXPORTER_PORT}`, `[::1]:${NODE_EXPORTER_PORT}`]);
  return [`--collector.textfile.directory=${l.metricsDir}`, ...addresses.map((a) => `--web.listen-address=${a}`)];
}

export function renderNodeExporterEnv(openToPrometheus: boolean, l: NodeLayout, listen?: readonly string[]): string {
  return `# mirrorfleet: prometheus-node-exporter settings (N21), read through ${nodeExporterDropInPath(l)}.
ARGS="${nodeExporterArgs(openToPrometheus, l, listen).join(' ')}"
`;
}

/**
 * A drop-in rather than an edit of /etc/default/prometheus-node-exporter: that file is the
 * package's conffile, and a changed conffile stops unattended-upgrades from upgrading the package.
 * The empty assignment drops the package's EnvironmentFile, so only ours is read.
 */
export function renderNodeExporterDropIn(l: NodeLayout): string {
  return `# mirrorfleet: node_exporter reads mirrorfleet's settings (N21)
[Service]
EnvironmentFile=
EnvironmentFile=${nodeExporterEnvPath(l)}
`;
}
