import * as fs from 'node:fs';
import * as path from 'node:path';
import { MirrorConfigError } from '../../lib/config/problems';
import { REPO, tmpDir } from '../support/fixtures';

/* The example project with its redirector switched between profiles (R5): one line changes. */
export const EXAMPLE_PROJECT = path.join(REPO, 'examples', 'project.yaml');

/** A directory holding examples/project.yaml (edited) and examples/mirrors.yaml; returns the project file. */
export function projectWith(edit: (text: string) => string = (s) => s): string {
  const dir = tmpDir('scaled-project');
  fs.writeFileSync(path.join(dir, 'project.yaml'), edit(fs.readFileSync(EXAMPLE_PROJECT, 'utf8')));
  fs.copyFileSync(path.join(REPO, 'examples', 'mirrors.yaml'), path.join(dir, 'mirrors.yaml'));
  return path.join(dir, 'project.yaml');
}

/** The one switch: `profile: single` becomes `profile: scaled`. */
export const toScaled = (text: string) => {
  if (!text.includes('  profile: single\n')) throw new Error('examples/project.yaml has no "  profile: single" line');
  return text.replace('  profile: single\n', '  profile: scaled\n');
};

export const scaledProject = (edit: (text: string) => string = (s) => s) => projectWith((s) => edit(toScaled(s)));

/** The problem lines of a config error, the file name replaced by FILE. */
export function problems(file: string, run: () => unknown): string[] {
  try {
    run();
  } catch (e) {
    if (e instanceof MirrorConfigError) return e.lines.map((l) => l.replace(file, 'FILE'));
    throw e;
  }
  return [];
}
