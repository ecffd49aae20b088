import type { HostFile } from '../../host/files';
import { renderShellVars } from '../../render/shell';
import { type UnitFile, everyMinuteTimer } from '../../host/units';
import { RedirectorLayout } from './layout';

/*
 * How a changed mirrors.yaml reaches the redirector without re-provisioning it (R3). The bundle
 * carries the list at first boot; then:
 * - AWS: each deploy ships the list as an S3 asset and points an SSM parameter at it ("s3://…
 *   sha256"); the host checks the parameter every minute and fetches what it names;
 * - Hetzner: the deploy copies the list over SSH (a terraform_data resource with a file
 *   provisioner, as root, with the admin key);
 * either way the file changes and its path unit runs the reconciler.
 */
export type MirrorListSource = { readonly kind: 'file' } | { readonly kind: 'aws-ssm'; readonly parameter: string };

export const mirrorListPath = (rl: RedirectorLayout) => `${rl.etcDir}/mirrors.json`;
export const MIRROR_LIST_UNITS = { poll: 'mirrorfleet-mirror-list.service', pollTimer: 'mirrorfleet-mirror-list.timer' } as const;

export function mirrorListFiles(source: MirrorListSource, rl: RedirectorLayout): HostFile[] {
  if (source.kind === 'file') return [];
  const units: UnitFile[] = [
    {
      name: MIRROR_LIST_UNITS.poll,
      enable: false,
      content: `[Unit]
Description=Fetch the mirror list the last deploy published (R3)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=${rl.host.binDir}/mirrorfleet-mirror-list ${rl.etcDir}/mirror-list.env
`,
    },
    everyMinuteTimer(MIRROR_LIST_UNITS.pollTimer, 'Check for a new mirror list every minute (R3)'),
  ];
  return [
    { path: `${rl.etcDir}/mirror-list.env`, content: renderShellVars('mirrorfleet: where the redirector finds the mirror list of the last deploy (R3).', { SSM_PARAMETER: source.parameter, TARGET: mirrorListPath(rl) }), mode: '0644' },
    ...units.map((u) => ({ path: `${rl.host.systemdDir}/${u.name}`, content: u.content, mode: '0644' })),
    { path: `${rl.host.binDir}/mirrorfleet-mirror-list`, content: MIRROR_LIST_SCRIPT, mode: '0755' },
  ];
}

/** Small enough to render here; shellchecked by test/redirector tests like the assets. */
const MIRROR_LIST_SCRIPT = `#!/bin/bash
# mirrorfleet-mirror-list ENV: fetch the mirror list the SSM parameter names ("s3://BUCKET/KEY SHA256"),
# keep it only if its sha256 matches, and put it in place (its path unit then reconciles).
set -euo pipefail
# shellcheck source=/dev/null
. "\${1:?usage: mirrorfleet-mirror-list ENV}"
: "\${SSM_PARAMETER:?}" "\${TARGET:?}"
token=$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token)
region=$(curl -fsS -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/placement/region)
read -r url sha < <(aws ssm get-parameter --region "$region" --name "$SSM_PARAMETER" --query Parameter.Value --output text)
if [ -s "$TARGET" ] && echo "$sha  $TARGET" | sha256sum -c --quiet 2>/dev/null; then exit 0; fi
tmp=$(mktemp "$TARGET.XXXXXX")
trap 'rm -f "$tmp"' EXIT
aws s3 cp --only-show-errors --region "$region" "$url" "$tmp"
echo "$sha  $tmp" | sha256sum -c --quiet
chmod 0644 "$tmp"
mv -f "$tmp" "$TARGET"
trap - EXIT
echo "mirrorfleet-mirror-list: new mirror list $sha"
`;
