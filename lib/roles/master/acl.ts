import { canonicalCidr, parseCidr } from '../../net/cidr';
import type { ProjectConfig } from '../../project/project';

/*
 * Who may sync from the master (M1): the addresses of the enabled mirrors in mirrors.yaml, and
 * for the tier-1 module only the enabled tier-1 mirrors. One list, three enforcers: the cloud
 * firewall (ingress.ts), nftables on the host and rsyncd's `hosts allow` (mirrorfleet-acl), so a
 * change of the list is a change of data that every layer applies in place (ADR 0026).
 */

export interface MasterAcl {
  /** Canonical CIDRs admitted to the public module (port 873). */
  readonly public: readonly string[];
  /** Canonical CIDRs admitted to the tier-1 module (pre-bitflip content). */
  readonly tier1: readonly string[];
}

/**
 * `extra`: more sources for the public module, such as the redirector's addresses (R2); a value
 * that is not a CIDR yet (a cloud's deploy-time token) is kept as it is.
 */
export function masterAcl(p: ProjectConfig, extra: readonly string[] = []): MasterAcl {
  const enabled = p.mirrorList.mirrors.filter((m) => m.enabled);
  const tier1 = [...new Set(enabled.filter((m) => m.tier1).flatMap((m) => m.syncFrom))].sort();
  const publicList = [...new Set([...enabled.flatMap((m) => m.syncFrom), ...extra.map((c) => (parseCidr(c).ok ? canonicalCidr(c) : c))])].sort();
  return { public: publicList, tier1: p.master.tier1 ? tier1 : [] };
}

/**
 * The ACL as mirrorfleet-acl reads it: one "LIST CIDR" line per source. The same text travels in
 * the bundle (first boot) and through the cloud's update channel (an SSM parameter on AWS).
 */
export function renderAclFile(acl: MasterAcl): string {
  return [
    '# mirrorfleet: who may sync from this master (mirrors.yaml). Lines: public|tier1 CIDR.',
    ...acl.public.map((c) => `public ${c}`),
    ...acl.tier1.map((c) => `tier1 ${c}`),
    '',
  ].join('\n');
}
