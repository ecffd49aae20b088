import { stringify } from 'yaml';
import { NODE_LAYOUT } from '../render/layout';
import { BUNDLE_PATH } from './bundle';
import { DECODE_INLINE_BUNDLE, INLINE_BUNDLE_PATH, INLINE_TAR_PATH, renderInlineBundle } from './inline-bundle';
import { DATA_LABEL, DATA_VOLUME_WAIT_SECONDS, prepareDataVolumeCommand, DATA_MOUNT_OPTIONS } from './data-volume';
import { HostFile } from './files';
import { HostSpec, hostFiles, hostPackages } from './host';
import { SystemUser } from './role';
import { renderShellVars } from '../render/shell';

/** Cloud user-data limits: EC2 takes 16 KB (before base64), Hetzner 32 KiB. */
export const USER_DATA_LIMITS = { aws: 16 * 1024, hcloud: 32 * 1024 } as const;

/** Deploy-time values only the cloud knows. */
export interface UserDataBindings {
  /** The data volume's block device, e.g. /dev/disk/by-id/scsi-0HC_Volume_123 on Hetzner. */
  readonly dataDevice: string;
  /** A cloud's own node files (e.g. the AWS agents), appended to the bundle. */
  readonly extraFiles?: readonly HostFile[];
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
  /**
   * Values only the deploy knows (the host's firewall id…), written as DEPLOY_ENV_PATH outside the
   * bundle, so the cloud's construct can fill its stand-ins in (lib/host/deploy-values.ts).
   */
  readonly deployValues?: Readonly<Record<string, string>>;
}

/** Where the user data writes the deploy-time values, as shell variables. */
export const DEPLOY_ENV_PATH = '/etc/mirrorfleet/deploy.env';

/** Every file in a host's bundle: the role's, the host's and the cloud's own. */
export function userDataFiles(h: HostSpec, bindings: Pick<UserDataBindings, 'extraFiles'> = {}): HostFile[] {
  return [...hostFiles(h, NODE_LAYOUT), ...(bindings.extraFiles ?? [])];
}

/**
 * The #cloud-config that turns a clean Debian 12 instance into the host: packages, users, the
 * data volume (formatted only if blank), every file of the role and the host, then
 * mirrorfleet-provision. Every file travels in one tar: fetched as .tar.gz (AWS, docs/adr/0002),
 * or inline, LZMA-compressed and base85-encoded (docs/adr/0059). `files` is userDataFiles(h, bindings), for a caller that already has it.
 */
export function renderUserData(h: HostSpec, bindings: UserDataBindings = { dataDevice: h.dataVolume.device }, files: readonly HostFile[] = userDataFiles(h, bindings)): string {
  const l = NODE_LAYOUT;
  const v = h.dataVolume;
  const doc = {
    hostname: h.hostname.split('.')[0],
    fqdn: h.hostname,
    prefer_fqdn_over_hostname: true,
    timezone: h.timezone,
    ssh_pwauth: false,
    package_update: true,
    packages: [...h.role.packages, ...hostPackages(h), ...(bindings.extraPackages ?? [])],
    ...(h.role.groups.length > 0 ? { groups: [...h.role.groups] } : {}),
    users: ['default', ...h.role.users.map(systemUser)],
    // Every boot: wait for the volume, format it only if blank, refuse a foreign one (data-volume.ts).
    // Last, so its exit status is the bootcmd script's.
    bootcmd: [...(bindings.bootcmd ?? []), prepareDataVolumeCommand(v.filesystem, bindings.dataDevice, bindings.dataVolumeWaitSeconds ?? DATA_VOLUME_WAIT_SECONDS.other)],
    mounts: [[`LABEL=${DATA_LABEL}`, v.mountPoint, v.filesystem, DATA_MOUNT_OPTIONS, '0', '2']],
    ...writeFiles(bindings, files),
    runcmd: [
      ...(bindings.fetchBundle ?? [['python3', '-c', DECODE_INLINE_BUNDLE, INLINE_BUNDLE_PATH, INLINE_TAR_PATH]]),
      bindings.fetchBundle
        ? ['tar', '--extract', '--gzip', '--touch', '--no-overwrite-dir', '--directory', '/', '--file', BUNDLE_PATH]
        : ['tar', '--extract', '--touch', '--no-overwrite-dir', '--directory', '/', '--file', INLINE_TAR_PATH],
      ...(bindings.extraRuncmd ?? []),
      [`${l.binDir}/mirrorfleet-provision`],
    ],
  };
  const listing = files.map((f) => `#   ${f.mode} ${f.path}`).join('\n');
  return `#cloud-config\n# mirrorfleet: ${h.role.title} ${h.hostname}\n# ${bindings.fetchBundle ? BUNDLE_PATH : INLINE_BUNDLE_PATH} holds (see \`mirrorfleet render\`):\n${listing}\n${stringify(doc, { lineWidth: 0 })}`;
}

/** The bundle, unless the cloud fetches it, and the deploy-time values. */
function writeFiles(bindings: UserDataBindings, files: readonly HostFile[]) {
  const entries = [
    ...(bindings.fetchBundle ? [] : [{ path: INLINE_BUNDLE_PATH, permissions: '0600', content: renderInlineBundle(files), defer: true }]),
    ...(bindings.deployValues
      ? [{ path: DEPLOY_ENV_PATH, permissions: '0644', content: renderShellVars('mirrorfleet: values the deploy filled in (cloud-init writes this file).', bindings.deployValues) }]
      : []),
  ];
  return entries.length > 0 ? { write_files: entries } : {};
}

function systemUser(u: SystemUser) {
  return { name: u.name, gecos: u.gecos, primary_group: u.group, system: true, no_create_home: true, homedir: u.home ?? '/nonexistent', shell: u.shell ?? '/usr/sbin/nologin', lock_passwd: true };
}
