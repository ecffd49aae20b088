import { NODE_LAYOUT, NodeLayout, acmeWebroot } from '../render/layout';
import { renderShellVars } from '../render/shell';
import { CERTIFICATE_PACKAGES, CERT_TIMER, CertificateSettings, certificateFiles } from './certificate';
import { HostFile, assetScript, presentFiles } from './files';
import { HostRole } from './role';

/*
 * A machine, whatever it runs: its name and zone, its data volume, its certificate, and the role
 * it carries (lib/host/role.ts). Everything here is the same for a mirror node, a master and a
 * redirector; the clouds add their own files through UserDataBindings (lib/host/user-data.ts).
 */

export interface DataVolumeSettings {
  readonly mountPoint: string;
  readonly filesystem: 'ext4' | 'xfs';
  /** The data disk when no cloud construct names it (the generic user data, the boot proof). */
  readonly device: string;
}

export interface HostSpec {
  /** The fully qualified name the certificate is issued for. */
  readonly hostname: string;
  /** Set explicitly: a guide's "midnight local time" must not depend on the image default. */
  readonly timezone: string;
  readonly dataVolume: DataVolumeSettings;
  /** Absent: the host serves no HTTPS and requests no certificate. */
  readonly certificate?: CertificateSettings;
  readonly role: HostRole;
}

/** Packages every host gets, then the certificate's and the file system's. */
export function hostPackages(h: HostSpec): string[] {
  return [
    'curl',
    'ca-certificates',
    'unattended-upgrades',
    ...(h.certificate ? CERTIFICATE_PACKAGES : []),
    ...(h.dataVolume.filesystem === 'xfs' ? ['xfsprogs'] : []),
  ];
}

/** Units the host enables at provisioning: the role's, then the certificate's retry timer. */
export const hostEnableUnits = (h: HostSpec): string[] => [...h.role.enableUnits, ...(h.certificate ? [CERT_TIMER] : [])];

/** Every file the host installs: the role's, then the host's own (upgrades, certificate, provisioning). */
export function hostFiles(h: HostSpec, l: NodeLayout = NODE_LAYOUT): HostFile[] {
  return presentFiles([
    ...h.role.files,
    { path: '/etc/apt/apt.conf.d/20auto-upgrades', content: AUTO_UPGRADES, mode: '0644' },
    ...(h.certificate ? certificateFiles(h.certificate, l) : []),
    { path: `${l.etcDir}/host.env`, content: renderHostEnv(h, l), mode: '0644' },
    assetScript('mirrorfleet-provision', l.binDir),
  ]);
}

/** Security updates install themselves (N22). */
const AUTO_UPGRADES = `// mirrorfleet: unattended security upgrades (N22)
APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
`;

/** host.env: what mirrorfleet-provision needs to finish any host at first boot. */
export function renderHostEnv(h: HostSpec, l: NodeLayout = NODE_LAYOUT): string {
  return renderShellVars(`mirrorfleet: first-boot settings for ${h.hostname} (${h.role.title}), read by mirrorfleet-provision.`, {
    HOST_NAME: h.hostname,
    ROLE: h.role.kind,
    MOUNT_POINT: h.dataVolume.mountPoint,
    METRICS_DIR: l.metricsDir,
    METRICS_OWNER: h.role.metricsOwner,
    ACME_WEBROOT: acmeWebroot(l),
    HTTPS: h.certificate !== undefined,
    ROLE_STEP: h.role.provisionStep,
    ENABLE_UNITS: hostEnableUnits(h),
    START_UNITS: h.role.startUnits,
  });
}
