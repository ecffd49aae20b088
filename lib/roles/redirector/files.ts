import type { HostFile } from '../../host/files';
import { assetScript, presentFiles } from '../../host/files';
import { type UnitFile, everyMinuteTimer } from '../../host/units';
import type { MirrorList } from '../../project/mirrors';
import type { ProjectConfig } from '../../project/project';
import type { RedirectorConfig } from '../../project/redirector';
import { syncStateDir, treeConfPath } from '../../render/layout';
import { SYNC_ENGINE_SCRIPTS } from '../../render/node-files';
import { renderShellVars } from '../../render/shell';
import { renderUnits, syncUnitName } from '../../render/systemd';
import { renderTreeConf } from '../../render/tree-conf';
import { renderDesiredMirrors } from './desired-mirrors';
import { RedirectorLayout, mirrorbitsBin, redisDataDir, repositoryPath, tlsSitePaths } from './layout';
import { renderMirrorbitsConf } from './mirrorbits-conf';
import { renderNginxSite, renderNginxTls } from './nginx';
import { renderRedisConf, renderRedisDropIn } from './redis';
import { MirrorListSource, mirrorListFiles, mirrorListPath } from './mirror-list-source';

/*
 * Every file the redirector role adds to its host (R1–R4, R6, R7): mirrorbits' config and unit,
 * nginx's site, Redis' settings, the local copy's sync from the master (the node's sync engine,
 * with a refresh of mirrorbits' index after a sync that changed something), the GeoIP refresh,
 * the mirror list and its reconciler, the metrics.
 */

export const REDIRECTOR_SCRIPTS = [
  ...SYNC_ENGINE_SCRIPTS,
  'mirrorfleet-provision-redirector',
  'mirrorfleet-geoip',
  'mirrorfleet-repo-refresh',
  'mirrorfleet-reconcile',
  'mirrorfleet-redirector-metrics',
] as const;

export const REDIRECTOR_UNITS = {
  mirrorbits: 'mirrorbits.service',
  geoip: 'mirrorfleet-geoip.service',
  geoipTimer: 'mirrorfleet-geoip.timer',
  reconcile: 'mirrorfleet-reconcile.service',
  reconcileTimer: 'mirrorfleet-reconcile.timer',
  reconcilePath: 'mirrorfleet-reconcile.path',
  metrics: 'mirrorfleet-redirector-metrics.service',
  metricsTimer: 'mirrorfleet-redirector-metrics.timer',
} as const;

export const MIRRORBITS_USER = 'mirrorbits';

export interface GeoipSource {
  /** aws-ssm: the licence key is an SSM SecureString; file: the operator places it on the host. */
  readonly kind: 'aws-ssm' | 'file';
}
export const GEOIP_KEY_FILE = '/etc/mirrorfleet/secrets/maxmind-license-key';

export function renderRedirectorFiles(p: ProjectConfig, r: RedirectorConfig, rl: RedirectorLayout, geoip: GeoipSource, list: MirrorListSource, redisMiB: number): HostFile[] {
  const l = rl.host;
  const units = redirectorUnits(r, rl);
  const tree = r.node.trees[0];
  const tls = tlsSitePaths(rl);
  return presentFiles([
    { path: rl.mirrorbitsConf, content: renderMirrorbitsConf(r, p.master.node, rl), mode: '0644' },
    { path: `${rl.nginxConfDir}/sites-available/mirrorfleet`, content: renderNginxSite(r, rl), mode: '0644' },
    { path: tls.template, content: renderNginxTls(r, rl), mode: '0644' },
    { path: rl.redisConf, content: renderRedisConf(r, rl, redisMiB), mode: '0644' },
    { path: `${l.systemdDir}/redis-server.service.d/mirrorfleet.conf`, content: renderRedisDropIn(r, rl), mode: '0644' },
    { path: treeConfPath(l, tree.name), content: renderTreeConf(r.node, l, tree), mode: '0644' },
    // After a sync that changed the copy, mirrorbits indexes it at once (R2).
    { path: `${l.systemdDir}/${syncUnitName(tree)}.service.d/mirrorbits-refresh.conf`, content: `# mirrorfleet: index what the sync brought (R2)\n[Service]\nExecStartPost=${l.binDir}/mirrorfleet-repo-refresh ${rl.etcDir}/redirector.env\n`, mode: '0644' },
    { path: `${rl.etcDir}/redirector.env`, content: renderRedirectorEnv(p, r, rl, geoip), mode: '0644' },
    { path: mirrorListPath(rl), content: renderDesiredMirrors(p.mirrorList as MirrorList), mode: '0644' },
    { path: `${rl.etcDir}/reconcile.env`, content: renderReconcileEnv(rl), mode: '0644' },
    ...mirrorListFiles(list, rl),
    ...units.map((u) => ({ path: `${l.systemdDir}/${u.name}`, content: u.content, mode: '0644' })),
    ...REDIRECTOR_SCRIPTS.map((name) => assetScript(name, l.binDir)),
  ]);
}

/** reconcile.env: how the reconciler reaches mirrorbits' CLI (loopback RPC, R7). */
function renderReconcileEnv(rl: RedirectorLayout): string {
  const [host, port] = rl.mirrorbitsRpc.split(':');
  return `# mirrorfleet: how mirrorfleet-reconcile reaches mirrorbits (R3).\nMIRRORBITS_BIN=${mirrorbitsBin(rl)}\nMIRRORBITS_HOST=${host}\nMIRRORBITS_PORT=${port}\n`;
}

/** redirector.env: what the redirector's scripts read (provisioning, GeoIP, refresh, metrics). */
export function renderRedirectorEnv(p: ProjectConfig, r: RedirectorConfig, rl: RedirectorLayout, geoip: GeoipSource): string {
  const tree = r.node.trees[0];
  return renderShellVars(`mirrorfleet: the redirector ${r.node.hostname}, read by its scripts.`, {
    HOST_NAME: r.node.hostname,
    MIRRORBITS_ARTIFACT_URL: r.artifact.url,
    MIRRORBITS_ARTIFACT_SHA256: r.artifact.sha256 ?? 'unverified',
    MIRRORBITS_DIR: rl.mirrorbitsDir,
    MIRRORBITS_BIN: mirrorbitsBin(rl),
    MIRRORBITS_RPC: rl.mirrorbitsRpc,
    MIRRORBITS_USER,
    REPOSITORY: repositoryPath(r),
    TREE: tree.name,
    SYNC_STATE_DIR: syncStateDir(rl.host, tree.name),
    REDIS_DIR: redisDataDir(r),
    REDIS_PORT: rl.redisPort,
    GEOIP_DIR: rl.geoipDir,
    GEOIP_ACCOUNT_ID: r.geoip.accountId,
    GEOIP_KEY_SOURCE: geoip.kind,
    GEOIP_KEY_PARAMETER: geoip.kind === 'aws-ssm' ? r.geoip.licenseKeyParameter : undefined,
    GEOIP_KEY_FILE: geoip.kind === 'file' ? GEOIP_KEY_FILE : undefined,
    GEOIP_URL: 'https://download.maxmind.com/geoip/databases',
    NGINX_CONF_DIR: rl.nginxConfDir,
    NGINX_ACCESS_LOG: `${rl.nginxLogDir}/mirrorfleet-access.log`,
    MASTER_URL: `${p.master.node.https.enabled ? 'https' : 'http'}://${p.master.node.hostname}/`,
    METRICS_DIR: rl.host.metricsDir,
    STATE_DIR: `${rl.host.stateDir}/redirector`,
  });
}

export function redirectorUnits(r: RedirectorConfig, rl: RedirectorLayout): UnitFile[] {
  const l = rl.host;
  const bin = mirrorbitsBin(rl);
  return [
    // The local copy's sync: the node's units and engine, on the redirector's schedule.
    ...renderUnits(r.node, l),
    {
      name: REDIRECTOR_UNITS.mirrorbits,
      enable: true,
      content: `[Unit]
Description=mirrorbits: redirects each download to a nearby, current mirror (R1)
After=network-online.target redis-server.service
Wants=network-online.target
Requires=redis-server.service
RequiresMountsFor=${repositoryPath(r)}

[Service]
Type=notify
NotifyAccess=main
User=${MIRRORBITS_USER}
Group=${MIRRORBITS_USER}
ExecStart=${bin} daemon -config ${rl.mirrorbitsConf}
ExecReload=/bin/kill -HUP $MAINPID
# SIGTERM ends mirrorbits at once; SIGQUIT lets requests in flight finish.
KillSignal=SIGQUIT
TimeoutStopSec=10
Restart=on-failure
RestartSec=5
LogsDirectory=mirrorbits
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=strict
ProtectHome=yes
ReadWritePaths=${rl.mirrorbitsLogDir}

[Install]
WantedBy=multi-user.target
`,
    },
    {
      name: REDIRECTOR_UNITS.geoip,
      enable: false,
      content: `[Unit]
Description=Fetch the GeoLite2 City and ASN databases, swap them in, reload mirrorbits (R4)
Wants=network-online.target
After=network-online.target
# mirrorbits adds no mirror without them: the list goes in once they are there (a first boot
# waits for them, on Hetzner for the operator's key); later refreshes reconcile nothing.
OnSuccess=${REDIRECTOR_UNITS.reconcile}

[Service]
Type=oneshot
ExecStart=${l.binDir}/mirrorfleet-geoip ${rl.etcDir}/redirector.env
`,
    },
    {
      name: REDIRECTOR_UNITS.geoipTimer,
      enable: true,
      content: `[Unit]
Description=Refresh the GeoIP databases weekly (R4)

[Timer]
OnCalendar=weekly
RandomizedDelaySec=6h
Persistent=true

[Install]
WantedBy=timers.target
`,
    },
    {
      name: REDIRECTOR_UNITS.reconcile,
      enable: false,
      content: `[Unit]
Description=Bring mirrorbits in line with the mirror list (R3)
# After a GeoIP refresh started with it (first boot): mirrorbits' add needs the databases.
After=${REDIRECTOR_UNITS.mirrorbits} ${REDIRECTOR_UNITS.geoip}
Requires=${REDIRECTOR_UNITS.mirrorbits}

[Service]
Type=oneshot
EnvironmentFile=${rl.etcDir}/reconcile.env
ExecStart=${l.binDir}/mirrorfleet-reconcile ${mirrorListPath(rl)}
# 0: nothing to do; 2: applied a change. Both are a reconcile that worked.
SuccessExitStatus=2
`,
    },
    {
      name: REDIRECTOR_UNITS.reconcilePath,
      enable: true,
      content: `[Unit]
Description=Reconcile when a deploy brings a new mirror list (R3)

[Path]
PathChanged=${mirrorListPath(rl)}
Unit=${REDIRECTOR_UNITS.reconcile}

[Install]
WantedBy=paths.target
`,
    },
    {
      name: REDIRECTOR_UNITS.reconcileTimer,
      enable: true,
      content: `[Unit]
Description=Reconcile the mirror list every hour, in case mirrorbits was changed by hand (R3)

[Timer]
OnBootSec=2min
OnUnitActiveSec=1h
RandomizedDelaySec=5min

[Install]
WantedBy=timers.target
`,
    },
    {
      name: REDIRECTOR_UNITS.metrics,
      enable: false,
      content: `[Unit]
Description=The redirector's metrics: redirects, fallbacks, mirrors up and down, Redis memory, GeoIP age (R6)

[Service]
Type=oneshot
ExecStart=${l.binDir}/mirrorfleet-redirector-metrics ${rl.etcDir}/redirector.env
`,
    },
    everyMinuteTimer(REDIRECTOR_UNITS.metricsTimer, "The redirector's metrics, every minute (R6)"),
  ];
}
