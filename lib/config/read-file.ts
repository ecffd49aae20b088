import * as fs from 'node:fs';

/*
 * Reading a mirror.yaml without trusting the path: a device (/dev/zero), a pipe or a huge file
 * would otherwise be read until memory runs out. A config is a few KiB; 1 MiB is generous.
 */

export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Why a file operation failed, as a sentence instead of an errno code. */
export function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const sentence = err.code ? ERRNO_SENTENCES[err.code] : undefined;
  if (sentence) return sentence;
  // Node's own text without the leading "ECODE: " and the trailing ", open '/path'".
  return (err.message ?? String(e)).replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
}

const ERRNO_SENTENCES: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory, not a file',
  ENOTDIR: 'a part of the path is not a directory',
  EEXIST: 'it already exists',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EIO: 'an input/output error',
  EMFILE: 'too many open files',
  EBUSY: 'the file is busy',
  ENXIO: 'no such device',
  ENODEV: 'no such device',
  EINVAL: 'the operation is not supported there',
};

export type ReadResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly reason: string };

/** The text of a config file, or why it cannot be a config: missing, not a regular file, too large, not UTF-8. */
export function readConfigText(file: string): ReadResult {
  let fd: number | undefined;
  try {
    // stat first: opening a FIFO would block, and a device is never a config.
    const st = fs.statSync(file);
    if (st.isDirectory()) return { ok: false, reason: 'it is a directory: give the path of a mirror.yaml' };
    if (!st.isFile()) return { ok: false, reason: `it is ${kind(st)}, not a regular file: give the path of a mirror.yaml` };
    if (st.size > MAX_CONFIG_BYTES) return { ok: false, reason: tooLarge(st.size) };
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    // Read at most one byte past the cap, in case the file grew since stat.
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (let n; length < buf.length && (n = fs.readSync(fd, buf, length, buf.length - length, null)) > 0; ) length += n;
    if (length > MAX_CONFIG_BYTES) return { ok: false, reason: tooLarge(length) };
    try {
      return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, length)) };
    } catch {
      return { ok: false, reason: 'it is not UTF-8 text: a mirror.yaml is a YAML text file' };
    }
  } catch (e) {
    return { ok: false, reason: describeFsError(e) };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function kind(st: fs.Stats): string {
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a pipe';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}

const tooLarge = (bytes: number) => `it takes ${bytes > MAX_CONFIG_BYTES * 1024 ? 'more than 1 GiB' : `${bytes} bytes`}, more than the ${MAX_CONFIG_BYTES / 1024 / 1024} MiB a mirror.yaml may take (a few KiB is usual)`;
