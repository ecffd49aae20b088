import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO } from './support/fixtures';

/*
 * The layout's rules (docs/layout.md), held by a test: lib/ is pure and provider-neutral, so
 * everything a host runs is rendered and tested without any cloud library; every cdktf import
 * stays in one folder, so a switch to its successor (cdktn) touches that folder only.
 */

function filesUnder(dir: string): string[] {
  return fs.readdirSync(path.join(REPO, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(REPO, path.join(e.parentPath, e.name)))
    .filter((f) => !f.includes('node_modules'));
}

/** Every module a file imports or requires: a package name, or a repo path ("./" first) for a relative import. */
export function importsOf(file: string, text: string): string[] {
  const specs = [...text.matchAll(/(?:^|\s)(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|(?:^|\s)import\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)/gm)]
    .map((m) => m[1] ?? m[2] ?? m[3] ?? m[4]);
  return specs.map((s) => (s.startsWith('.') ? `./${path.normalize(path.join(path.dirname(file), s))}` : s));
}

const CLOUD_LIBRARIES = ['aws-cdk-lib', 'cdktf', 'constructs', 'cdk-nag', '@cdktf/'];

/** Why lib/ may not import `spec`, or undefined when it may. */
function forbiddenInLib(spec: string): string | undefined {
  if (/^\.\/(constructs|bin)(\/|$)/.test(spec)) return `wiring or an app (${spec.slice(2)})`;
  if (CLOUD_LIBRARIES.some((l) => spec === l || spec.startsWith(l.endsWith('/') ? l : `${l}/`))) return `a cloud library (${spec})`;
  return undefined;
}

describe('architecture', () => {
  it('lib/ imports no cloud library and nothing from constructs/ or bin/', () => {
    expect(filesUnder('lib').length).toBeGreaterThan(30);
    const bad = filesUnder('lib').flatMap((f) =>
      importsOf(f, fs.readFileSync(path.join(REPO, f), 'utf8')).flatMap((s) => (forbiddenInLib(s) ? [`${f}: ${forbiddenInLib(s)}`] : [])),
    );
    expect(bad).toEqual([]);
  });

  it('the check can fail: it sees each way of importing', () => {
    const text = [
      "import { Stack } from 'aws-cdk-lib';",
      "import type { IConstruct } from 'constructs';",
      "export { App } from 'cdktf';",
      "const nag = require('cdk-nag');",
      "import { HostFirewall } from '../../constructs/aws/host-firewall';",
      "const app = import('../../bin/cli');",
      "import { parse } from 'yaml';",
    ].join('\n');
    const found = importsOf('lib/host/x.ts', text).map((s) => forbiddenInLib(s) ?? 'allowed');
    expect(found).toEqual([
      'a cloud library (aws-cdk-lib)', 'a cloud library (constructs)', 'a cloud library (cdktf)', 'a cloud library (cdk-nag)',
      'wiring or an app (constructs/aws/host-firewall)', 'wiring or an app (bin/cli)', 'allowed',
    ]);
  });

  it('every cdktf import is in constructs/hcloud/ (or the app, tests and tools that use it)', () => {
    const outside = ['lib', 'constructs', 'bin', 'bench']
      .flatMap(filesUnder)
      .filter((f) => !f.startsWith('constructs/hcloud/') && f !== 'bin/cdktf-app.ts')
      .filter((f) => importsOf(f, fs.readFileSync(path.join(REPO, f), 'utf8')).some((s) => s === 'cdktf' || s.startsWith('@cdktf/')));
    expect(outside).toEqual([]);
  });

  it('no comment switches off a linter the project does not run', () => {
    const dirs = ['lib', 'constructs', 'bin', 'bench', 'test'];
    const hits = dirs.flatMap(filesUnder).filter((f) => !f.startsWith('constructs/hcloud/bindings/'))
      .filter((f) => /eslint-disable|tslint:disable/.test(fs.readFileSync(path.join(REPO, f), 'utf8')) && f !== 'test/architecture.test.ts');
    expect(hits).toEqual([]);
  });
});
