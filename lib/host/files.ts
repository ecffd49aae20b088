import * as fs from 'node:fs';
import * as path from 'node:path';

/** A file a host needs, at its install path. */
export interface HostFile {
  readonly path: string;
  readonly content: string;
  /** Octal string, as cloud-init wants it. */
  readonly mode: string;
  /** From assets/ verbatim (scripts), rather than rendered from the config. */
  readonly asset?: boolean;
}

export const ASSETS_DIR = path.join(__dirname, '..', '..', 'assets');

/** A script shipped verbatim from assets/, installed executable in `binDir`. */
export function assetScript(name: string, binDir: string): HostFile {
  return { path: `${binDir}/${name}`, content: fs.readFileSync(path.join(ASSETS_DIR, name), 'utf8'), mode: '0755', asset: true };
}

/** A rendered file, or nothing when its renderer returned nothing (a feature turned off). */
export const optionalFile = (p: string, content: string | undefined, mode = '0644'): HostFile | undefined =>
  content === undefined ? undefined : { path: p, content, mode };

export const presentFiles = (files: readonly (HostFile | undefined)[]): HostFile[] => files.filter((f): f is HostFile => f !== undefined);
