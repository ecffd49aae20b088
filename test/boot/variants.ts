import { Example } from '../support/fixtures';
import { runAwsTamperedBundle } from './aws-tamper';
import { awsInPlaceUpdate } from './aws-update';
import { awsVariant } from './aws-variant';
import { hcloudVariant } from './hcloud-variant';
import { Results } from './results';
import { runExample } from './scenario';
import { hasCommand } from './sh';
import { BootVariant } from './variant';

/*
 * The clouds' variants of the user data booted by `npm run test:boot` (after the generic examples,
 * before the negative cases): `--variants aws,hcloud` (the default), `--variants none`,
 * `--only-variants`. Which example each boots, and why, is said here and in test/boot/README.md.
 */
export type VariantName = 'aws' | 'hcloud';

export const VARIANTS: Record<VariantName, { readonly example: Example; readonly index: number; readonly needs: Record<string, string>; readonly make: () => BootVariant; readonly after?: (index: number, base: string, results: Results) => Promise<void> }> = {
  // The default example, and the preset whose guide lists the most checks (HTTPS, rsync, ext4).
  aws: { example: 'xcp-ng', index: 211, needs: { 'dpkg-deb': 'dpkg', nft: 'nftables' }, make: () => awsVariant(awsInPlaceUpdate), after: runAwsTamperedBundle },
  // The preset on xfs, with listings and a 4-hour schedule: what differs most from xcp-ng.
  hcloud: { example: 'gentoo', index: 212, needs: { nft: 'nftables', prometheus: 'prometheus' }, make: () => hcloudVariant() },
};

export async function runVariants(names: readonly VariantName[], base: string, results: Results): Promise<void> {
  for (const name of names) {
    const v = VARIANTS[name];
    const missing = Object.entries(v.needs).filter(([cmd]) => !hasCommand(cmd));
    if (missing.length) {
      results.fail(`${name} variant`, `missing: ${missing.map(([c]) => c).join(', ')}: apt-get install -y --no-install-recommends ${[...new Set(missing.map(([, p]) => p))].join(' ')}`);
      continue;
    }
    const t0 = Date.now();
    await runExample(v.example, v.index, base, results, false, v.make());
    if (v.after) await v.after(v.index + 5, base, results);
    console.log(`\n>> ${v.example} on ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s in all`);
  }
}
