
/** The data volume's file-system label: fstab mounts it by this, whatever its device name. */
export const DATA_LABEL = 'mirrordata';

/**
 * The data volume's fstab options. It holds only what upstream sent: nosuid, nodev and noexec
 * keep a planted setuid program or device file inert (docs/sync-guarantees.md, case 6).
 */
export const DATA_MOUNT_OPTIONS = 'defaults,nofail,noatime,nosuid,nodev,noexec,x-systemd.device-timeout=60s';

/**
 * How long a node waits at boot for its data volume to appear. Clouds attach the volume after
 * the server starts (EC2 after the instance is running, Hetzner after the server is created).
 */
export const DATA_VOLUME_WAIT_SECONDS = { aws: 600, hcloud: 300, other: 30 } as const;

/**
 * Prepares the data volume at every boot, before cloud-init's `mounts`: waits for the block
 * device, formats it only when it carries no signature at all, keeps it when it holds our file
 * system, and refuses anything else. This is the one place a mirror can be destroyed, so it is
 * not left to cloud-init's fs_setup: with `partition: none` that formats whatever is there on
 * every first boot of an instance (a rebuild, a re-provisioned AWS node), `overwrite: false`
 * notwithstanding (docs/adr/0023).
 *
 * POSIX sh, run by bootcmd as `sh -c SCRIPT mirrorfleet-data-volume DEVICE FSTYPE LABEL WAIT`.
 * `blkid -p` probes the device itself (no udev cache): exit 0 = a signature, 2 = none.
 */
export const PREPARE_DATA_VOLUME = `dev=$1 fs=$2 label=$3 wait=$4 i=0
say() { echo "mirrorfleet-data-volume: $*" >&2; }
while [ ! -b "$dev" ]; do
  i=$((i + 1))
  if [ "$i" -gt "$wait" ]; then say "no data volume at $dev after $wait s"; exit 1; fi
  sleep 1
done
found=$(blkid -p -o export "$dev"); rc=$?
if [ "$rc" -eq 0 ]; then
  type=$(printf '%s\\n' "$found" | sed -n 's/^TYPE=//p')
  have=$(printf '%s\\n' "$found" | sed -n 's/^LABEL=//p')
  if [ "$type" = "$fs" ] && [ "$have" = "$label" ]; then say "keeping the $fs file system labelled $label on $dev"; exit 0; fi
  say "refusing to format $dev: it holds $(printf '%s\\n' "$found" | grep -E '^(TYPE|PTTYPE|LABEL)=' | tr '\\n' ' ')(expected an empty disk or $fs labelled $label)"
  exit 1
elif [ "$rc" -ne 2 ]; then
  say "cannot probe $dev (blkid exit $rc)"; exit 1
fi
if ! command -v "mkfs.$fs" >/dev/null; then
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends xfsprogs; } >&2 || { say "mkfs.$fs is missing and xfsprogs did not install"; exit 1; }
fi
say "formatting the empty $dev as $fs labelled $label"
mkfs."$fs" -q -L "$label" "$dev"`;

/** The bootcmd entry that runs PREPARE_DATA_VOLUME for this node's volume. */
export function prepareDataVolumeCommand(filesystem: 'ext4' | 'xfs', device: string, waitSeconds: number): string[] {
  return ['sh', '-c', PREPARE_DATA_VOLUME, 'mirrorfleet-data-volume', device, filesystem, DATA_LABEL, String(waitSeconds)];
}
