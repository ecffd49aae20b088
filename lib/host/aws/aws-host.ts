import { createHash } from 'node:crypto';
import { NODE_LAYOUT, NodeLayout } from '../../render/layout';
import { BUNDLE_PATH, renderBundle } from '../bundle';
import { DATA_VOLUME_WAIT_SECONDS } from '../data-volume';
import { HostFile } from '../files';
import { HostSpec } from '../host';
import { CW_METRICS } from '../metrics';
import { UserDataBindings, renderUserData, userDataFiles } from '../user-data';
import { CLOUDWATCH_AGENT_CONFIG_PATH, STATSD_PORT, renderCloudWatchAgentConfig } from './cloudwatch-agent';

/*
 * What only an AWS host runs, added to the same user data as every other host file:
 * - the bundle comes from S3 (a CDK asset), fetched with Debian's awscli and checked against
 *   its sha256, since it no longer fits EC2's 16 KB of user data (docs/adr/0011);
 * - a longer wait for the data volume, which EC2 attaches after the instance starts;
 * - mirrorfleet-aws: installs Amazon's SSM and CloudWatch agents (not Debian packages), feeds the
 *   textfile metrics to the agent (docs/adr/0009), and re-provisions the node when an in-place
 *   stack update changed its user data (docs/adr/0010);
 * - the agent's config and two systemd units.
 */

/** How an EBS volume appears on a Nitro instance: its id without the dash. */
export const EBS_DEVICE_PREFIX = '/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol';

export const AWS_UNITS = { metrics: 'mirrorfleet-aws-metrics.service', reapply: 'mirrorfleet-aws-reapply.service' } as const;
export const SSM_AGENT_DEB = 'https://s3.amazonaws.com/ec2-downloads-windows/SSMAgent/latest/debian_$arch/amazon-ssm-agent.deb';
export const CLOUDWATCH_AGENT_DEB = 'https://amazoncloudwatch-agent.s3.amazonaws.com/debian/$arch/latest/amazon-cloudwatch-agent.deb';

export const awsScriptPath = (l: NodeLayout) => `${l.binDir}/mirrorfleet-aws`;

/** Deploy-time values only CloudFormation knows; the construct passes tokens, tests placeholders. */
export interface AwsDeployRefs {
  /** The data volume's id without "vol-". */
  readonly volumeIdDigits: string;
  /** Where the bundle asset lives (the CDK bootstrap bucket) and in which region. */
  readonly bundleBucket: string;
  readonly bundleKey: string;
  readonly region: string;
}

/**
 * Fetches the bundle, and keeps it only if it is the one this user data was rendered with; else
 * says which it got and which it expected, and leaves nothing to unpack. POSIX sh, run by runcmd as
 * `sh -c FETCH_BUNDLE fetch-bundle FILE BUCKET/KEY REGION SHA256`.
 */
export const FETCH_BUNDLE = [
  'if ! aws s3 cp --only-show-errors --region "$3" "s3://$2" "$1"; then echo "mirrorfleet: could not fetch the bundle s3://$2" >&2; rm -f "$1"; exit 1; fi',
  'got=$(sha256sum "$1" | cut -d" " -f1)',
  'if [ "$got" != "$4" ]; then echo "mirrorfleet: s3://$2 is not the bundle this user data was rendered with (sha256 $got, expected $4): not unpacking it" >&2; rm -f "$1"; exit 1; fi',
].join('\n');

/**
 * Everything an AWS host needs from one render: its files (the role's, the host's, the AWS
 * additions), the bundle the CDK ships as an S3 asset, its sha256 and the user data that fetches
 * and checks it. Rendered once per synth; the construct fills the deploy-time values in.
 */
export interface AwsHostRender {
  readonly files: readonly HostFile[];
  readonly bundle: Buffer;
  readonly bundleSha256: string;
  userData(refs: AwsDeployRefs): string;
}

export function renderAwsHost(h: HostSpec, l: NodeLayout = NODE_LAYOUT): AwsHostRender {
  const extraFiles = renderAwsHostFiles(h, l);
  const files = userDataFiles(h, { extraFiles });
  const bundle = renderBundle(files);
  const bundleSha256 = createHash('sha256').update(bundle).digest('hex');
  return { files, bundle, bundleSha256, userData: (refs) => renderUserData(h, awsUserDataBindings(l, refs, bundleSha256, extraFiles), files) };
}

/** The user-data bindings of an AWS host whose bundle has this sha256. */
function awsUserDataBindings(l: NodeLayout, refs: AwsDeployRefs, bundleSha256: string, extraFiles: readonly HostFile[]): UserDataBindings {
  return {
    dataDevice: `${EBS_DEVICE_PREFIX}${refs.volumeIdDigits}`,
    extraFiles,
    extraPackages: ['awscli'],
    // EC2 attaches the data volume after the instance starts.
    dataVolumeWaitSeconds: DATA_VOLUME_WAIT_SECONDS.aws,
    fetchBundle: [['sh', '-c', FETCH_BUNDLE, 'fetch-bundle', BUNDLE_PATH, `${refs.bundleBucket}/${refs.bundleKey}`, refs.region, bundleSha256]],
    extraRuncmd: [[awsScriptPath(l), 'setup']],
  };
}

/** The files only an AWS host has: the CloudWatch agent's config, mirrorfleet-aws and its units. */
export function renderAwsHostFiles(h: HostSpec, l: NodeLayout): HostFile[] {
  return [
    { path: CLOUDWATCH_AGENT_CONFIG_PATH, content: renderCloudWatchAgentConfig(h.dataVolume.mountPoint), mode: '0644' },
    { path: awsScriptPath(l), content: renderAwsScript(l), mode: '0755' },
    { path: `${l.systemdDir}/${AWS_UNITS.metrics}`, content: metricsUnit(l), mode: '0644' },
    { path: `${l.systemdDir}/${AWS_UNITS.reapply}`, content: reapplyUnit(l), mode: '0644' },
  ];
}

const metricsUnit = (l: NodeLayout) => `[Unit]
Description=mirrorfleet: node metrics to the CloudWatch agent
After=amazon-cloudwatch-agent.service

[Service]
ExecStart=${awsScriptPath(l)} metrics
DynamicUser=yes
Restart=always
RestartSec=60

[Install]
WantedBy=multi-user.target
`;

/*
 * Wanted by cloud-init.target, not multi-user.target: cloud-final.service is ordered after
 * multi-user.target, so a unit after cloud-final that multi-user.target waits for is an ordering
 * cycle, and systemd breaks it by dropping this unit's start at every boot (docs/adr/0070).
 */
const reapplyUnit = (l: NodeLayout) => `[Unit]
Description=mirrorfleet: re-apply the user data in place when it changed
After=cloud-final.service network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=${awsScriptPath(l)} reapply

[Install]
WantedBy=cloud-init.target
`;

/** mirrorfleet-aws. Bash, shellcheck-clean; `\${` below is bash's, not a template's. */
export function renderAwsScript(l: NodeLayout): string {
  const m = CW_METRICS;
  return `#!/bin/bash
# mirrorfleet-aws: what only an AWS node runs (docs/adr/0009, docs/adr/0010).
#   setup        first boot: SSM and CloudWatch agents, metrics, re-provisioning
#   metrics [D]  every minute, the textfile metrics in D as StatsD gauges to the agent
#   gauges D     those gauges, printed
#   reapply      at boot: if the user data changed, run cloud-init's stages again in this boot
#                (as on a first boot, no reboot; docs/adr/0070)
set -uo pipefail
state=${l.stateDir}

imds() {
  local token
  token=$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token) || return 1
  curl -fsS -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/$1"
}

# Amazon's agents are no Debian packages: their .deb from Amazon's S3, once.
install_deb() {
  local deb=/run/mirrorfleet-agent.deb rc=0
  [ -e "$2" ] && return 0
  if ! { curl -fsSL --retry 5 -o "$deb" "$1" && dpkg -i "$deb"; }; then rc=1; fi
  rm -f "$deb"
  return $rc
}

gauges() {
  shopt -s nullglob
  local files=("$1"/*.prom)
  [ \${#files[@]} -gt 0 ] || return 0
  awk -v now="$(date +%s)" '$1 ~ /^mirrorfleet_[a-z_]+[{][a-z]+="[^"]*"[}]$/ {
    split($1, p, /[{}"]/)
    if (p[1] == "mirrorfleet_sync_last_success_timestamp_seconds" && $2 > 0)
      printf "${m.syncAge}:%d|g|#tree:%s\\n", (now > $2 ? now - $2 : 0), p[3]
    else if (p[1] == "${m.syncSuccess}" || p[1] == "${m.hookFailures}" || p[1] == "${m.publishSuccess}")
      printf "%s:%d|g|#tree:%s\\n", p[1], $2, p[3]
    else if (p[1] == "mirrorfleet_cert_not_after_timestamp_seconds")
      printf "${m.certDaysLeft}:%.2f|g\\n", ($2 > now ? ($2 - now) / 86400 : 0)
    else if (p[1] == "mirrorfleet_redirector_mirrors" && p[3] == "down")
      printf "${m.mirrorsDown}:%d|g\\n", $2
  }
  # Figures of a redirector without labels: totals as gauges (alarms take their differences),
  # Redis memory as a percentage of its limit, the age of the GeoIP databases in days.
  $1 == "mirrorfleet_redirector_requests_total" || $1 == "mirrorfleet_redirector_fallbacks_total" || $1 == "mirrorfleet_redirector_reconcile_success" { printf "%s:%d|g\\n", $1, $2 }
  $1 == "mirrorfleet_redirector_redis_used_memory_bytes" { used = $2 }
  $1 == "mirrorfleet_redirector_redis_maxmemory_bytes" { max = $2 }
  $1 == "mirrorfleet_geoip_updated_timestamp_seconds" { printf "${m.geoipAgeDays}:%.2f|g\\n", (now > $2 ? (now - $2) / 86400 : 0) }
  END { if (max > 0) printf "${m.redisMemoryPercent}:%.1f|g\\n", 100 * used / max }' "\${files[@]}"
}

metrics() {
  local line
  while :; do
    gauges "$1" | while read -r line; do
      echo "$line" >"/dev/udp/127.0.0.1/\${STATSD_PORT:-${STATSD_PORT}}"
    done
    sleep 60
  done
}

user_data_sha256() {
  imds user-data | sha256sum | cut -d' ' -f1
}

# The user data this node was provisioned from (setup, once the bundle is in place).
record() {
  local now
  now=$(user_data_sha256) || return 1
  echo "$now" >"$state/user-data.sha256"
}

reapply() {
  local seen=$state/user-data.sha256 now f
  now=$(user_data_sha256) || return 1
  if ! [ -s "$seen" ]; then echo "$now" >"$seen"; return 0; fi
  [ "$(cat "$seen")" != "$now" ] || return 0
  echo "mirrorfleet-aws: the user data changed: re-applying it in this boot (cloud-init's stages again, no reboot)"
  # Units and settings of the old config go, so a removed tree leaves no timer behind; this unit stays.
  tar -tzf ${BUNDLE_PATH} | while read -r f; do
    case $f in
      etc/systemd/system/${AWS_UNITS.reapply}) ;;
      etc/systemd/system/*.service | etc/systemd/system/*.timer) systemctl disable --now "\${f##*/}"; rm -f "/$f" ;;
      etc/systemd/system/* | etc/mirrorfleet/*) rm -f "/$f" ;;
    esac
  done
  systemctl daemon-reload
  # As on a first boot: the per-instance modules run again (packages, users, the runcmd that
  # fetches the new bundle, setup and provisioning); the data volume is kept (docs/adr/0023).
  cloud-init clean --logs
  cloud-init init && cloud-init modules --mode config && cloud-init modules --mode final || return 1
  # setup, in the new user data's runcmd, recorded it; if not, the next boot tries again.
  [ "$(cat "$seen")" = "$now" ] || { echo "mirrorfleet-aws: the new user data did not finish provisioning; the next boot tries again" >&2; return 1; }
}

setup() {
  local arch rc=0 ctl=/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl
  arch=$(dpkg --print-architecture)
  if install_deb "${SSM_AGENT_DEB}" /usr/bin/amazon-ssm-agent; then
    systemctl enable --now amazon-ssm-agent || rc=1
  else rc=1; fi
  systemctl daemon-reload
  systemctl enable ${AWS_UNITS.reapply} || rc=1
  record || rc=1
  if install_deb "${CLOUDWATCH_AGENT_DEB}" "$ctl"; then
    "$ctl" -a fetch-config -m ec2 -s -c file:${CLOUDWATCH_AGENT_CONFIG_PATH} || rc=1
  else rc=1; fi
  systemctl enable --now ${AWS_UNITS.metrics} || rc=1
  return $rc
}

case \${1:-} in
  setup | reapply) "$1" ;;
  metrics) metrics "\${2:-$state/metrics}" ;;
  gauges) gauges "\${2:?usage: mirrorfleet-aws gauges DIR}" ;;
  *) echo "usage: mirrorfleet-aws setup|metrics [DIR]|gauges DIR|reapply" >&2; exit 2 ;;
esac
`;
}
