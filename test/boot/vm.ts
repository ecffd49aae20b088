import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { NODE_LAYOUT } from '../../lib/render/layout';
import { renderUnits } from '../../lib/render/systemd';
import { freePort } from '../support/ports';
import { Example } from '../support/fixtures';
import { extractBase } from './base';
import { cleanup } from './cleanup';
import { bootConfig, bootUserData, preferredRoot } from './config';
import { http, rsync } from './probe';
import { Results, expect } from './results';
import { scratch, startWorld } from './scenario';
import { must, sleep, tail } from './sh';
import { TREES } from './trees';
import { installResolver } from './vm-resolver';
import { ACME_PORT, PROXY_PORT, UPSTREAM_RSYNC_PORT, World } from './world';


/**
 * `npm run test:boot:vm` (opt-in): the same user data under qemu-system-x86_64 with Debian's
 * kernel and initramfs, a cidata ISO seed (found by ds-identify, not handed over), DHCP from
 * slirp, the data volume as a second virtio disk with udev naming it by serial, and the fstab
 * mount at reboot done by systemd itself. This is what nspawn cannot show: kernel, block devices,
 * udev, DHCP, seed detection, the data-volume step on a real disk, a real reboot.
 *
 * There is no shell into the guest: a harness-only agent baked into the image (not part of the
 * product) writes a report of the node's state to the second serial port once boot is over, and
 * takes "reboot", "poweroff" and "sentinel:<text>" commands from it. HTTP, HTTPS and rsync are
 * checked from the host through slirp port forwards; the guest's only ways out are guestfwd
 * tunnels to the world (the Debian-only proxy, the upstream rsync daemon, pebble, its DNS server
 * behind the guest's resolver stand-in in vm-resolver.ts).
 *
 * KVM is used when a probe boot shows it works; this machine's /dev/kvm opens but cannot run a
 * guest (boot-proof.md 4.1), so it falls back to TCG: 3-5 minutes per provisioning boot.
 */

const GUEST = { proxy: '10.0.2.100', upstream: '10.0.2.101', acme: '10.0.2.102', dns: '10.0.2.103' } as const;
const DNS_PORT = 53;
const DATA_SERIAL = 'mirrordata';

const AGENT = `#!/bin/bash
# mirrorfleet boot test agent (harness only, never on a real node): once boot is over and the
# units started at provisioning have settled, report the node's state on /dev/ttyS1; then obey
# commands read from it. Settings in /etc/mirrorfleet-boot-agent.conf (MOUNT_POINT, DEVICE, UNITS).
. /etc/mirrorfleet-boot-agent.conf
tty=/dev/ttyS1
stty -F $tty raw -echo 115200
systemctl is-system-running --wait >/dev/null 2>&1
for _ in $(seq 600); do
  jobs=$(systemctl list-jobs --no-legend | grep -v mirrorfleet-boot-agent)
  busy=$(systemctl show -p ActiveState $UNITS 2>/dev/null | grep -c activating)
  [ -z "$jobs" ] && [ "$busy" = 0 ] && break
  sleep 1
done
section() { echo "--- $1"; }
{
  echo "=== BOOT-REPORT-BEGIN"
  section cloud-init; cloud-init status --long
  section errors; python3 -c 'import json; [print(e) for e in json.load(open("/var/lib/cloud/data/result.json"))["v1"]["errors"]]' 2>&1
  section state; systemctl is-system-running
  section failed; systemctl --failed --no-legend --plain
  for u in $(systemctl --failed --no-legend --plain | awk '{print $1}'); do section "journal $u"; journalctl -b -n 12 --no-pager -o cat -u "$u"; done
  section mount; findmnt -n -o SOURCE,FSTYPE "$MOUNT_POINT"
  section mount-unit; systemctl show -p ActiveState,What "$(systemd-escape -p --suffix=mount "$MOUNT_POINT")"
  section blkid; blkid -p -o export "$DEVICE"
  section device; readlink -f "$DEVICE"
  section sentinel; cat "$MOUNT_POINT/.boot-test-sentinel" 2>&1
  section provision; grep -c 'mirrorfleet-provision: done' /var/log/cloud-init-output.log
  section disk-setup; grep '^mirrorfleet-data-volume: ' /var/log/cloud-init-output.log
  section log-errors; grep -h -E '^E: |mirrorfleet-provision: |\\[(WARNING|ERROR)\\]' /var/log/cloud-init-output.log /var/log/cloud-init.log | tail -n 15
  section net; ip -br -4 addr show scope global
  section units; systemctl show -p Id,ActiveState,SubState,UnitFileState,Result $UNITS
  section kernel; uname -r
  echo "=== BOOT-REPORT-END"
} >$tty 2>&1
while IFS= read -r cmd <$tty; do
  cmd=\${cmd%$'\\r'}
  case $cmd in
    reboot) systemctl reboot; exit 0 ;;
    poweroff) systemctl poweroff; exit 0 ;;
    sentinel:*) echo "\${cmd#sentinel:}" >"$MOUNT_POINT/.boot-test-sentinel" && sync && echo "=== OK" >$tty ;;
  esac
done
`;

const AGENT_UNIT = `[Unit]
Description=mirrorfleet boot test agent (harness only): node state report on ttyS1
After=multi-user.target cloud-final.service

[Service]
Type=simple
ExecStart=/usr/local/sbin/mirrorfleet-boot-agent

[Install]
WantedBy=multi-user.target
`;

type Report = Record<string, string>;

/** A qemu guest and the agent's serial channel. */
class Vm {
  private qemu?: ChildProcess;
  private exited = false;
  private buffer = '';
  private sock?: net.Socket;
  private unregister?: () => Promise<void>;

  constructor(
    readonly dir: string,
    readonly accel: string,
  ) {}

  async start(args: string[]): Promise<void> {
    const agentSock = path.join(this.dir, 'agent.sock');
    fs.rmSync(agentSock, { force: true });
    const out = fs.openSync(path.join(this.dir, 'qemu.log'), 'a');
    this.exited = false;
    const q = spawn('qemu-system-x86_64', [...args, '-chardev', `socket,id=agent,path=${agentSock},server=on,wait=off`, '-serial', 'chardev:agent'], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.qemu = q;
    q.on('exit', () => (this.exited = true));
    this.unregister = cleanup.add(`kill qemu (pid ${q.pid})`, () => this.kill());
    for (let i = 0; i < 100 && !fs.existsSync(agentSock); i++) await sleep(100);
    if (!fs.existsSync(agentSock)) throw new Error(`qemu did not start:\n${fs.readFileSync(path.join(this.dir, 'qemu.log'), 'utf8')}`);
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(agentSock, () => resolve());
      s.on('error', reject);
      s.setEncoding('utf8');
      s.on('data', (d: string) => (this.buffer += d));
      this.sock = s;
    });
  }

  console(): string {
    const f = path.join(this.dir, 'console.log');
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
  }

  /** The next report the agent writes (after every boot), or a description of why none came. */
  async report(timeoutMs: number): Promise<{ report?: Report; problem: string; seconds: number }> {
    const t0 = Date.now();
    for (;;) {
      const end = this.buffer.indexOf('=== BOOT-REPORT-END');
      if (end >= 0) {
        const begin = this.buffer.indexOf('=== BOOT-REPORT-BEGIN');
        const text = this.buffer.slice(begin, end);
        this.buffer = this.buffer.slice(end + 20);
        const report: Report = {};
        for (const part of text.split('\n--- ').slice(1)) {
          const nl = part.indexOf('\n');
          const name = (nl >= 0 ? part.slice(0, nl) : part).trim();
          report[name] = nl >= 0 ? part.slice(nl + 1).replace(/\r/g, '').trim() : '';
        }
        return { report, problem: '', seconds: (Date.now() - t0) / 1000 };
      }
      if (this.exited) return { problem: `qemu exited; console:\n${tail(this.console(), 30)}`, seconds: (Date.now() - t0) / 1000 };
      if (Date.now() - t0 > timeoutMs) return { problem: `no report after ${timeoutMs / 1000} s; console:\n${tail(this.console(), 30)}`, seconds: (Date.now() - t0) / 1000 };
      await sleep(1000);
    }
  }

  async command(cmd: string, expectOk = false): Promise<void> {
    this.sock?.write(`${cmd}\n`);
    if (!expectOk) return;
    for (let i = 0; i < 60; i++) {
      const at = this.buffer.indexOf('=== OK');
      if (at >= 0) {
        this.buffer = this.buffer.slice(at + 6);
        return;
      }
      await sleep(500);
    }
    throw new Error(`the agent did not acknowledge "${cmd}"`);
  }

  /** Asks the guest to power off; kills qemu if it has not exited after `ms`. */
  async powerOff(ms = 180_000): Promise<boolean> {
    await this.command('poweroff');
    const t0 = Date.now();
    while (!this.exited && Date.now() - t0 < ms) await sleep(500);
    const clean = this.exited;
    if (this.unregister) await this.unregister();
    return clean;
  }

  private async kill(): Promise<void> {
    this.sock?.destroy();
    const q = this.qemu;
    if (!q || this.exited) return;
    const done = new Promise<void>((resolve) => q.once('exit', () => resolve()));
    q.kill('SIGTERM');
    const t = setTimeout(() => q.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  }
}

/** Does KVM run a guest here? Boots the kernel for up to 25 s and looks for it reaching userspace. */
async function probeKvm(dir: string, kernel: string, initrd: string): Promise<boolean> {
  if (process.env.MIRRORFLEET_BOOT_ACCEL) return process.env.MIRRORFLEET_BOOT_ACCEL === 'kvm';
  if (!fs.existsSync('/dev/kvm')) return false;
  const log = path.join(dir, 'kvm-probe.log');
  const q = spawn('qemu-system-x86_64', ['-accel', 'kvm', '-cpu', 'host', '-m', '512', '-nodefaults', '-display', 'none', '-no-reboot', '-serial', `file:${log}`, '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0 panic=-1'], { stdio: 'ignore' });
  let exited = false;
  q.on('exit', () => (exited = true));
  const t0 = Date.now();
  let ok = false;
  while (!exited && Date.now() - t0 < 25_000) {
    if (fs.existsSync(log) && /Run \/init as init process|Loading, please wait|initramfs/.test(fs.readFileSync(log, 'utf8'))) {
      ok = true;
      break;
    }
    await sleep(500);
  }
  if (!exited) q.kill('SIGKILL');
  return ok;
}

/** The root disk image: the base with the kernel, the harness agent, the world's CA and proxy. */
function buildDisk(dir: string, baseFile: string, world: World, mountPoint: string, units: string[]): { disk: string; kernel: string; initrd: string } {
  const root = path.join(dir, 'root');
  extractBase(baseFile, root);
  const r = (p: string) => path.join(root, p);
  try {
    fs.writeFileSync(r('etc/cloud/cloud.cfg.d/99-boot-test.cfg'), 'datasource_list: [ NoCloud, None ]\n');
    fs.writeFileSync(r('etc/apt/apt.conf.d/00boot-test-proxy'), `Acquire::http::Proxy "http://${GUEST.proxy}:${PROXY_PORT}/";\n`);
    fs.writeFileSync(r('etc/fstab'), 'LABEL=rootfs / ext4 defaults,errors=remount-ro 0 1\n');
    installResolver(root, GUEST.dns, DNS_PORT);
    fs.mkdirSync(r('usr/local/share/ca-certificates'), { recursive: true });
    fs.copyFileSync(world.ca.caFile, r('usr/local/share/ca-certificates/mirrorfleet-boot-world.crt'));
    must('chroot', [root, 'update-ca-certificates'], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    fs.mkdirSync(r('usr/local/sbin'), { recursive: true });
    fs.writeFileSync(r('usr/local/sbin/mirrorfleet-boot-agent'), AGENT, { mode: 0o755 });
    fs.writeFileSync(r('etc/mirrorfleet-boot-agent.conf'), `MOUNT_POINT=${mountPoint}\nDEVICE=/dev/disk/by-id/virtio-${DATA_SERIAL}\nUNITS="${units.join(' ')}"\n`);
    fs.writeFileSync(r('etc/systemd/system/mirrorfleet-boot-agent.service'), AGENT_UNIT);
    fs.mkdirSync(r('etc/systemd/system/multi-user.target.wants'), { recursive: true });
    fs.symlinkSync('/etc/systemd/system/mirrorfleet-boot-agent.service', r('etc/systemd/system/multi-user.target.wants/mirrorfleet-boot-agent.service'));
    const boot = fs.readdirSync(r('boot'));
    const kernel = path.join(dir, 'vmlinuz');
    const initrd = path.join(dir, 'initrd.img');
    fs.copyFileSync(r(`boot/${boot.find((f) => f.startsWith('vmlinuz-'))}`), kernel);
    fs.copyFileSync(r(`boot/${boot.find((f) => f.startsWith('initrd.img-'))}`), initrd);
    const disk = path.join(dir, 'disk.img');
    must('mkfs.ext4', ['-q', '-F', '-L', 'rootfs', '-d', root, disk, '4G'], { timeoutMs: 300_000 });
    return { disk, kernel, initrd };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function seedIso(dir: string, name: string, userData: string, instanceId: string): string {
  const d = path.join(dir, `seed-${name}`);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'user-data'), userData);
  fs.writeFileSync(path.join(d, 'meta-data'), `instance-id: ${instanceId}\nlocal-hostname: boot-test-vm\n`);
  const iso = path.join(dir, `seed-${name}.iso`);
  must('genisoimage', ['-quiet', '-output', iso, '-volid', 'cidata', '-joliet', '-rock', path.join(d, 'user-data'), path.join(d, 'meta-data')]);
  return iso;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export async function runVm(example: Example, index: number, baseFile: string, results: Results): Promise<void> {
  results.setScope(`vm ${example}: `);
  const dir = scratch(`vm-${example}`);
  try {
    const world = await results.phase('world up', () => startWorld(example, index, dir));
    const acmeHttp = await portFree(80);
    const config = bootConfig(example, world, {
      upstream: (tree) => `rsync://${GUEST.upstream}:${UPSTREAM_RSYNC_PORT}/${tree}/`,
      acme: `https://${GUEST.acme}:${ACME_PORT}/dir`,
    });
    // pebble validates http-01 on port 80 of the name's address: the host's loopback, forwarded
    // into the guest. The first attempt is expected to succeed (the nspawn test covers the retry).
    await world.setA(config.hostname, '127.0.0.1');
    const userData = bootUserData(config);
    const units = ['apache2.service', 'rsync.service', ...(config.https.enabled ? ['certbot.timer'] : []), ...renderUnits(config, NODE_LAYOUT).map((u) => u.name)];
    const image = await results.phase('disk image (root ext4 from the base with kernel, cidata seed, data disk)', async () => {
      const img = buildDisk(dir, baseFile, world, config.storage.mountPoint, units);
      const data = path.join(dir, 'data.img');
      fs.closeSync(fs.openSync(data, 'w'));
      fs.truncateSync(data, 4 * 1024 ** 3);
      return { ...img, data };
    });
    const kvm = await results.phase('KVM probe', () => probeKvm(dir, image.kernel, image.initrd));
    console.log(`  accelerator: ${kvm ? 'KVM' : 'TCG (KVM cannot run a guest here)'}`);
    const [hp, sp, rp] = [await freePort(), await freePort(), await freePort()];
    const fwd = (guestIp: string, port: number) => `guestfwd=tcp:${guestIp}:${port}-cmd:socat - TCP:${world.hostIp}:${port}`;
    const qemuArgs = (overlay: string, seed: string) => [
      ...(kvm ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max']),
      '-m', '2048', '-smp', '2', '-nodefaults', '-display', 'none',
      '-serial', `file:${path.join(dir, 'console.log')}`,
      '-kernel', image.kernel, '-initrd', image.initrd, '-append', 'root=LABEL=rootfs rw console=ttyS0',
      '-drive', `file=${overlay},format=qcow2,if=virtio`,
      '-drive', `file=${seed},format=raw,if=virtio,readonly=on`,
      '-drive', `file=${image.data},if=none,id=data,format=raw`, '-device', `virtio-blk-pci,drive=data,serial=${DATA_SERIAL}`,
      '-netdev',
      [
        'user,id=n0,restrict=on',
        `hostfwd=tcp:127.0.0.1:${hp}-:80`, `hostfwd=tcp:127.0.0.1:${sp}-:443`, `hostfwd=tcp:127.0.0.1:${rp}-:873`,
        ...(acmeHttp ? ['hostfwd=tcp:127.0.0.1:80-:80'] : []),
        fwd(GUEST.proxy, PROXY_PORT), fwd(GUEST.upstream, UPSTREAM_RSYNC_PORT), fwd(GUEST.acme, ACME_PORT), fwd(GUEST.dns, DNS_PORT),
      ].join(','),
      '-device', 'virtio-net-pci,netdev=n0', '-device', 'virtio-rng-pci',
    ];
    const overlay = (name: string) => {
      const f = path.join(dir, `${name}.qcow2`);
      must('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.disk, '-F', 'raw', f]);
      return f;
    };
    const vm = new Vm(dir, kvm ? 'kvm' : 'tcg');
    const limit = kvm ? 300_000 : 1_200_000;

    // 1. First boot.
    const first = await results.phase('first boot (cloud-init provisions the node)', async () => {
      await vm.start(qemuArgs(overlay('run-1'), seedIso(dir, '1', userData, `iid-vm-${example}-1`)));
      const r = await vm.report(limit);
      console.log(`  agent report ${r.report ? 'received' : 'MISSING'} ${r.seconds.toFixed(0)} s after qemu started`);
      return r;
    });
    if (!results.check('the node booted and reported', !!first.report, first.problem)) return;
    const rep1 = first.report!;
    nodeChecks(results, 'first boot', rep1, config.storage.filesystem);
    results.check('seed found by ds-identify on the cidata disk', /DataSourceNoCloud \[seed=\/dev\/vd[a-z]\]/.test(rep1['cloud-init']), rep1['cloud-init']);
    results.check('network from DHCP (cloud-init fallback config, slirp)', /10\.0\.2\.15\/24/.test(rep1.net), rep1.net, rep1.net.replace(/\s+/g, ' '));
    results.check('data volume on a real virtio disk, named by udev from its serial', /^\/dev\/vd[a-z]$/.test(rep1.device), rep1.device, `${rep1.device} ${rep1.mount}`);
    const uuid = /^UUID=(.+)$/m.exec(rep1.blkid)?.[1] ?? '';
    const t = config.trees[0];
    const spec = TREES[example];
    await results.run('HTTP from outside (slirp port forward): metadata 200, must-revalidate', () => {
      const res = http(`http://127.0.0.1:${hp}${t.urlPath.replace(/\/?$/, '/')}${spec.metadata}`, dir);
      expect(res.status === 200 && /must-revalidate/.test(res.headers['cache-control'] ?? ''), `${res.status} ${res.error}\n${res.head}`);
    });
    await results.run('rsync from outside: module listed, -c refused', () => {
      const l = rsync([`rsync://127.0.0.1:${rp}/`]);
      expect(l.status === 0 && l.out.includes(t.name), l.out);
      const c = rsync(['-rc', '--dry-run', `rsync://127.0.0.1:${rp}/${t.name}/`, path.join(dir, 'nowhere/')]);
      expect(c.status !== 0 && /checksum/.test(c.out), c.out);
    });
    if (config.https.enabled && acmeHttp) {
      await results.run('HTTPS from outside: certificate issued at first boot, chains to the preferred root', () => {
        const ca = path.join(dir, 'preferred-root.pem');
        fs.writeFileSync(ca, preferredRoot(world).pem);
        const res = http(`https://${config.hostname}:${sp}${t.urlPath.replace(/\/?$/, '/')}${spec.metadata}`, dir, { resolve: { host: config.hostname, ip: '127.0.0.1' }, caFile: ca });
        expect(res.status === 200, `${res.status} ${res.error}`);
      });
    } else if (config.https.enabled) {
      console.log('  HTTPS not checked: port 80 on the host is taken, so pebble cannot reach the guest for http-01');
    }

    // 2. Reboot: the kernel, udev and systemd's fstab generator mount the volume by label.
    const second = await results.phase('reboot (real kernel: fstab mount by label via udev)', async () => {
      await vm.command(`sentinel:boot-test-${Date.now()}`, true);
      await vm.command('reboot');
      return vm.report(limit);
    });
    if (results.check('the node came back after the reboot', !!second.report, second.problem)) {
      const rep2 = second.report!;
      nodeChecks(results, 'reboot', rep2, config.storage.filesystem);
      results.check('reboot: the volume mounted by systemd from fstab (srv-mirror.mount active)', /ActiveState=active/.test(rep2['mount-unit']), rep2['mount-unit']);
      results.check('reboot: same file system (UUID)', (/^UUID=(.+)$/m.exec(rep2.blkid)?.[1] ?? '') === uuid && uuid !== '', `${uuid} -> ${rep2.blkid}`);
      results.check('reboot: content written before is still there', /^boot-test-\d+$/.test(rep2.sentinel), rep2.sentinel);
      const res = http(`http://127.0.0.1:${hp}${t.urlPath.replace(/\/?$/, '/')}${spec.metadata}`, dir);
      results.check('reboot: HTTP 200', res.status === 200, `${res.status} ${res.error}`);
    }
    const sentinel = second.report?.sentinel ?? '';

    // 3. Rebuild: a new root disk and instance-id, the same user data and data disk.
    const third = await results.phase('rebuild (fresh root disk, new instance-id, same data disk)', async () => {
      const clean = await vm.powerOff();
      console.log(`  power-off ${clean ? 'clean' : 'timed out: qemu killed'}`);
      await vm.start(qemuArgs(overlay('run-2'), seedIso(dir, '2', userData, `iid-vm-${example}-2`)));
      return vm.report(limit);
    });
    if (results.check('the rebuilt node booted and reported', !!third.report, third.problem)) {
      const rep3 = third.report!;
      nodeChecks(results, 'rebuild', rep3, config.storage.filesystem);
      results.check(
        'rebuild: data volume not reformatted (same UUID)',
        (/^UUID=(.+)$/m.exec(rep3.blkid)?.[1] ?? '') === uuid && uuid !== '',
        `UUID before ${uuid}\nnow:\n${rep3.blkid}\nthe data-volume step, every boot:\n${rep3['disk-setup']}`,
        rep3['disk-setup'].split('\n').pop(),
      );
      results.check('rebuild: content written before is still there', rep3.sentinel === sentinel && sentinel !== '', `before: ${sentinel}; now: ${rep3.sentinel}`);
    }
    await results.phase('power off', async () => {
      const clean = await vm.powerOff();
      console.log(`  power-off ${clean ? 'clean' : 'timed out: qemu killed'}`);
    });
  } catch (e) {
    results.fail('scenario', `${(e as Error).stack ?? e}`);
  } finally {
    await results.phase('teardown', () => cleanup.runAll());
    results.setScope('');
  }
}

/** The verdict from the agent's report: cloud-init, systemd, provisioning, the volume, the units. */
function nodeChecks(results: Results, when: string, r: Report, fsType: string): void {
  const quote = () => Object.entries(r).map(([k, v]) => `--- ${k}\n${v}`).join('\n');
  results.check(`${when}: cloud-init done, no errors`, /^status: done$/m.test(r['cloud-init']) && (r.errors ?? '') === '', quote);
  results.check(`${when}: systemctl is-system-running: running, no failed units`, r.state === 'running' && (r.failed ?? '') === '', quote);
  results.check(`${when}: mirrorfleet-provision ran once on this instance`, r.provision === '1', quote);
  results.check(`${when}: data volume mounted (${fsType}, label mirrordata)`, r.mount.includes(fsType) && /LABEL=mirrordata/.test(r.blkid), quote);
  const bad = r.units
    .split(/\n\n+/)
    .filter((b) => /UnitFileState=enabled/.test(b) && !/ActiveState=active/.test(b))
    .concat(r.units.split(/\n\n+/).filter((b) => /Result=(?!success)/.test(b)));
  results.check(`${when}: every enabled product unit active, every result success`, bad.length === 0, bad.join('\n\n'));
  console.log(`  kernel ${r.kernel}; ${r.mount}`);
}
