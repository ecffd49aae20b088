import * as fs from 'node:fs';
import * as path from 'node:path';
import { INLINE_BUNDLE_PATH, INLINE_TAR_PATH } from '../../lib/host/inline-bundle';
import { run } from './tools';

/**
 * Runs an inline user data's first two runcmd entries as cloud-init would (python3 decodes the
 * bundle, tar extracts it), into `dir`/root instead of /. Returns that root; throws with the
 * programs' stderr if either fails.
 */
export function extractInlineBundle(doc: { write_files: { path: string; content: string }[]; runcmd: string[][] }, dir: string): string {
  const entry = doc.write_files.find((f) => f.path === INLINE_BUNDLE_PATH);
  if (!entry) throw new Error(`no ${INLINE_BUNDLE_PATH} in write_files`);
  const root = path.join(dir, 'root');
  const encoded = path.join(dir, 'bundle.tar.lzma.b85');
  const plain = path.join(dir, 'bundle.tar');
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(encoded, entry.content);
  const local = (a: string) => (a === '/' ? root : a === INLINE_BUNDLE_PATH ? encoded : a === INLINE_TAR_PATH ? plain : a);
  const [decode, extract] = doc.runcmd;
  if (decode[0] !== 'python3' || extract[0] !== 'tar') throw new Error(`runcmd does not start with python3 and tar: ${JSON.stringify(doc.runcmd.slice(0, 2))}`);
  for (const [cmd, ...args] of [decode, extract]) {
    const r = run(cmd, args.map(local));
    if (r.status !== 0 || r.stderr !== '') throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
  }
  return root;
}
