import { chooseDataVolume } from '../../lib/config/aws';
import { hcloudNodeSpec } from '../../lib/config/hcloud';
import { parseConfig } from '../../lib/config/load';
import { NodeConfig } from '../../lib/config/node-config';

/*
 * storage.sizeGiB: auto holds every tree (N20): the preset's tree by the guide's figures, a tree
 * of the node's own by its sizeGiB (and growth), the sum with 25 % headroom, on both clouds.
 */
const node = (preset: string, trees: string, extra = '') =>
  parseConfig(`preset: ${preset}
hostname: mirror.example.org
admin: { name: Ops, email: ops@example.org }
site: { city: Lyon, country: FR }
bandwidthMbps: 1000
${extra}trees:
${trees}`);

const volumes = (c: NodeConfig) => ({ config: c.storage.sizeGiB, aws: chooseDataVolume(c).sizeGiB, hcloud: hcloudNodeSpec(c).volumeGB });

describe('an automatic data volume holds every tree (N20)', () => {
  it('a custom node: AlmaLinux, Debian and Rocky add up, with their growth and 25 % headroom', () => {
    const c = node(
      'custom',
      `  - { name: almalinux, upstream: "rsync://rsync.repo.almalinux.org/almalinux/", sizeGiB: 600 }
  - { name: debian, upstream: "rsync://ftp.debian.org/debian/", sizeGiB: 1500, growthGiBPerYear: 100 }
  - { name: rocky, upstream: "rsync://msync.rockylinux.org/rocky/mirror/pub/rocky/", sizeGiB: 500, growthGiBPerYear: 50 }
`,
    );
    // ((600 + 120 * 2) + (1500 + 100 * 2) + (500 + 50 * 2)) * 1.25 = 3925 -> 3930
    expect(volumes(c)).toEqual({ config: 3930, aws: 3930, hcloud: 3930 });
  });

  it('Fedora and EPEL take more than Fedora alone', () => {
    const fedora = '  - { name: fedora }\n';
    const epel = '  - { name: epel, upstream: "rsync://dl.fedoraproject.org/fedora-epel/", sizeGiB: 300, growthGiBPerYear: 40 }\n';
    const reports = 'reports: { reportMirror: { site: Example } }\n';
    const alone = node('fedora', fedora, reports);
    const both = node('fedora', fedora + epel, reports);
    expect(volumes(alone)).toEqual({ config: 1910, aws: 1910, hcloud: 1910 });
    // 1910 before rounding was 1907.5; + (300 + 40 * 2) * 1.25 = 475 -> 2382.5 -> 2390
    expect(volumes(both)).toEqual({ config: 2390, aws: 2390, hcloud: 2390 });
  });

  it('a tree of the node\'s own grows 20 % a year unless it says', () => {
    const c = node('custom', '  - { name: alma, upstream: "rsync://rsync.repo.almalinux.org/almalinux/", sizeGiB: 100 }\n');
    // (100 + 20 * 2) * 1.25 = 175 -> 180
    expect(c.storage.sizeGiB).toBe(180);
  });

  it('a fixed storage.sizeGiB needs no tree sizes', () => {
    const c = node('custom', '  - { name: alma, upstream: "rsync://rsync.repo.almalinux.org/almalinux/" }\n', 'storage: { sizeGiB: 500 }\n');
    expect(c.storage.sizeGiB).toBe(500);
  });
});
