import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from '../../support/tools';

/**
 * The stand-in packed as mirrorbits' `make release` packs the real one
 * (mirrorbits/mirrorbits, mirrorbits/templates/, mirrorbits/mirrorbits.conf), so the boot proof can
 * serve it where a deployment serves the real tarball, pinned by its sha256. The archive is
 * reproducible (sorted names, fixed owner and mtime, gzip without a name or time): the same
 * sources give the same sha256.
 */
const SOURCE = __dirname;
const TEMPLATES = ['base.html', 'mirrorlist.html', 'mirrorstats.html'];

export function buildStandinTarball(outFile: string): { file: string; sha256: string } {
  const staging = fs.mkdtempSync(path.join(path.dirname(outFile), '.standin-'));
  try {
    const root = path.join(staging, 'mirrorbits');
    fs.mkdirSync(path.join(root, 'mbstandin'), { recursive: true });
    fs.mkdirSync(path.join(root, 'templates'));
    fs.copyFileSync(path.join(SOURCE, 'mirrorbits'), path.join(root, 'mirrorbits'));
    fs.chmodSync(path.join(root, 'mirrorbits'), 0o755);
    for (const f of fs.readdirSync(path.join(SOURCE, 'mbstandin')).filter((n) => n.endsWith('.py')).sort()) {
      fs.copyFileSync(path.join(SOURCE, 'mbstandin', f), path.join(root, 'mbstandin', f));
      fs.chmodSync(path.join(root, 'mbstandin', f), 0o644);
    }
    for (const t of TEMPLATES) fs.writeFileSync(path.join(root, 'templates', t), `{{/* ${t}: the stand-in renders its own pages and does not read this file */}}\n`);
    fs.writeFileSync(path.join(root, 'mirrorbits.conf'), 'Repository: /srv/repo\nListenAddress: localhost:8080\nRPCListenAddress: localhost:3390\n');
    const tar = `${outFile.replace(/\.gz$/, '')}`;
    const t = run('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--mode=u+rw,go+r,go-w', '-cf', tar, '-C', staging, 'mirrorbits']);
    if (t.status !== 0) throw new Error(`tar: ${t.stderr}`);
    const z = run('gzip', ['-n', '-f', tar]);
    if (z.status !== 0) throw new Error(`gzip: ${z.stderr}`);
    if (`${tar}.gz` !== outFile) fs.renameSync(`${tar}.gz`, outFile);
    return { file: outFile, sha256: createHash('sha256').update(fs.readFileSync(outFile)).digest('hex') };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
