import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { NodeConfig } from '../config/node-config';
import { DATA_LABEL, DATA_VOLUME_WAIT_SECONDS, prepareDataVolumeCommand } from './data-volume';
import { NodeLayout, NODE_LAYOUT, SYNC_GROUP, SYNC_USER, TIER1_USER } from '../render/layout';
import { NodeFile, renderNodeFiles } from '../render/node-files';
import { tar } from './tar';

/** Cloud user-data limits: EC2 takes 16 KB (before base64), Hetzner 32 KiB. */
export const USER_DATA_LIMITS = { aws: 16 * 1024, hcloud: 32 * 1024 } as const;

/** Deploy-time values only the cloud knows. */
export interface UserDataBindings {
  /** The data volume's block device, e.g. /dev/disk/by-id/scsi-0HC_Volume_123 on Hetzner. */
  readonly dataDevice: string;
  /** A cloud's own node files (e.g. the AWS agents), appended to the bundle. */
  readonly extraFiles?: readonly NodeFile[];
  /** How long to wait at boot for the data volume to appear (DATA_VOLUME_WAIT_SECONDS). */
  readonly dataVolumeWaitSeconds?: number;
  /** Run at every boot before the data volume is prepared and mounted. */
  readonly bootcmd?: readonly (readonly string[])[];
  /** Run after the bundle is extracted, before mirrorfleet-provision. */
  readonly extraRuncmd?: readonly (readonly string[])[];
  /** More Debian packages (e.g. awscli to fetch the bundle). */
  readonly extraPackages?: readonly string[];
  /**
   * Commands that put the bundle at BUNDLE_PATH at first boot, instead of carrying it in the
   * user data (AWS: the bundle outgrew EC2's 16 KB). Get it from renderBundle(userDataFiles(...)).
   */
  readonly fetchBundle?: readonly (readonly string[])[];
}

/** Every file in a node's bundle: the renderers' and the cloud's own. */
export function userDataFiles(c: NodeConfig, bindings: Pick<UserDataBindings, 'extraFiles'> = {}): NodeFile[] {
  return [...renderNodeFiles(c, NODE_LAYOUT), ...(bindings.extraFiles ?? [])];
}

export const BUNDLE_PATH = '/var/lib/mirrorfleet/node-files.tar.gz';

/** The node files as one deterministic .tar.gz (same bytes for the same config). */
export function renderBundle(files: readonly NodeFile[]): Buffer {
  const gz = gzipSync(tar(files), { level: 9 });
  // The gzip header names the OS that wrote it; pin "Unix" so a deploy from macOS or Windows
  // yields the same bytes (and does not re-provision the node).
  gz[9] = 3;
  return gz;
}

/**
 * The #cloud-config that turns a clean Debian 12 instance into the node: packages, users,
 * the data volume (formatted only if blank), every rendered file, then mirrorfleet-provision.
 * Every node file travels in one gzip'd tar so every example fits EC2's 16 KB (docs/adr/0002).
 */
export function renderUserData(c: NodeConfig, bindings: UserDataBindings = { dataDevice: c.storage.device }): string {
  const l: NodeLayout = NODE_LAYOUT;
  const files = userDataFiles(c, bindings);
  const packages = [
    'apache2',
    'rsync',
    'curl',
    'ca-certificates',
    'unattended-upgrades',
    // host (bind9-host): mirrorfleet-cert's self-check asks DNS, not /etc/hosts, where the name points.
    ...(c.https.enabled ? ['certbot', 'bind9-host'] : []),
    ...(c.http.perIpConnectionLimit !== undefined ? ['nftables'] : []),
    // report_mirror starts with #!/usr/bin/env python
    ...(c.reports.reportMirror ? ['python3', 'python-is-python3'] : []),
    ...(c.storage.filesystem === 'xfs' ? ['xfsprogs'] : []),
    ...(bindings.extraPackages ?? []),
  ];
  const doc = {
    hostname: c.hostname.split('.')[0],
    fqdn: c.hostname,
    prefer_fqdn_over_hostname: true,
    // Set explicitly: a guide's "midnight local time" must not depend on the image default.
    timezone: c.timezone,
    ssh_pwauth: false,
    package_update: true,
    packages,
    groups: [SYNC_GROUP],
    users: [
      'default',
      systemUser(SYNC_USER, SYNC_GROUP, 'mirror sync (owns the trees)'),
      ...(c.rsync.private ? [systemUser(TIER1_USER, SYNC_GROUP, 'tier-1 rsync (reads pre-bitflip content)')] : []),
    ],
    // Every boot: wait for the volume, format it only if blank, refuse a foreign one (data-volume.ts).
    // Last, so its exit status is the bootcmd script's.
    bootcmd: [...(bindings.bootcmd ?? []), prepareDataVolumeCommand(c, bindings.dataDevice, bindings.dataVolumeWaitSeconds ?? DATA_VOLUME_WAIT_SECONDS.other)],
    mounts: [[`LABEL=${DATA_LABEL}`, c.storage.mountPoint, c.storage.filesystem, 'defaults,nofail,noatime,x-systemd.device-timeout=60s', '0', '2']],
    // Every node file in one gzip'd tar: the only way they fit EC2's 16 KB (docs/adr/0002).
    ...(bindings.fetchBundle ? {} : { write_files: [{ path: BUNDLE_PATH, permissions: '0600', encoding: 'b64', content: renderBundle(files).toString('base64'), defer: true }] }),
    runcmd: [
      ...(bindings.fetchBundle ?? []),
      ['tar', '--extract', '--gzip', '--touch', '--no-overwrite-dir', '--directory', '/', '--file', BUNDLE_PATH],
      ...(bindings.extraRuncmd ?? []),
      [`${l.binDir}/mirrorfleet-provision`],
    ],
  };
  const listing = files.map((f) => `#   ${f.mode} ${f.path}`).join('\n');
  return `#cloud-config\n# mirrorfleet: ${c.preset.title} mirror node ${c.hostname}\n# ${BUNDLE_PATH} holds (see \`mirrorfleet render\`):\n${listing}\n${stringify(doc, { lineWidth: 0 })}`;
}

function systemUser(name: string, group: string, gecos: string) {
  return { name, gecos, primary_group: group, system: true, no_create_home: true, homedir: '/nonexistent', shell: '/usr/sbin/nologin', lock_passwd: true };
}
