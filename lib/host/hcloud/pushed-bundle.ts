import { createHash } from 'node:crypto';
import { BUNDLE_PATH, renderBundle } from '../bundle';
import { HostFile } from '../files';

/*
 * A Hetzner host whose files outgrow the 32 KiB of user data (the redirector) gets them from the
 * deploy instead: the user data names the bundle's sha256 and waits; the deploy copies the bundle
 * over SSH, as it already copies the redirector's mirror list (docs/adr/0059).
 */

/** Where the deploy copies the bundle, base64-encoded (Terraform's file provisioner carries text). */
export const PUSHED_BUNDLE_PATH = '/var/lib/mirrorfleet/node-files.tar.gz.b64';

/** How long the first boot waits for the deploy's copy before it gives up. */
export const PUSHED_BUNDLE_WAIT_SECONDS = 1800;

/**
 * Waits for $1 (base64) to decode to a .tar.gz with sha256 $3 and writes it to $2. A copy still
 * in flight fails the check and is read again; after $4 seconds the boot fails with what to do.
 */
export const AWAIT_PUSHED_BUNDLE = [
  'i=0',
  'while :; do',
  '  if [ -s "$1" ] && base64 -d "$1" > "$2.part" 2>/dev/null && echo "$3  $2.part" | sha256sum -c --quiet >/dev/null 2>&1; then mv "$2.part" "$2"; exit 0; fi',
  '  rm -f "$2.part"',
  '  if [ "$i" -ge "$4" ]; then echo "mirrorfleet: no bundle with sha256 $3 at $1 after $4 s: the deploy copies it over SSH (terraform_data *_bundle); run cdktf deploy again" >&2; exit 1; fi',
  '  sleep 2; i=$((i + 2))',
  'done',
].join('\n');

export interface PushedBundle {
  /** The base64 text the deploy copies to PUSHED_BUNDLE_PATH. */
  readonly text: string;
  /** sha256 of the decoded .tar.gz, which the user data waits for. */
  readonly sha256: string;
  /** The user-data commands that wait for it and leave it at BUNDLE_PATH. */
  readonly fetchBundle: readonly (readonly string[])[];
}

export function renderPushedBundle(files: readonly HostFile[], waitSeconds = PUSHED_BUNDLE_WAIT_SECONDS): PushedBundle {
  const bundle = renderBundle(files);
  const sha256 = createHash('sha256').update(bundle).digest('hex');
  return {
    text: bundle.toString('base64'),
    sha256,
    fetchBundle: [['sh', '-c', AWAIT_PUSHED_BUNDLE, 'await-bundle', PUSHED_BUNDLE_PATH, BUNDLE_PATH, sha256, String(waitSeconds)]],
  };
}
