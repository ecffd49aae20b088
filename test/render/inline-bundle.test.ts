import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DECODE_INLINE_BUNDLE, base85, renderInlineBundle } from '../../lib/host/inline-bundle';
import { tar } from '../../lib/host/tar';
import { renderNodeUserData } from '../../lib/roles/mirror-node/role';
import { mirrorNodeHost } from '../../lib/roles/mirror-node/role';
import { hostFiles } from '../../lib/host/host';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { EXAMPLES, exampleConfig, tmpDir } from '../support/fixtures';
import { describeWith, run } from '../support/tools';

describeWith(['python3'], 'the inline bundle, decoded by the python3 cloud-init runs on', () => {
  it('base85 matches Python\'s base64.b85encode for every length of a last group', () => {
    const samples = [0, 1, 2, 3, 4, 5, 7, 8, 255].map((n) => Uint8Array.from({ length: n }, (_, i) => (i * 97 + n * 31) % 256));
    samples.push(Uint8Array.from([255, 255, 255, 255, 0, 0, 0, 0, 255]));
    const hex = samples.map((s) => Buffer.from(s).toString('hex'));
    const r = run('python3', ['-c', 'import base64, sys; print("\\n".join(base64.b85encode(bytes.fromhex(h)).decode() for h in sys.argv[1:]))', ...hex]);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').slice(0, samples.length)).toEqual(samples.map((s) => base85(s)));
  });

  it.each(EXAMPLES)('examples/%s.yaml: DECODE_INLINE_BUNDLE gives back the tar byte for byte', (example) => {
    const files = hostFiles(mirrorNodeHost(exampleConfig(example)), NODE_LAYOUT);
    const dir = tmpDir('inline');
    const from = path.join(dir, 'in');
    const to = path.join(dir, 'out');
    fs.writeFileSync(from, renderInlineBundle(files));
    const r = run('python3', ['-c', DECODE_INLINE_BUNDLE, from, to]);
    expect(r.stderr).toBe('');
    expect(fs.readFileSync(to).equals(tar(files))).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a damaged bundle instead of unpacking part of it (the check can fail)', () => {
    const files = hostFiles(mirrorNodeHost(exampleConfig('xcp-ng')), NODE_LAYOUT);
    const dir = tmpDir('inline');
    const text = renderInlineBundle(files);
    fs.writeFileSync(path.join(dir, 'in'), text.slice(0, text.length - 40));
    const r = run('python3', ['-c', DECODE_INLINE_BUNDLE, path.join(dir, 'in'), path.join(dir, 'out')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/end-of-stream|LZMAError/);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('inline bundle size', () => {
  it.each(EXAMPLES)('examples/%s.yaml: smaller inline than gzip + base64 would be', (example) => {
    const c = exampleConfig(example);
    const files = hostFiles(mirrorNodeHost(c), NODE_LAYOUT);
    const inline = Buffer.byteLength(renderInlineBundle(files));
    const gzipBase64 = gzipSync(tar(files), { level: 9 }).toString('base64').length;
    expect(inline).toBeLessThan(gzipBase64 * 0.9);
    expect(renderNodeUserData(c)).toContain(renderInlineBundle(files));
  });
});
