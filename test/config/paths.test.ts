import { parseConfig } from '../../lib/config/load';
import { systemPathReason } from '../../lib/config/paths';
import { MirrorConfigError } from '../../lib/config/problems';

/*
 * Where the data volume may be mounted: never on the root file system or a directory the system
 * uses (test/config/bad/mount-point-*.yaml give the whole messages).
 */
describe('storage.mountPoint', () => {
  it.each(['/', '/etc', '/var', '/usr', '/home', '/srv', '/var/www', '/proc/mirror', '/sys/x', '/dev/mirror', '/run/mirror', '/etc/mirror', '/usr/local/mirror', '/var/lib/mirror', '/var/log/mirror', '/tmp', '/var/tmp', '/boot/mirror', '/root/mirror', '/etc/'])(
    '%s is refused',
    (mountPoint) => expect(systemPathReason(mountPoint)).toBeDefined(),
  );

  it.each(['/srv/mirror', '/srv/mirror-data', '/mnt/mirror', '/data', '/mirror', '/var/mirror', '/var/www/mirror', '/home/mirror/data', '/opt/mirror', '/tmp/mirrorfleet-test/srv/mirror'])('%s is a place of its own', (mountPoint) => {
    expect(systemPathReason(mountPoint)).toBeUndefined();
  });

  it.each(['/srv/../etc', '/srv/./mirror', '/srv/mirror/..'])('%s is refused before it is normalised', (mountPoint) => {
    const text = `preset: xcp-ng\nhostname: mirror.example.org\nadmin: { name: Ops, email: ops@example.org }\nsite: { city: Paris, country: FR }\nbandwidthMbps: 1000\nstorage: { mountPoint: "${mountPoint}" }\n`;
    expect(() => parseConfig(text)).toThrow(MirrorConfigError);
    expect(() => parseConfig(text)).toThrow(/storage\.mountPoint: .* without "\." or "\.\." components/);
  });
});
