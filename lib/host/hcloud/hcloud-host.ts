import { NODE_LAYOUT, NodeLayout } from '../../render/layout';
import { DATA_VOLUME_WAIT_SECONDS } from '../data-volume';
import { HostFile } from '../files';
import { HostSpec } from '../host';
import { UserDataBindings, renderUserData, userDataFiles } from '../user-data';
import { PushedBundle, renderPushedBundle } from './pushed-bundle';
import {
  NODE_EXPORTER_PACKAGE,
  NODE_EXPORTER_SERVICE,
  nodeExporterDropInPath,
  nodeExporterEnvPath,
  nodeMetricsPath,
  renderNodeExporterDropIn,
  renderNodeExporterEnv,

} from './node-exporter';

/*
 * What only a Hetzner node adds to the common user data (the counterpart of aws-node.ts):
 * node_exporter's files in the bundle, a longer wait for the volume, node_exporter installed
 * after the bundle is extracted.
 */

/** Hetzner volumes appear under their id (https://docs.hetzner.com/cloud/volumes/overview). */
export const hcloudVolumeDevice = (volumeId: string) => `/dev/disk/by-id/scsi-0HC_Volume_${volumeId}`;

/** What Hetzner's monitoring needs on the host; no metricsCidrs keeps node_exporter on loopback. */
export interface HcloudMonitoring {
  readonly metricsCidrs: readonly string[];
}

export function renderHcloudHostFiles(h: HostSpec, m: HcloudMonitoring, l: NodeLayout): HostFile[] {
  return [
    { path: nodeExporterEnvPath(l), content: renderNodeExporterEnv(m.metricsCidrs.length > 0, l), mode: '0644' },
    { path: nodeExporterDropInPath(l), content: renderNodeExporterDropIn(l), mode: '0644' },
    { path: nodeMetricsPath(l), content: h.role.staticMetrics, mode: '0644' },
  ];
}

/**
 * The user-data bindings of a Hetzner node. node_exporter is installed after the bundle is
 * extracted, so its first start already reads our drop-in (never listening on every address).
 */
export function hcloudUserDataBindings(h: HostSpec, m: HcloudMonitoring, dataDevice: string, l: NodeLayout = NODE_LAYOUT, deployValues?: Readonly<Record<string, string>>): UserDataBindings {
  return {
    dataDevice,
    deployValues,
    extraFiles: renderHcloudHostFiles(h, m, l),
    // The volume is attached after the server is created.
    dataVolumeWaitSeconds: DATA_VOLUME_WAIT_SECONDS.hcloud,
    extraRuncmd: [
      ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '--no-install-recommends', NODE_EXPORTER_PACKAGE],
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', NODE_EXPORTER_SERVICE],
      ['systemctl', 'restart', NODE_EXPORTER_SERVICE],
    ],
  };
}

/** The #cloud-config of a Hetzner host whose data volume is at `dataDevice`, its bundle inline. */
export function renderHcloudUserData(h: HostSpec, m: HcloudMonitoring, dataDevice: string, l: NodeLayout = NODE_LAYOUT, deployValues?: Readonly<Record<string, string>>): string {
  return renderUserData(h, hcloudUserDataBindings(h, m, dataDevice, l, deployValues));
}

/** The #cloud-config of a Hetzner host that waits for the deploy to copy its bundle (pushed-bundle.ts), and that bundle. */
export function renderHcloudPushedUserData(h: HostSpec, m: HcloudMonitoring, dataDevice: string, l: NodeLayout = NODE_LAYOUT, deployValues?: Readonly<Record<string, string>>): { userData: string; bundle: PushedBundle } {
  const bindings = hcloudUserDataBindings(h, m, dataDevice, l, deployValues);
  const files = userDataFiles(h, bindings);
  const bundle = renderPushedBundle(files);
  return { userData: renderUserData(h, { ...bindings, fetchBundle: bundle.fetchBundle }, files), bundle };
}
