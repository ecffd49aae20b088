import { TreeConfig } from '../../config/node-config';

/*
 * The node's metrics on CloudWatch (N20, N21) and when they mean trouble. The CloudWatch agent
 * collects disk and memory itself and listens for StatsD on loopback; mirrorfleet-aws turns the
 * node's textfile metrics into StatsD gauges (docs/adr/0009). The alarms are built from the names
 * and dimensions below, so what the node sends and what the alarms watch cannot drift apart.
 */

export const CW_NAMESPACE = 'MirrorFleet';
export const STATSD_PORT = 8125;

/** Debian's EC2 images have an ext4 root file system; the agent reports it as a dimension. */
export const ROOT_FSTYPE = 'ext4';

/**
 * Dimensions besides InstanceId (appended by the agent to every metric). The agent tags every
 * StatsD metric with metric_type (amazon-cloudwatch-agent plugins/inputs/statsd); `drop_device`
 * keeps the NVMe device name, which can change between boots, out of the disk metrics.
 */
export const metricDimensions = {
  disk: (path: string, fstype: string) => ({ path, fstype }),
  mem: () => ({}),
  tree: (t: TreeConfig) => ({ metric_type: 'gauge', tree: t.name }),
  cert: () => ({ metric_type: 'gauge' }),
};

export const CLOUDWATCH_AGENT_CONFIG_PATH = '/etc/mirrorfleet/cloudwatch-agent.json';

/** The agent's JSON config: disk of root and data volume, memory, and the StatsD listener. */
export function renderCloudWatchAgentConfig(dataMountPoint: string): string {
  const config = {
    agent: { metrics_collection_interval: 60, run_as_user: 'cwagent' },
    metrics: {
      namespace: CW_NAMESPACE,
      append_dimensions: { InstanceId: '${aws:InstanceId}' },
      metrics_collected: {
        disk: { resources: ['/', dataMountPoint], measurement: ['used_percent'], drop_device: true },
        mem: { measurement: ['used_percent'] },
        statsd: { service_address: `127.0.0.1:${STATSD_PORT}`, metrics_collection_interval: 60, metrics_aggregation_interval: 60 },
      },
    },
  };
  return `${JSON.stringify(config, null, 1)}\n`;
}
