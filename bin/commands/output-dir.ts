import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeFsError } from '../../lib/config/read-file';
import { CommandError } from './command';

/*
 * Writing rendered files under a directory the user names, without trusting it: an existing
 * file, a kernel file system (/proc, /sys: Node's recursive mkdir loops forever on /proc) or an
 * unwritable place each get one sentence instead of a stack trace or a hang.
 */

/** statfs magic numbers of kernel file systems that hold no files (linux/magic.h). */
const KERNEL_FILE_SYSTEMS: Readonly<Record<number, string>> = {
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x73636673: 'securityfs',
  0x6165676c: 'pstore',
  0xcafe4a11: 'bpf',
  0x62656570: 'configfs',
  0xde5e81e4: 'efivarfs',
};

/** Creates `dir` (and its missing parents) after checking where it is; throws CommandError with the reason. */
export function prepareOutputDir(option: string, dir: string): void {
  const fail = (why: string) => new CommandError(`--${option} ${dir}: ${why}`);
  const missing: string[] = [];
  let existing = path.resolve(dir);
  for (;;) {
    try {
      const st = fs.statSync(existing);
      if (!st.isDirectory()) throw fail(existing === path.resolve(dir) ? 'it exists and is not a directory: name a new or an existing directory' : `${existing} is not a directory`);
      break;
    } catch (e) {
      if (e instanceof CommandError) throw e;
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fail(describeFsError(e));
      missing.unshift(existing);
      existing = path.dirname(existing);
    }
  }
  const fsType = KERNEL_FILE_SYSTEMS[fs.statfsSync(existing).type];
  if (fsType) throw fail(`${existing} is on the kernel's ${fsType} file system, which holds no files: choose a directory on a disk`);
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
    } catch (e) {
      throw fail(`cannot create ${d}: ${describeFsError(e)}`);
    }
  }
}

/** Writes one file under an output directory prepared by prepareOutputDir, creating its parents one by one. */
export function writeUnder(dir: string, relative: string, content: string | Buffer, mode: number): void {
  const root = path.resolve(dir);
  const target = path.join(root, relative);
  const parents: string[] = [];
  for (let d = path.dirname(target); d.length > root.length && d.startsWith(root); d = path.dirname(d)) parents.unshift(d);
  try {
    for (const d of parents) if (!fs.existsSync(d)) fs.mkdirSync(d);
    fs.writeFileSync(target, content, { mode });
  } catch (e) {
    throw new CommandError(`cannot write ${target}: ${describeFsError(e)}`);
  }
}
