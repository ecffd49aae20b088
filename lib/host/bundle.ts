import { gzipSync } from 'node:zlib';
import { HostFile } from './files';
import { tar } from './tar';

/** Where the user data puts the bundle of every host file before unpacking it over /. */
export const BUNDLE_PATH = '/var/lib/mirrorfleet/node-files.tar.gz';

/** The host's files as one deterministic .tar.gz (same bytes for the same config). */
export function renderBundle(files: readonly HostFile[]): Buffer {
  const gz = gzipSync(tar(files), { level: 9 });
  // The gzip header names the OS that wrote it; pin "Unix" so a deploy from macOS or Windows
  // yields the same bytes (and does not re-provision the host).
  gz[9] = 3;
  return gz;
}
