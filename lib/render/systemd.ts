import { NodeConfig, TreeConfig } from '../config/node-config';
import { describeSchedule, onCalendar } from '../config/schedule';
import type { UnitFile } from '../host/units';
import { NodeLayout, SYNC_GROUP, SYNC_USER, treeConfPath } from './layout';

export type { UnitFile } from '../host/units';

/** How long one sync may run before systemd kills it and reports the failure (N13). */
export const SYNC_TIMEOUT_HOURS = 12;

export const syncUnitName = (t: TreeConfig) => `mirrorfleet-sync-${t.name}`;

/** Every systemd unit the node installs. */
export function renderUnits(c: NodeConfig, l: NodeLayout): UnitFile[] {
  return [
    ...c.trees.flatMap((t) => syncUnits(c, l, t)),
    ...tier1Units(c),
    ...firewallUnits(c, l),
    ...bitflipUnits(c),
  ];
}

/**
 * One oneshot service and one timer per tree (N12, N13). A timer never starts a second copy of
 * an active service, and mirror-sync holds a lock as well for runs started by hand.
 */
function syncUnits(c: NodeConfig, l: NodeLayout, t: TreeConfig): UnitFile[] {
  const name = syncUnitName(t);
  const delay = c.preset.randomizedDelayMinutes;
  return [
    {
      name: `${name}.service`,
      enable: false,
      content: syncService(l, t, `Sync mirror tree ${t.name} from ${t.upstream}`, ''),
    },
    {
      name: `${name}.timer`,
      enable: true,
      content: `[Unit]
Description=Sync mirror tree ${t.name} ${describeSchedule(t.schedule)} (${c.preset.title})

[Timer]
OnCalendar=${onCalendar(t.schedule, c.timezone)}
${delay > 0 ? `RandomizedDelaySec=${delay}min\nFixedRandomDelay=true\n` : ''}AccuracySec=1s
Persistent=true

[Install]
WantedBy=timers.target
`,
    },
    ...verifyUnits(c, l, t),
  ];
}

/** The oneshot service that runs mirror-sync on the tree's file, as the sync user. */
function syncService(l: NodeLayout, t: TreeConfig, description: string, args: string): string {
  return `[Unit]
Description=${description}
Documentation=man:rsync(1)
Wants=network-online.target
After=network-online.target
RequiresMountsFor=${t.path}

[Service]
Type=oneshot
User=${SYNC_USER}
Group=${SYNC_GROUP}
# Keeps upstream modes: 0750 pre-bitflip content stays private (N17).
UMask=0022
ExecStart=${l.binDir}/mirror-sync ${treeConfPath(l, t.name)}${args}
# A stuck sync is killed and shows as failed (N13).
TimeoutStartSec=${SYNC_TIMEOUT_HOURS}h
Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full
`;
}

/** Hours over which the verification runs of many mirrors spread, so upstream is not walked by all at once. */
export const VERIFY_SPREAD_HOURS = 2;

/**
 * The full verification run (docs/sync-guarantees.md, case 10): on its own slow schedule, the
 * whole tree is compared with upstream whatever the marker or list says. When a sync holds the
 * lock, the next sync does the comparison instead; its result is a metric either way.
 */
function verifyUnits(c: NodeConfig, l: NodeLayout, t: TreeConfig): UnitFile[] {
  if (!t.verifySchedule) return [];
  const name = `${syncUnitName(t)}-verify`;
  return [
    { name: `${name}.service`, enable: false, content: syncService(l, t, `Compare mirror tree ${t.name} with ${t.upstream} (full verification)`, ' --full') },
    {
      name: `${name}.timer`,
      enable: true,
      content: `[Unit]
Description=Full verification of mirror tree ${t.name} ${describeSchedule(t.verifySchedule)}

[Timer]
OnCalendar=${onCalendar(t.verifySchedule, c.timezone)}
RandomizedDelaySec=${VERIFY_SPREAD_HOURS}h
FixedRandomDelay=true
Persistent=true

[Install]
WantedBy=timers.target
`,
    },
  ];
}

export function tier1Units(c: NodeConfig): UnitFile[] {
  if (!c.rsync.private) return [];
  return [
    {
      name: 'mirrorfleet-rsyncd-tier1.service',
      enable: true,
      content: `[Unit]
Description=Tier-1 rsync daemon for downstream mirrors of ${c.hostname} (port ${c.rsync.private.port})
ConditionPathExists=/etc/rsyncd-tier1.conf
After=network.target local-fs.target

[Service]
ExecStart=/usr/bin/rsync --daemon --no-detach --config=/etc/rsyncd-tier1.conf
Restart=on-failure
ProtectSystem=full
PrivateDevices=yes
NoNewPrivileges=yes

[Install]
WantedBy=multi-user.target
`,
    },
  ];
}

/** Per-source connection caps (N5) live in their own nftables table, loaded at boot. */
export function firewallUnits(c: NodeConfig, l: NodeLayout): UnitFile[] {
  if (c.http.perIpConnectionLimit === undefined) return [];
  return [
    {
      name: 'mirrorfleet-nftables.service',
      enable: true,
      content: `[Unit]
Description=Per-source connection caps for the mirror (nftables table inet mirrorfleet)
# Early boot, like Debian's nftables.service: with the default After=sysinit.target, "before
# network-pre" is a cycle (cloud-init.service runs after networking and before sysinit).
DefaultDependencies=no
Wants=network-pre.target
Before=network-pre.target apache2.service shutdown.target
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft -f ${l.etcDir}/nftables.nft
ExecStop=/usr/sbin/nft delete table inet mirrorfleet

[Install]
WantedBy=multi-user.target
`,
    },
  ];
}

/** A declared bitflip (N17): the staged directories become world-readable at the given time. */
export function bitflipUnits(c: NodeConfig): UnitFile[] {
  return c.bitflips.flatMap((b, i) => {
    const dir = `${c.storage.mountPoint}/${b.path}`;
    const zone = b.at.endsWith(' UTC') ? 'UTC' : c.timezone;
    const when = `${b.at.replace(/ UTC$/, '')}:00 ${zone}`;
    return [
      {
        name: `mirrorfleet-bitflip-${i + 1}.service`,
        enable: false,
        content: `[Unit]
Description=Bitflip: make ${b.path} world-readable
RequiresMountsFor=${dir}

[Service]
Type=oneshot
User=${SYNC_USER}
ExecStart=/usr/bin/find ${dir} -type d ! -perm -o=rx -exec chmod a+rx {} +
`,
      },
      {
        name: `mirrorfleet-bitflip-${i + 1}.timer`,
        enable: true,
        content: `[Unit]
Description=Bitflip of ${b.path} at ${when}

[Timer]
OnCalendar=${when}
AccuracySec=1s
Persistent=true

[Install]
WantedBy=timers.target
`,
      },
    ];
  });
}
