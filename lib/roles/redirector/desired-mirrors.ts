import type { Mirror, MirrorList } from '../../project/mirrors';

/*
 * The mirror list as the redirector's reconciler reads it (R3): mirrors.yaml resolved, one JSON
 * document per deploy. The reconciler (assets/mirrorfleet-reconcile) brings mirrorbits in line
 * with it; mirrorbits' own field names and normal forms are the reconciler's business.
 */
export interface DesiredMirrors {
  readonly version: 1;
  readonly mirrors: readonly Mirror[];
}

export function renderDesiredMirrors(list: MirrorList): string {
  const doc: DesiredMirrors = { version: 1, mirrors: list.mirrors };
  return `${JSON.stringify(doc, null, 1)}\n`;
}
