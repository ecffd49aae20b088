import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLOUDWATCH_AGENT_DEB, SSM_AGENT_DEB } from '../../lib/host/aws/aws-host';
import { must } from './sh';

/*
 * STAND-INS for Amazon's SSM and CloudWatch agents. The real agents talk to AWS's endpoints and
 * cannot run outside AWS, so the S3 stand-in serves these packages at the agents' download URLs
 * instead (lib/host/aws/aws-host.ts, SSM_AGENT_DEB and CLOUDWATCH_AGENT_DEB). They install where
 * the real packages do (the paths mirrorfleet-aws relies on), record that they were installed
 * and started, and ask the IMDS stand-in for the region with a token, as the real agents do.
 * The CloudWatch one reads the config `amazon-cloudwatch-agent-ctl -a fetch-config` installed,
 * refuses JSON the real agent would refuse, drops to its `run_as_user` and listens for StatsD
 * where the config says, writing every datagram it receives to STATSD_LOG: that file is what
 * proves the node's metrics reach the agent. Nothing of AWS is contacted, nothing is forwarded.
 */

export const STAND_IN_VERSION = '0.0.0~mirrorfleet-boot-stand-in';
export const SSM_LOG = '/var/log/amazon/ssm/mirrorfleet-stand-in.log';
export const CW_DIR = '/opt/aws/amazon-cloudwatch-agent';
export const CW_LOG = `${CW_DIR}/logs/mirrorfleet-stand-in.log`;
export const STATSD_LOG = `${CW_DIR}/logs/statsd-received.log`;

/** The node's architecture as `dpkg --print-architecture` says it (the URLs hold $arch). */
const ARCH = 'amd64';

const IMDS_REGION = `region=$(t=$(curl -fsS -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token) && curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $t" http://169.254.169.254/latest/meta-data/placement/region) || region="(IMDS did not answer)"`;

interface Package {
  readonly name: string;
  readonly url: string;
  readonly files: Record<string, { content: string; mode: number }>;
  readonly postinst: string;
}

const PACKAGES: readonly Package[] = [
  {
    name: 'amazon-ssm-agent',
    url: SSM_AGENT_DEB,
    files: {
      '/usr/bin/amazon-ssm-agent': {
        mode: 0o755,
        content: `#!/bin/sh
# mirrorfleet boot test: a STAND-IN for Amazon's SSM agent (the real one needs AWS's endpoints).
${IMDS_REGION}
echo "started $(date -u +%FT%TZ) region=$region" >>${SSM_LOG}
exec sleep infinity
`,
      },
      '/lib/systemd/system/amazon-ssm-agent.service': {
        mode: 0o644,
        content: `[Unit]
Description=amazon-ssm-agent (mirrorfleet boot-test stand-in)
After=network-online.target

[Service]
ExecStart=/usr/bin/amazon-ssm-agent
Restart=always

[Install]
WantedBy=multi-user.target
`,
      },
    },
    postinst: `mkdir -p ${path.dirname(SSM_LOG)}
echo "installed ${STAND_IN_VERSION} $(date -u +%FT%TZ)" >>${SSM_LOG}
systemctl daemon-reload || true
`,
  },
  {
    name: 'amazon-cloudwatch-agent',
    url: CLOUDWATCH_AGENT_DEB,
    files: {
      [`${CW_DIR}/bin/amazon-cloudwatch-agent-ctl`]: {
        mode: 0o755,
        content: `#!/bin/bash
# mirrorfleet boot test: a STAND-IN for amazon-cloudwatch-agent-ctl (fetch-config from a file; -s (re)starts the agent).
set -euo pipefail
action= mode= config= start=0
while [ $# -gt 0 ]; do
  case $1 in
    -a) action=$2; shift 2 ;;
    -m) mode=$2; shift 2 ;;
    -c) config=$2; shift 2 ;;
    -s) start=1; shift ;;
    *) echo "amazon-cloudwatch-agent-ctl (stand-in): unknown option $1" >&2; exit 1 ;;
  esac
done
case $action in
  fetch-config)
    case $mode in ec2 | onPremise | auto) ;; *) echo "unknown mode $mode" >&2; exit 1 ;; esac
    case $config in file:*) src=\${config#file:} ;; *) echo "the stand-in reads file: configs only, not $config" >&2; exit 1 ;; esac
    python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$src" || { echo "invalid JSON in $src" >&2; exit 1; }
    install -D -m 0644 "$src" ${CW_DIR}/etc/amazon-cloudwatch-agent.json
    echo "fetch-config mode=$mode config=$src start=$start $(date -u +%FT%TZ)" >>${CW_LOG}
    if [ "$start" = 1 ]; then systemctl enable amazon-cloudwatch-agent.service && systemctl restart amazon-cloudwatch-agent.service; fi
    ;;
  *) echo "amazon-cloudwatch-agent-ctl (stand-in): action '$action' is not played" >&2; exit 1 ;;
esac
`,
      },
      [`${CW_DIR}/bin/amazon-cloudwatch-agent`]: {
        mode: 0o755,
        content: `#!/usr/bin/python3
# mirrorfleet boot test: a STAND-IN for the CloudWatch agent: StatsD where the config says, every datagram recorded.
import json, os, pwd, socket, time, urllib.request
cfg = json.load(open("${CW_DIR}/etc/amazon-cloudwatch-agent.json"))
def imds(path):
    put = urllib.request.Request("http://169.254.169.254/latest/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
    token = urllib.request.urlopen(put, timeout=5).read().decode()
    get = urllib.request.Request("http://169.254.169.254/latest/" + path, headers={"X-aws-ec2-metadata-token": token})
    return urllib.request.urlopen(get, timeout=5).read().decode()
try:
    region = imds("meta-data/placement/region")
except Exception as e:
    region = "(IMDS did not answer: %s)" % e
statsd = cfg.get("metrics", {}).get("metrics_collected", {}).get("statsd")
user = cfg.get("agent", {}).get("run_as_user", "root")
with open("${CW_LOG}", "a") as f:
    f.write("started %s region=%s run_as_user=%s statsd=%s\\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), region, user, statsd and statsd.get("service_address")))
sock = None
if statsd:
    host, port = statsd.get("service_address", ":8125").rsplit(":", 1)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, int(port)))
pw = pwd.getpwnam(user)
os.setgid(pw.pw_gid)
os.setuid(pw.pw_uid)
while True:
    if sock is None:
        time.sleep(3600)
        continue
    data, _ = sock.recvfrom(65535)
    with open("${STATSD_LOG}", "a") as f:
        for line in data.decode(errors="replace").splitlines():
            f.write("%d %s\\n" % (time.time(), line))
`,
      },
      '/etc/systemd/system/amazon-cloudwatch-agent.service': {
        mode: 0o644,
        content: `[Unit]
Description=Amazon CloudWatch Agent (mirrorfleet boot-test stand-in)
After=network-online.target

[Service]
ExecStart=${CW_DIR}/bin/amazon-cloudwatch-agent
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
`,
      },
    },
    postinst: `getent group cwagent >/dev/null || groupadd -r cwagent
getent passwd cwagent >/dev/null || useradd -r -M -g cwagent -s /usr/sbin/nologin -d ${CW_DIR} cwagent
install -d -o cwagent -g cwagent ${CW_DIR}/logs
echo "installed ${STAND_IN_VERSION} $(date -u +%FT%TZ)" >>${CW_LOG}
chown cwagent:cwagent ${CW_LOG}
systemctl daemon-reload || true
`,
  },
];

export interface AgentObject {
  readonly bucket: string;
  readonly key: string;
  readonly file: string;
  readonly url: string;
  readonly name: string;
}

/** Builds the stand-in .debs with dpkg-deb; returns where S3 serves each (bucket and key of its URL). */
export function buildAgentPackages(dir: string): AgentObject[] {
  return PACKAGES.map((p) => {
    const root = path.join(dir, p.name);
    fs.rmSync(root, { recursive: true, force: true });
    for (const [file, { content, mode }] of Object.entries(p.files)) {
      fs.mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), content, { mode });
    }
    fs.mkdirSync(path.join(root, 'DEBIAN'));
    fs.writeFileSync(
      path.join(root, 'DEBIAN', 'control'),
      `Package: ${p.name}\nVersion: ${STAND_IN_VERSION}\nArchitecture: ${ARCH}\nMaintainer: mirrorfleet boot test <boot-test@invalid>\nDescription: mirrorfleet boot-test stand-in for ${p.name}\n`,
    );
    fs.writeFileSync(path.join(root, 'DEBIAN', 'postinst'), `#!/bin/sh\nset -e\n${p.postinst}`, { mode: 0o755 });
    const deb = path.join(dir, `${p.name}.deb`);
    must('dpkg-deb', ['--root-owner-group', '--build', root, deb]);
    const url = new URL(p.url.replace(/\$arch/g, ARCH));
    const hostBucket = /^([a-z0-9.-]+)\.s3[.-]/.exec(url.hostname)?.[1];
    const parts = url.pathname.slice(1).split('/');
    const [bucket, key] = hostBucket ? [hostBucket, parts.join('/')] : [parts[0], parts.slice(1).join('/')];
    return { bucket, key, file: deb, url: url.toString(), name: p.name };
  });
}
