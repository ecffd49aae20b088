import type { HostFile } from '../../host/files';
import { type UnitFile, everyMinuteTimer } from '../../host/units';
import type { ProjectConfig } from '../../project/project';
import { NodeLayout } from '../../render/layout';
import { renderShellVars } from '../../render/shell';

/*
 * The master's rsync ACL on the host (ADR 0026): mirrorfleet-acl turns the list (one "LIST CIDR"
 * line per source) into nftables sets and rsyncd `hosts allow` files, atomically, and keeps them
 * current from the cloud's copy of the list: an SSM parameter on AWS, the host's own cloud
 * firewall on Hetzner (read with a read-only API token the operator places), the bundle's file
 * elsewhere. A changed list takes effect within a minute, with nothing restarted.
 */

export type AclSource =
  | { readonly kind: 'file' }
  | { readonly kind: 'aws-ssm'; readonly parameter: string }
  /** The firewall's id comes from the deploy (HCLOUD_FIREWALL_ID in /etc/mirrorfleet/deploy.env). */
  | { readonly kind: 'hcloud-firewall'; readonly tokenFile: string };

export const ACL_UNITS = { load: 'mirrorfleet-acl.service', poll: 'mirrorfleet-acl-poll.service', pollTimer: 'mirrorfleet-acl-poll.timer' } as const;
export const NFT_ACL_TABLE = 'mirrorfleet_acl';

export function aclPaths(l: NodeLayout) {
  const dir = `${l.etcDir}/acl`;
  return {
    dir,
    env: `${l.etcDir}/acl.env`,
    /** The list the bundle carries: applied at first boot, and the fallback when the cloud cannot be read. */
    initial: `${dir}/initial.acl`,
    current: `${l.stateDir}/acl/current.acl`,
    table: `${dir}/table.nft`,
    publicInclude: `${l.stateDir}/acl/rsync-public.inc`,
    tier1Include: `${l.stateDir}/acl/rsync-tier1.inc`,
  };
}

export function aclFiles(p: ProjectConfig, source: AclSource, l: NodeLayout): HostFile[] {
  const paths = aclPaths(l);
  return [
    { path: paths.env, content: renderAclEnv(p, source, l), mode: '0644' },
    { path: paths.table, content: renderAclTable(p), mode: '0644' },
    ...aclUnits(source, l).map((u) => ({ path: `${l.systemdDir}/${u.name}`, content: u.content, mode: '0644' })),
  ];
}

function renderAclEnv(p: ProjectConfig, source: AclSource, l: NodeLayout): string {
  const paths = aclPaths(l);
  return renderShellVars('mirrorfleet: where the master\'s rsync ACL comes from, read by mirrorfleet-acl (ADR 0026).', {
    ACL_SOURCE: source.kind,
    SSM_PARAMETER: source.kind === 'aws-ssm' ? source.parameter : undefined,
    HCLOUD_TOKEN_FILE: source.kind === 'hcloud-firewall' ? source.tokenFile : undefined,
    PUBLIC_PORT: 873,
    TIER1_PORT: p.master.tier1 ? p.master.tier1Port : undefined,
    INITIAL_ACL: paths.initial,
    CURRENT_ACL: paths.current,
    TABLE: paths.table,
    NFT_TABLE: NFT_ACL_TABLE,
    PUBLIC_INCLUDE: paths.publicInclude,
    TIER1_INCLUDE: paths.tier1Include,
    METRICS_DIR: l.metricsDir,
  });
}

/**
 * The host's own check of the list (M1: enforced by the daemon and by the host firewall): only
 * listed sources reach the rsync ports; everyone else gets a TCP reset at once, not a timeout.
 * The sets are filled by mirrorfleet-acl; loading this file empties them (nobody until the list is read).
 */
export function renderAclTable(p: ProjectConfig): string {
  const t = NFT_ACL_TABLE;
  const port = (name: string, n: number) => `        tcp dport ${n} ip saddr @${name}_v4 accept
        tcp dport ${n} ip6 saddr @${name}_v6 accept
        tcp dport ${n} counter reject with tcp reset`;
  return `# mirrorfleet: the rsync ports admit only the mirror list (M1). Elements: mirrorfleet-acl.
table inet ${t}
delete table inet ${t}

table inet ${t} {
    set public_v4 { type ipv4_addr; flags interval; auto-merge; }
    set public_v6 { type ipv6_addr; flags interval; auto-merge; }
    set tier1_v4 { type ipv4_addr; flags interval; auto-merge; }
    set tier1_v6 { type ipv6_addr; flags interval; auto-merge; }

    chain input {
        type filter hook input priority filter - 5; policy accept;
        iifname "lo" accept
${[port('public', 873), ...(p.master.tier1 ? [port('tier1', p.master.tier1Port)] : [])].join('\n')}
    }
}
`;
}

function aclUnits(source: AclSource, l: NodeLayout): UnitFile[] {
  const load: UnitFile = {
    name: ACL_UNITS.load,
    enable: true,
    content: `[Unit]
Description=The master's rsync ACL: nftables sets and rsyncd hosts allow (M1)
# Early, like Debian's nftables.service, and before the daemons: nobody connects unchecked.
DefaultDependencies=no
Wants=network-pre.target
Before=network-pre.target rsync.service mirrorfleet-rsyncd-tier1.service shutdown.target
Conflicts=shutdown.target
After=local-fs.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=${l.binDir}/mirrorfleet-acl load
ExecStop=/usr/sbin/nft delete table inet ${NFT_ACL_TABLE}

[Install]
WantedBy=multi-user.target
`,
  };
  if (source.kind === 'file') return [load];
  return [
    load,
    {
      name: ACL_UNITS.poll,
      enable: false,
      content: `[Unit]
Description=Refresh the master's rsync ACL from ${source.kind === 'aws-ssm' ? 'its SSM parameter' : 'its cloud firewall'}
After=network-online.target ${ACL_UNITS.load}
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=${l.binDir}/mirrorfleet-acl poll
`,
    },
    everyMinuteTimer(ACL_UNITS.pollTimer, "Refresh the master's rsync ACL every minute"),
  ];
}
