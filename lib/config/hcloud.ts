import { HCLOUD_PRICES } from '../cost/prices';
import { IngressRule, checkIngress, listedRule } from '../host/ingress';
import { memoryNeedGiB } from './aws';
import { NodeConfig } from './node-config';
import { Problem, didYouMean, formatPath } from './problems';
import type { MirrorConfigInput } from './schema';

/*
 * What a Hetzner Cloud node is made of, decided from the config alone (N20, N22, N23): location,
 * server type, image, volume, firewall sources. Pure data and arithmetic, so every rule is
 * unit-tested without cdktf and every rejection points at the YAML line it comes from.
 * Figures: /work/shared/reference/pricing.md §2; prices from the price table, lib/cost/prices.ts.
 */

/**
 * Hetzner Cloud locations (pricing.md §2.6; network zones from
 * https://docs.hetzner.com/cloud/networks/faq, last change 2024-12-11). Included traffic per
 * server and its overage price: the price table (20 TB in the EU; about 1 TB in the US and Singapore).
 */
const T = HCLOUD_PRICES.traffic;
export const HCLOUD_LOCATIONS = {
  fsn1: { city: 'Falkenstein, DE', zone: 'eu-central', ...T.fsn1 },
  nbg1: { city: 'Nuremberg, DE', zone: 'eu-central', ...T.nbg1 },
  hel1: { city: 'Helsinki, FI', zone: 'eu-central', ...T.hel1 },
  ash: { city: 'Ashburn, VA, US', zone: 'us-east', ...T.ash },
  hil: { city: 'Hillsboro, OR, US', zone: 'us-west', ...T.hil },
  sin: { city: 'Singapore', zone: 'ap-southeast', ...T.sin },
} as const;
export type HcloudLocation = keyof typeof HCLOUD_LOCATIONS;
export const HCLOUD_LOCATION_NAMES = Object.keys(HCLOUD_LOCATIONS) as HcloudLocation[];

export interface ServerTypeInfo {
  readonly name: string;
  readonly vcpus: number;
  readonly memoryGiB: number;
  readonly arch: 'amd64' | 'arm64';
  /** Net €/month for new orders after 2026-06-15, EU locations, without the primary IPv4 (the price table). */
  readonly eurPerMonth: number;
  /** Hetzner marked CX and CAX "not available" on 2026-09-03 (pricing.md §2.1). */
  readonly orderable: boolean;
}

const st = (name: string, vcpus: number, memoryGiB: number, orderable: boolean, arch: 'amd64' | 'arm64' = 'amd64'): ServerTypeInfo => ({
  name, vcpus, memoryGiB, arch, eurPerMonth: HCLOUD_PRICES.serverEurPerMonth[name], orderable,
});

/** Current server types (pricing.md §2.2). */
export const HCLOUD_SERVER_TYPES: readonly ServerTypeInfo[] = [
  st('cx23', 2, 4, false), st('cx33', 4, 8, false), st('cx43', 8, 16, false), st('cx53', 16, 32, false),
  st('cax11', 2, 4, false, 'arm64'), st('cax21', 4, 8, false, 'arm64'), st('cax31', 8, 16, false, 'arm64'), st('cax41', 16, 32, false, 'arm64'),
  st('cpx12', 1, 2, true), st('cpx22', 2, 4, true), st('cpx32', 4, 8, true), st('cpx42', 8, 16, true),
  st('cpx52', 12, 24, true), st('cpx62', 16, 32, true),
  st('ccx13', 2, 8, true), st('ccx23', 4, 16, true), st('ccx33', 8, 32, true), st('ccx43', 16, 64, true), st('ccx53', 32, 128, true),
];

/** Types Hetzner removed (deprecated 2024-06-06 and 2025-10-16, pricing.md §2.1) and their successors. */
export const REMOVED_SERVER_TYPES: Readonly<Record<string, string>> = {
  cx11: 'cx23', cx21: 'cx23', cx31: 'cx33', cx41: 'cx43', cx51: 'cx53',
  cx22: 'cx23', cx32: 'cx33', cx42: 'cx43', cx52: 'cx53',
  cpx11: 'cpx12', cpx21: 'cpx22', cpx31: 'cpx32', cpx41: 'cpx42', cpx51: 'cpx52',
};

/** The automatic choice, cheapest first: the orderable AMD types (pricing.md §5 recommends cpx22). */
export const AUTO_SERVER_TYPES = ['cpx22', 'cpx32', 'cpx42', 'cpx52', 'cpx62'] as const;

export const SERVER_TYPE_RE = /^(cx|cpx|cax|ccx)\d{2,3}$/;

export const HCLOUD_DEFAULTS = {
  location: 'fsn1',
  serverType: 'auto',
  image: 'debian-12',
  sshKeys: [] as readonly string[],
  adminCidrs: [] as readonly string[],
  metricsCidrs: [] as readonly string[],
} as const;

/** Volume sizes Hetzner accepts, in GB (pricing.md §2.4). */
export const HCLOUD_VOLUME = { minGB: 10, maxGB: 10240 } as const;

/** node_exporter's port: on loopback only unless hcloud.metricsCidrs opens it to a Prometheus server. */
export const NODE_EXPORTER_PORT = 9100;

/**
 * vCPUs a node needs (N23): two at least, so a sync never starves the web server, and one per
 * 500 Mbit/s of downloads. A heuristic, not a measurement: HTTPS is encrypted by Apache itself
 * (no sendfile), and Hetzner publishes no sustained per-server network rate (pricing.md §4).
 */
export const vcpuNeed = (bandwidthMbps: number) => Math.max(2, Math.ceil(bandwidthMbps / 500));

const PUBLIC_KEY_RE = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]{40,}={0,3}( [^\n]*)?$/;
/** An OpenSSH public key line (mirrorfleet uploads it), as opposed to the name of a key already in the project. */
export const isPublicKey = (s: string) => PUBLIC_KEY_RE.test(s.trim());
const looksLikeKey = (s: string) => /^(ssh-|ecdsa-|sk-)/.test(s.trim());

export interface HcloudNodeSpec {
  readonly location: HcloudLocation;
  readonly serverType: string;
  /** Undefined for a well-formed type mirrorfleet does not know (accepted, not sized). */
  readonly serverTypeInfo?: ServerTypeInfo;
  readonly image: string;
  readonly volumeGB: number;
  /** Public keys to upload (hcloud_ssh_key) and names of keys already in the project. */
  readonly sshPublicKeys: readonly string[];
  readonly sshKeyNames: readonly string[];
}

const fits = (t: ServerTypeInfo, c: NodeConfig) => t.vcpus >= vcpuNeed(c.bandwidthMbps) && t.memoryGiB >= memoryNeedGiB(c.http.maxRequestWorkers);
const typeInfo = (name: string) => HCLOUD_SERVER_TYPES.find((t) => t.name === name);

/** The override, or the first automatic type with the vCPUs and memory the config asks for. */
export function chooseServerType(c: NodeConfig): string | undefined {
  if (c.hcloud.serverType !== 'auto') return c.hcloud.serverType;
  return AUTO_SERVER_TYPES.find((n) => fits(typeInfo(n)!, c));
}

/**
 * Everything wrong with a config for Hetzner Cloud, as loader problems (FILE:LINE:COL once
 * formatted). `input` says what the user wrote, so a computed value is shown as computed.
 */
export function checkHcloud(c: NodeConfig, input?: MirrorConfigInput): Problem[] {
  const problems: Problem[] = [];
  const h = c.hcloud;
  if (!(h.location in HCLOUD_LOCATIONS)) {
    const guess = didYouMean(h.location, HCLOUD_LOCATION_NAMES);
    problems.push({ path: ['hcloud', 'location'], allowed: `${guess ? `did you mean "${guess}"? ` : ''}a Hetzner Cloud location: ${HCLOUD_LOCATION_NAMES.join(', ')}` });
  }

  const at = ['hcloud', 'serverType'];
  const need = `${vcpuNeed(c.bandwidthMbps)} vCPUs for bandwidthMbps ${c.bandwidthMbps} (one per 500 Mbit/s, at least 2) and ${memoryNeedGiB(c.http.maxRequestWorkers).toFixed(1)} GiB of memory for http.maxRequestWorkers ${c.http.maxRequestWorkers} (1 GiB + 2 MiB per worker)`;
  if (h.serverType !== 'auto') {
    const info = typeInfo(h.serverType);
    const successor = REMOVED_SERVER_TYPES[h.serverType];
    if (successor) {
      problems.push({ path: at, allowed: `a type Hetzner still sells: ${h.serverType} was removed (deprecated 2024-06-06 or 2025-10-16), its successor is ${successor}; "auto" picks ${autoName(c)}` });
    } else if (info && !fits(info, c)) {
      problems.push({ path: at, allowed: `a type with ${need}: ${info.name} has ${info.vcpus} vCPUs and ${info.memoryGiB} GiB; "auto" picks ${autoName(c)}` });
    }
  } else if (!chooseServerType(c)) {
    const largest = typeInfo(AUTO_SERVER_TYPES[AUTO_SERVER_TYPES.length - 1])!;
    problems.push({ path: ['bandwidthMbps'], allowed: `at most ${largest.vcpus * 500} for an automatic Hetzner server type (${largest.name}, ${largest.vcpus} vCPUs; N23), or set hcloud.serverType` });
  }

  const size = c.storage.sizeGiB;
  if (size > HCLOUD_VOLUME.maxGB) {
    const computed = typeof input?.storage?.sizeGiB !== 'number';
    problems.push({
      path: ['storage', 'sizeGiB'],
      shown: computed ? `${size} (computed from the preset)` : undefined,
      allowed: `at most ${HCLOUD_VOLUME.maxGB} on Hetzner Cloud: its largest volume is 10 TB (${HCLOUD_VOLUME.maxGB} GB)`,
    });
  }

  h.sshKeys.forEach((k, i) => {
    if (looksLikeKey(k) && !isPublicKey(k)) {
      problems.push({ path: ['hcloud', 'sshKeys', i], shown: `"${k.slice(0, 24)}..."`, allowed: 'a whole OpenSSH public key line ("ssh-ed25519 AAAA... comment") or the name of a key already in the Hetzner project' });
    }
  });
  if (h.sshKeys.length > 0 && h.adminCidrs.length === 0) {
    problems.push({ path: ['hcloud', 'adminCidrs'], shown: 'missing', allowed: 'required with hcloud.sshKeys: the admin addresses or CIDRs allowed to SSH in; the firewall opens port 22 to nobody else (N22)' });
  }
  if (h.adminCidrs.length > 0 && h.sshKeys.length === 0) {
    problems.push({ path: ['hcloud', 'sshKeys'], shown: 'missing', allowed: 'required with hcloud.adminCidrs: without a key nobody can log in over SSH; leave both out for a node without SSH (N22)' });
  }
  problems.push(...checkIngress(hcloudAdminIngress(c.hcloud)));
  return problems;
}

/** The node's Hetzner make-up. Throws when the config breaks a Hetzner rule (the loader reports them first, with positions). */
export function hcloudNodeSpec(c: NodeConfig): HcloudNodeSpec {
  const problems = checkHcloud(c);
  const serverType = chooseServerType(c);
  if (problems.length > 0 || !serverType) {
    throw new Error(`mirror node ${c.hostname} cannot run on Hetzner Cloud:\n${problems.map((p) => `${formatPath(p.path)}: ${p.allowed}`).join('\n')}`);
  }
  const h = c.hcloud;
  return {
    location: h.location as HcloudLocation,
    serverType,
    serverTypeInfo: typeInfo(serverType),
    image: h.image,
    volumeGB: c.storage.sizeGiB,
    sshPublicKeys: h.sshKeys.filter(isPublicKey).map((k) => k.trim()),
    sshKeyNames: h.sshKeys.filter((k) => !isPublicKey(k)),
  };
}

function autoName(c: NodeConfig): string {
  return chooseServerType({ ...c, hcloud: { ...c.hcloud, serverType: 'auto' } }) ?? 'nothing (see bandwidthMbps)';
}

/**
 * What a Hetzner host admits besides its role's ports (N21, N22): SSH from the admin addresses
 * and node_exporter from the operator's Prometheus, each only when listed.
 */
export function hcloudAdminIngress(h: Pick<NodeConfig['hcloud'], 'adminCidrs' | 'metricsCidrs'>, field: readonly string[] = ['hcloud']): IngressRule[] {
  return [
    ...(h.adminCidrs.length > 0 ? [listedRule(22, 'admin', { field: [...field, 'adminCidrs'], values: h.adminCidrs }, 'SSH from admin addresses (N22)')] : []),
    ...(h.metricsCidrs.length > 0 ? [listedRule(NODE_EXPORTER_PORT, 'metrics', { field: [...field, 'metricsCidrs'], values: h.metricsCidrs }, 'node_exporter for Prometheus (N21)')] : []),
  ];
}
