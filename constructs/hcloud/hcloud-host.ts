import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import { Annotations, Fn, TerraformResource, Token } from 'cdktf';
import { firewall, primaryIp, rdns, server, sshKey, volume, volumeAttachment } from './bindings/providers/hcloud';
import { registerIngressTable } from './policy';
import { HCLOUD_LOCATIONS, HcloudNodeSpec } from '../../lib/config/hcloud';
import { fillStandIns } from '../../lib/host/deploy-values';
import { HcloudMonitoring, hcloudVolumeDevice, renderHcloudPushedUserData, renderHcloudUserData } from '../../lib/host/hcloud/hcloud-host';
import { PushedBundle } from '../../lib/host/hcloud/pushed-bundle';
import { HostSpec } from '../../lib/host/host';
import { IngressRule, assertIngress } from '../../lib/host/ingress';
import { USER_DATA_LIMITS } from '../../lib/host/user-data';

export interface HcloudHostProps {
  /** What the machine is and runs (lib/host/host.ts). */
  readonly host: HostSpec;
  /** Location, server type, image, volume size, SSH keys (lib/config/hcloud.ts). */
  readonly spec: HcloudNodeSpec;
  /** Admin ports besides the role's ingress: SSH, node_exporter (hcloudAdminIngress). */
  readonly adminIngress: readonly IngressRule[];
  /** Where node_exporter may be scraped from; empty keeps it on loopback. */
  readonly monitoring: HcloudMonitoring;
  /** More labels on every resource (the role's own, e.g. the preset). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Tell the host its firewall's id (/etc/mirrorfleet/deploy.env), for a role that reads its firewall back. */
  readonly firewallIdOnHost?: boolean;
  /**
   * The deploy copies the bundle over SSH instead of the user data carrying it (pushed-bundle.ts):
   * for a role whose files outgrow Hetzner's 32 KiB and whose deploy already reaches the host.
   * The construct then copies `pushedBundle.text` itself.
   */
  readonly bundleByDeploy?: boolean;
}

/**
 * Server lifecycle (docs/adr/0014): user data, SSH keys and image are read
 * at first boot only, and changing them would replace the server (re-priced at the current rate,
 * a new certificate, minutes of downtime). Terraform ignores them; a config change reaches the
 * node by an explicit `terraform apply -replace=hcloud_server.<id>` (README: Deploy on Hetzner Cloud).
 */
export const SERVER_IGNORED_CHANGES = ['user_data', 'ssh_keys', 'image'];

/** Stand for the volume's and the firewall's ids while the user data is rendered (lib/host/deploy-values.ts). */
const VOLUME_ID_STAND_IN = 'MIRRORFLEETHCLOUDVOLUMEID';
const HCLOUD_FIREWALL_ID_STAND_IN = 'MIRRORFLEETHCLOUDFIREWALLID';

/** Terraform reads `${` and `%{` in any string as template syntax; the rendered text is literal. */
export const escapeTemplate = (s: string) => s.replace(/([$%])\{/g, (_, sigil: string) => `${sigil}${sigil}{`);

/**
 * One machine on Hetzner Cloud for any role (P2): a Debian 12 server with the role's cloud-init
 * user data, a protected data volume (N20), primary IPv4 and IPv6 that outlive the server, with
 * reverse DNS (N9), and a cloud firewall built from the ingress table (N22). A role's construct
 * extends it (HcloudMirrorNode).
 *
 * Terraform addresses are part of the contract (state, `-replace`, `-target`): with the id
 * "mirror" they are hcloud_server.mirror, hcloud_volume.mirror_data, hcloud_primary_ip.mirror_ipv4...
 */
export class HcloudHost extends Construct {
  readonly spec: HcloudNodeSpec;
  readonly server: server.Server;
  readonly volume: volume.Volume;
  readonly volumeAttachment: volumeAttachment.VolumeAttachment;
  readonly firewall: firewall.Firewall;
  /** What the firewall opens, as the table it is built from (lib/host/ingress.ts). */
  readonly ingress: readonly IngressRule[];
  readonly ipv4: primaryIp.PrimaryIp;
  readonly ipv6: primaryIp.PrimaryIp;
  readonly sshKeys: readonly sshKey.SshKey[];
  /** The server's IPv6 address: ::1 of its /64, the address Hetzner configures on the interface. */
  readonly ipv6Address: string;
  /** sha256 of the user data this config renders (volume id left out): changes when the config does. */
  readonly userDataSha256: string;
  /** With bundleByDeploy: the bundle the deploy must copy to the server. */
  readonly pushedBundle?: PushedBundle;

  constructor(scope: Construct, id: string, props: HcloudHostProps) {
    super(scope, id);
    const h = props.host;
    const spec = (this.spec = props.spec);
    const base = id.replace(/[^A-Za-z0-9_]/g, '_');
    const name = h.hostname;
    const labels = { 'mirrorfleet/role': h.role.kind, ...props.labels };
    const keep = (r: TerraformResource, logicalId: string) => r.overrideLogicalId(logicalId);

    // The rendered user data, checked against Hetzner's limit with the longest id it could hold.
    const deployValues = props.firewallIdOnHost ? { HCLOUD_FIREWALL_ID: HCLOUD_FIREWALL_ID_STAND_IN } : undefined;
    const device = hcloudVolumeDevice(VOLUME_ID_STAND_IN);
    let rendered: string;
    if (props.bundleByDeploy) {
      const r = renderHcloudPushedUserData(h, props.monitoring, device, undefined, deployValues);
      rendered = r.userData;
      this.pushedBundle = r.bundle;
    } else {
      rendered = renderHcloudUserData(h, props.monitoring, device, undefined, deployValues);
    }
    const size = Buffer.byteLength(rendered.split(VOLUME_ID_STAND_IN).join('9'.repeat(20)).split(HCLOUD_FIREWALL_ID_STAND_IN).join('9'.repeat(20)));
    if (size > USER_DATA_LIMITS.hcloud) {
      throw new Error(`${h.role.title} ${name}: the user data takes ${size} bytes, above Hetzner's limit of ${USER_DATA_LIMITS.hcloud}`);
    }
    this.userDataSha256 = createHash('sha256').update(rendered).digest('hex');

    // Not errors: facts of the market that may change (reference/pricing.md §2.1, §2.3).
    const loc = HCLOUD_LOCATIONS[spec.location];
    if (loc.includedTB < 20) {
      Annotations.of(this).addWarning(`${spec.location} (${loc.city}) includes about ${loc.includedTB} TB of traffic per server, not 20 TB as in the EU; each further TB costs about €${loc.eurPerExtraTB.toFixed(2)}`);
    }
    if (spec.serverTypeInfo && !spec.serverTypeInfo.orderable) {
      Annotations.of(this).addWarning(`Hetzner listed ${spec.serverType} as not available on 2026-09-03: ordering it may fail; the CPX and CCX types were orderable`);
    }

    this.ingress = [...h.role.ingress, ...props.adminIngress];
    assertIngress(this.ingress);
    this.firewall = new firewall.Firewall(this, 'Firewall', {
      name,
      labels,
      // A listed rule with nobody on its list (no tier-1 mirror yet) opens nothing.
      rule: this.ingress.filter((r) => r.cidrs.length > 0).map((r) => ({ direction: 'in', protocol: r.protocol, port: String(r.port), sourceIps: [...r.cidrs], description: r.description })),
    });
    registerIngressTable(this.firewall, this.ingress);
    keep(this.firewall, base);

    // Addresses outlive the server (auto_delete false) and are protected twice: Hetzner refuses to
    // delete them (delete_protection) and Terraform refuses to plan it (prevent_destroy).
    const ip = (family: 'ipv4' | 'ipv6') => {
      const r = new primaryIp.PrimaryIp(this, family === 'ipv4' ? 'Ipv4' : 'Ipv6', {
        name: `${name}-${family}`, type: family, location: spec.location, assigneeType: 'server',
        autoDelete: false, deleteProtection: true, labels, lifecycle: { preventDestroy: true },
      });
      keep(r, `${base}_${family}`);
      return r;
    };
    this.ipv4 = ip('ipv4');
    this.ipv6 = ip('ipv6');
    this.ipv6Address = Fn.cidrhost(this.ipv6.ipNetwork, 1);

    // The data volume: raw (no `format`, no automount); cloud-init formats it once, by label, and
    // mounts it at storage.mountPoint. Protected like the addresses, so destroying or replacing
    // the server never takes the mirror with it (N20).
    this.volume = new volume.Volume(this, 'Data', {
      name: `${name}-data`, size: spec.volumeGB, location: spec.location, deleteProtection: true, labels,
      lifecycle: { preventDestroy: true },
    });
    keep(this.volume, `${base}_data`);

    this.sshKeys = spec.sshPublicKeys.map((publicKey, i) => {
      const k = new sshKey.SshKey(this, `AdminKey${i + 1}`, { name: `${name}-admin-${i + 1}`, publicKey, labels });
      keep(k, `${base}_admin_${i + 1}`);
      return k;
    });

    this.server = new server.Server(this, 'Server', {
      name,
      serverType: spec.serverType,
      image: spec.image,
      location: spec.location,
      userData: fillStandIns(rendered, { volumeId: VOLUME_ID_STAND_IN, firewallId: HCLOUD_FIREWALL_ID_STAND_IN }, { volumeId: this.volume.id, firewallId: this.firewall.id })
        .map((p) => ('literal' in p ? escapeTemplate(p.literal) : p.value))
        .join(''),
      // None: Hetzner e-mails a root password for its web console; SSH stays closed (N22).
      sshKeys: spec.sshPublicKeys.length + spec.sshKeyNames.length > 0 ? [...this.sshKeys.map((k) => k.id), ...spec.sshKeyNames] : undefined,
      labels,
      // Attached at creation: there is no moment when the server is up without its firewall.
      firewallIds: [Token.asNumber(this.firewall.id)],
      publicNet: [{ ipv4Enabled: true, ipv4: Token.asNumber(this.ipv4.id), ipv6Enabled: true, ipv6: Token.asNumber(this.ipv6.id) }],
      backups: false,
      // A rescale keeps the disk size, so the server can be scaled down again.
      keepDisk: true,
      shutdownBeforeDeletion: true,
      lifecycle: { ignoreChanges: SERVER_IGNORED_CHANGES },
    });
    keep(this.server, base);

    this.volumeAttachment = new volumeAttachment.VolumeAttachment(this, 'DataAttachment', {
      volumeId: Token.asNumber(this.volume.id),
      serverId: Token.asNumber(this.server.id),
      automount: false,
    });
    keep(this.volumeAttachment, `${base}_data`);

    // Reverse DNS on both addresses, to the host name the certificate is issued for (N9).
    keep(new rdns.Rdns(this, 'Ipv4Ptr', { primaryIpId: Token.asNumber(this.ipv4.id), ipAddress: this.ipv4.ipAddress, dnsPtr: name }), `${base}_ipv4`);
    keep(new rdns.Rdns(this, 'Ipv6Ptr', { primaryIpId: Token.asNumber(this.ipv6.id), ipAddress: this.ipv6Address, dnsPtr: name }), `${base}_ipv6`);
  }
}
