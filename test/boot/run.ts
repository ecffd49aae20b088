/**
 * `npm run test:boot`: the boot proof. Each example's rendered user data provisions a clean
 * Debian 12 system booted with systemd as PID 1 under systemd-nspawn, and the node is tested
 * from outside; then the negative cases. `npm run test:boot:vm` (--vm) does a full boot under
 * qemu instead (vm.ts). Prints each phase's time and ends with "N passed, N failed".
 *
 *   test:boot [--examples xcp-ng,fedora,gentoo] [--no-negative | --only-negative] [--no-master | --only-master]
 *             [--variants aws,hcloud | --variants none | --only-variants]   (the clouds' user data, variants.ts)
 *             [--no-redirector | --only-redirector]  (the redirector boots after the master, in its run)
 *   env: MIRRORFLEET_BOOT_CACHE (base image cache, default /var/cache/mirrorfleet-boot),
 *        MIRRORFLEET_BOOT_TIMER_WAIT=all (wait for the certificate retry timer on every example,
 *        not only the first), MIRRORFLEET_BOOT_KEEP=1 (keep scratch directories), MIRRORFLEET_BOOT_TMP (default /var/tmp)
 */
import { EXAMPLES, Example } from '../support/fixtures';
import { ensureBase, extractedBase } from './base';
import { cleanup } from './cleanup';
import { NEGATIVE_CASES, runNegative } from './negative';
import { Results } from './results';
import { runMaster } from './master';
import { runExample } from './scenario';
import { hasCommand } from './sh';
import { runVm } from './vm';
import { VARIANTS, VariantName, runVariants } from './variants';


const NEEDS: Record<string, string> = {
  mmdebstrap: 'mmdebstrap',
  'systemd-nspawn': 'systemd-container',
  tinyproxy: 'tinyproxy-bin',
  pebble: 'pebble',
  'pebble-challtestsrv': 'pebble',
  rsync: 'rsync',
  curl: 'curl',
  openssl: 'openssl',
  losetup: 'util-linux',
  nsenter: 'util-linux',
  blkid: 'util-linux',
  zstd: 'zstd',
  ip: 'iproute2',
  dumpe2fs: 'e2fsprogs',
  // The master's build host: rsync over SSH.
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
};
const NEEDS_VM: Record<string, string> = {
  'qemu-system-x86_64': 'qemu-system-x86',
  'qemu-img': 'qemu-utils',
  genisoimage: 'genisoimage',
  socat: 'socat',
  'mkfs.ext4': 'e2fsprogs',
};

async function main(argv: string[]): Promise<number> {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const vm = argv.includes('--vm');
  const examples = (arg('--examples')?.split(',') ?? (vm ? ['xcp-ng'] : [...EXAMPLES])) as Example[];
  const unknown = examples.filter((e) => !EXAMPLES.includes(e));
  const results = new Results();
  if (unknown.length) {
    console.log(`unknown example(s): ${unknown.join(', ')}; allowed: ${EXAMPLES.join(', ')}`);
    console.log('0 passed, 1 failed');
    return 2;
  }
  const variantArg = arg('--variants');
  const variants = (variantArg === 'none' ? [] : (variantArg?.split(',') ?? Object.keys(VARIANTS))) as VariantName[];
  const unknownVariants = variants.filter((v) => !(v in VARIANTS));
  if (unknownVariants.length) {
    console.log(`unknown variant(s): ${unknownVariants.join(', ')}; allowed: ${Object.keys(VARIANTS).join(', ')}, none`);
    console.log('0 passed, 1 failed');
    return 2;
  }
  const needs = { ...NEEDS, ...(vm ? NEEDS_VM : {}) };
  const missing = Object.entries(needs).filter(([cmd]) => !hasCommand(cmd));
  if (process.getuid?.() !== 0 || missing.length) {
    if (process.getuid?.() !== 0) console.log('the boot test runs as root (network namespaces, loop devices, systemd-nspawn)');
    if (missing.length) console.log(`missing: ${missing.map(([c]) => c).join(', ')}: apt-get install -y --no-install-recommends ${[...new Set(missing.map(([, p]) => p))].join(' ')}`);
    console.log('0 passed, 1 failed');
    return 1;
  }
  const t0 = Date.now();
  const stop = async (signal: string) => {
    console.log(`\n${signal}: cleaning up`);
    await cleanup.runAll();
    console.log(results.summary());
    process.exit(130);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  try {
    const kind = vm ? 'vm' : 'nspawn';
    const base = await results.phase(`base image (Debian 12, ${kind})`, async () => {
      const b = ensureBase(kind, (s) => console.log(`  ${s}`));
      console.log(`  ${b.built ? `built in ${b.seconds.toFixed(1)} s` : 'cached'}: ${b.file}`);
      if (!vm) {
        // Extracted once (kept beside the tarball): every node's root is an overlay on it.
        const te = Date.now();
        const root = extractedBase(b.file);
        console.log(`  extracted base ready in ${((Date.now() - te) / 1000).toFixed(1)} s: ${root}`);
      }
      return b.file;
    });
    if (vm) {
      for (const [i, ex] of examples.entries()) await runVm(ex, 240 + i, base, results);
    } else {
      const onlyRedirector = argv.includes('--only-redirector');
      const only = argv.includes('--only-negative') || argv.includes('--only-master') || argv.includes('--only-variants') || onlyRedirector;
      if (!only) {
        for (const [i, ex] of examples.entries()) {
          const te = Date.now();
          await runExample(ex, 201 + i, base, results, i === 0 || process.env.MIRRORFLEET_BOOT_TIMER_WAIT === 'all');
          console.log(`\n>> ${ex}: ${((Date.now() - te) / 1000).toFixed(1)} s in all`);
        }
      }
      if (argv.includes('--only-master') || onlyRedirector || (!only && !argv.includes('--no-master'))) {
        const te = Date.now();
        await runMaster(231, base, results, { redirector: !argv.includes('--no-redirector'), forRedirectorOnly: onlyRedirector });
        console.log(`\n>> master${argv.includes('--no-redirector') ? '' : ' and redirector'}: ${((Date.now() - te) / 1000).toFixed(1)} s in all`);
      }
      if (argv.includes('--only-variants') || !only) await runVariants(variants, base, results);
      if (argv.includes('--only-negative') || (!only && !argv.includes('--no-negative'))) {
        for (const [i, k] of NEGATIVE_CASES.entries()) await runNegative(k, 221 + i, base, results);
      }
    }
  } catch (e) {
    results.fail('boot test', `${(e as Error).stack ?? e}`);
  } finally {
    await cleanup.runAll();
  }
  console.log(`\nTotal: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(results.summary());
  return results.failed > 0 ? 1 : 0;
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
