import { Preset, PresetTree } from '../presets';
import { Problem } from './problems';
import { TreeInput } from './schema';

/*
 * Which of a config's trees is which of its preset's trees. What a preset requires of its tree
 * (report_mirror's categories, the file list, the marker precheck, the listings, the guide's
 * schedule and excludes) follows the tree itself, never its name: a tree is the preset's when
 * it says so (`presetTree: fedora`), when its upstream is a module that carries the preset's
 * tree on any mirror (fedora-enchilada, repo, gentoo...), or when it has no upstream of its own
 * and so takes the preset's (a preset of one tree). A preset whose tree no configured
 * tree carries is an error: the node would not be the project's mirror.
 */

/** rsync://host[:port]/module/dir/ → "module/dir" (no trailing slash). */
export function upstreamModulePath(url: string): string | undefined {
  const m = /^rsync:\/\/(?:\[[^\]]+\]|[^/]+)\/(.+?)\/*$/i.exec(url);
  return m?.[1];
}

export interface PresetTreeMatch {
  /** The preset tree each configured tree carries, by index, or undefined for a tree of its own. */
  readonly byIndex: readonly (PresetTree | undefined)[];
  readonly problems: Problem[];
}

export function matchPresetTrees(preset: Preset, trees: readonly TreeInput[], written: boolean): PresetTreeMatch {
  if (!written) return { byIndex: trees.map((t) => preset.trees.find((p) => p.name === t.name)), problems: [] };
  const problems: Problem[] = [];
  const byIndex: (PresetTree | undefined)[] = trees.map(() => undefined);
  const names = preset.trees.map((p) => p.name);

  // Said explicitly.
  trees.forEach((t, i) => {
    if (t.presetTree === undefined) return;
    const pt = preset.trees.find((p) => p.name === t.presetTree);
    if (!pt) {
      problems.push({
        path: ['trees', i, 'presetTree'],
        allowed: names.length > 0 ? `one of preset ${preset.id}'s trees: ${names.join(', ')}` : `left out: preset ${preset.id} has no trees of its own`,
      });
      return;
    }
    const other = byIndex.indexOf(pt);
    if (other >= 0) {
      problems.push({ path: ['trees', i, 'presetTree'], allowed: `a preset tree no other tree carries: trees[${other}] already is preset ${preset.id}'s "${pt.name}"` });
      return;
    }
    byIndex[i] = pt;
  });

  const ambiguous = new Set<PresetTree>();
  // Known by the upstream, for the preset trees not claimed explicitly: a module that carries
  // the tree, or no upstream at all (the tree takes the preset's, so it is the preset's tree).
  for (const pt of preset.trees) {
    if (byIndex.includes(pt)) continue;
    const carriers = trees
      .map((t, i) => ({ t, i }))
      .filter(({ t, i }) => t.presetTree === undefined && byIndex[i] === undefined && carries(pt, t, preset));
    if (carriers.length === 1) byIndex[carriers[0].i] = pt;
    else if (carriers.length > 1) {
      ambiguous.add(pt);
      for (const { i } of carriers.slice(1)) {
        problems.push({
          path: ['trees', i, 'upstream'],
          allowed: `one tree per preset tree: trees[${carriers[0].i}] and trees[${i}] both sync preset ${preset.id}'s "${pt.name}" tree; mark the one that is with presetTree: ${pt.name}`,
        });
      }
    }
  }

  for (const pt of preset.trees) {
    if (byIndex.includes(pt) || ambiguous.has(pt)) continue;
    problems.push({
      path: ['trees'],
      shown: `no tree is preset ${preset.id}'s "${pt.name}" tree`,
      allowed: `a tree marked presetTree: ${pt.name}, or one whose upstream is a module that carries it (${pt.upstreamModules.join(', ')}) or left out (${pt.upstream})`,
    });
  }
  return { byIndex, problems };
}

function carries(pt: PresetTree, t: TreeInput, preset: Preset): boolean {
  if (t.upstream === undefined) return preset.trees.length === 1;
  return pt.upstreamModules.includes(upstreamModulePath(t.upstream) ?? '');
}
