import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { extractedBase } from './base';
import { cleanup } from './cleanup';
import { PROXY_PORT, World } from './world';
import { Ran, must, sh, shAsync, sleep, tail } from './sh';

/** Where the data volume's loop device appears in the node (what the user data is rendered with). */
export const DATA_DEVICE = '/dev/disk/by-id/virtio-mirrordata';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A loop device over a sparse file: the cloud data volume. */
export class DataVolume {
  readonly device: string;
  constructor(readonly file: string, sizeMiB: number) {
    const fd = fs.openSync(file, 'w');
    fs.ftruncateSync(fd, sizeMiB * 1024 * 1024);
    fs.closeSync(fd);
    const r = sh('losetup', ['--find', '--show', file]);
    if (r.status !== 0) throw new Error(`losetup: ${r.stderr}`);
    this.device = r.stdout.trim();
    cleanup.add(`detach ${this.device}`, () => {
      sh('losetup', ['-d', this.device]);
    });
  }

  /**
   * systemd ignores fstab's device entries inside a container ("Running in a container, ignoring
   * fstab device entry"), so at a reboot nothing mounts the volume. The harness plays
   * systemd-fstab-generator: it reads the node's own fstab line for `mountPoint`, checks
   * that its LABEL= names this volume, mounts the volume with that line's type and options on the
   * host and hands it to the container at `mountPoint`, mounted before any unit starts, as on a
   * real boot. Returns the nspawn bind and an unmount function.
   */
  mountFromFstab(fstab: string, mountPoint: string, hostDir: string): { bind: string; unmount: () => Promise<void> } {
    const line = fstab.split('\n').find((l) => l.trim().split(/\s+/)[1] === mountPoint && !l.trim().startsWith('#'));
    if (!line) throw new Error(`no fstab entry for ${mountPoint}:\n${fstab}`);
    const [spec, , type, options] = line.trim().split(/\s+/);
    const label = /^LABEL=(.+)$/.exec(spec)?.[1];
    const probed = this.probe();
    if (label === undefined || label !== probed.label) throw new Error(`fstab names ${spec} for ${mountPoint}; the volume's label is ${probed.label}`);
    if (type !== probed.type) throw new Error(`fstab says ${type} for ${mountPoint}; the volume holds ${probed.type}`);
    const opts = (options ?? 'defaults').split(',').filter((o) => !/^(defaults|nofail|auto|x-systemd\..*|comment=.*)$/.test(o));
    fs.mkdirSync(hostDir, { recursive: true });
    const r = sh('mount', ['-t', type, ...(opts.length ? ['-o', opts.join(',')] : []), this.device, hostDir]);
    if (r.status !== 0) throw new Error(`mount ${this.device} (${line.trim()}): ${r.stderr}`);
    const unmount = cleanup.add(`unmount ${hostDir}`, () => {
      sh('umount', [hostDir]);
    });
    return { bind: `${hostDir}:${mountPoint}`, unmount };
  }

  /** Formats the volume before the node boots (a negative case: someone else's disk). */
  format(type: string, label: string): void {
    const r = sh(`mkfs.${type}`, ['-q', '-L', label, this.device]);
    if (r.status !== 0) throw new Error(`mkfs.${type} ${this.device}: ${r.stderr}`);
  }

  /** The file system's UUID and type, probed directly (no blkid cache). */
  probe(): { uuid: string; type: string; label: string } {
    const get = (tag: string) => sh('blkid', ['-p', '-o', 'value', '-s', tag, this.device]).stdout.trim();
    return { uuid: get('UUID'), type: get('TYPE'), label: get('LABEL') };
  }
}

export interface Seed {
  readonly userData: string;
  readonly instanceId: string;
}

/**
 * A Debian 12 root file system booted with systemd as PID 1 under systemd-nspawn, with a NoCloud
 * seed, the data volume bound in under its real name and the /dev/loopN name (no udev in a
 * container: libblkid needs the latter to resolve LABEL=), in the world's network namespace.
 */
export class Node {
  readonly root: string;
  private nspawn?: ChildProcess;
  private exited = false;
  private pid1 = 0;
  private bootNo = 0;
  /** The cleanup step that removes the root disk, registered once for every root this node gets. */
  private unregisterRoot?: () => Promise<void>;
  bootLog = '';

  constructor(
    readonly dir: string,
    readonly world: World,
    readonly volume: DataVolume | undefined,
    /** The data volume's name in the node: the cloud's (EBS, Hetzner) or the generic one. */
    readonly dataDevice: string = DATA_DEVICE,
  ) {
    this.root = path.join(dir, 'root');
  }

  /** A fresh root disk from the base image, with the seed and what the cloud provides. */
  prepare(baseFile: string, seed: Seed): void {
    this.removeRoot();
    // The base is the overlay's read-only lower layer; everything this node writes lands in upper/.
    const layer = (n: string) => path.join(this.dir, 'root-layer', n);
    for (const d of [this.root, layer('upper'), layer('work')]) fs.mkdirSync(d, { recursive: true });
    must('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${extractedBase(baseFile)},upperdir=${layer('upper')},workdir=${layer('work')}`, this.root]);
    this.unregisterRoot ??= cleanup.add(`remove ${this.root}`, () => this.removeRoot());
    const r = (p: string) => path.join(this.root, p);
    this.writeSeed(seed);
    // The "cloud": NoCloud only (a real cloud's datasource is not there), its DNS resolver and
    // the network's only way out, the Debian-only proxy.
    fs.writeFileSync(r('etc/cloud/cloud.cfg.d/99-boot-test.cfg'), 'datasource_list: [ NoCloud, None ]\n');
    fs.writeFileSync(r('etc/apt/apt.conf.d/00boot-test-proxy'), `Acquire::http::Proxy "http://${this.world.hostIp}:${PROXY_PORT}/";\n`);
    fs.rmSync(r('etc/resolv.conf'), { force: true });
    fs.writeFileSync(r('etc/resolv.conf'), `nameserver ${this.world.hostIp}\n`);
    // The world's CA stands for the public roots a cloud image trusts (pebble, the stand-ins).
    fs.mkdirSync(r('usr/local/share/ca-certificates'), { recursive: true });
    fs.copyFileSync(this.world.ca.caFile, r('usr/local/share/ca-certificates/mirrorfleet-boot-world.crt'));
    if (fs.existsSync(r('usr/sbin/update-ca-certificates'))) {
      const u = sh('chroot', [this.root, 'update-ca-certificates'], { env: { PATH } });
      if (u.status !== 0) throw new Error(`update-ca-certificates in the image: ${u.stderr}`);
    }
  }

  /** Unmounts and deletes the root disk (the overlay's upper layer). */
  private removeRoot(): void {
    if (sh('mountpoint', ['-q', this.root]).status === 0) must('umount', [this.root]);
    fs.rmSync(this.root, { recursive: true, force: true });
    fs.rmSync(path.join(this.dir, 'root-layer'), { recursive: true, force: true });
  }

  /** Replaces the seed (same root disk): a new instance-id makes cloud-init run again. */
  writeSeed(seed: Seed): void {
    const dir = path.join(this.root, 'var/lib/cloud/seed/nocloud');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'user-data'), seed.userData);
    fs.writeFileSync(path.join(dir, 'meta-data'), `instance-id: ${seed.instanceId}\nlocal-hostname: boot-test-node\n`);
    fs.writeFileSync(path.join(dir, 'network-config'), this.world.networkConfig());
  }

  /**
   * Boots; returns when the container's PID 1 exists. `volumeName: 'late'` leaves the volume's
   * cloud name out until attachVolumeName() (a cloud attaching the volume after the start).
   */
  async boot(extraBinds: readonly string[] = [], o: { volumeName?: 'at-boot' | 'late' } = {}): Promise<void> {
    this.bootNo++;
    // result.json is rewritten at the end of every boot's cloud-final: it is the "done" marker.
    fs.rmSync(path.join(this.root, 'var/lib/cloud/data/result.json'), { force: true });
    // A real reboot resets the NIC; the namespace outlives the container, so reset it here.
    sh('ip', ['-n', this.world.netns, 'addr', 'flush', 'dev', 'host0']);
    sh('ip', ['-n', this.world.netns, 'link', 'set', 'host0', 'down']);
    const logFile = path.join(this.dir, `boot-${this.bootNo}.log`);
    const out = fs.openSync(logFile, 'w');
    const args = [
      '-D', this.root, '-b',
      // No systemd or D-Bus on the host (pitfall 1): no machine registration, no scope unit.
      '--register=no', '--keep-unit',
      `--machine=mfboot-${this.world.opts.index}`,
      `--network-namespace-path=${this.world.netnsPath}`,
      // ifup/nftables need it in the node's own namespace (pitfall 2).
      '--capability=CAP_NET_ADMIN',
      '--resolv-conf=off', '--timezone=off', '--link-journal=no',
      '--console=read-only',
      ...(this.volume
        ? [`--bind=${this.volume.device}`, ...(o.volumeName === 'late' ? [] : [`--bind=${this.volume.device}:${this.dataDevice}`])]
        : []),
      ...extraBinds.map((b) => `--bind=${b}`),
    ];
    this.exited = false;
    const child = spawn('systemd-nspawn', args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.nspawn = child;
    this.bootLog = logFile;
    child.on('exit', () => (this.exited = true));
    const unregister = cleanup.add(`stop container ${this.root}`, () => this.stopNspawn());
    this.unregisterStop = unregister;
    for (let i = 0; i < 200; i++) {
      const pid = findPid1(child.pid!);
      if (pid) {
        this.pid1 = pid;
        return;
      }
      if (this.exited) break;
      await sleep(50);
    }
    throw new Error(`systemd-nspawn did not start the container:\n${tail(fs.readFileSync(logFile, 'utf8'), 30)}`);
  }

  private unregisterStop?: () => Promise<void>;

  /**
   * The cloud attaches the volume: its name appears under /dev/disk/by-id as udev would make it,
   * a link to the kernel device (bound in at boot: a container has no hotplug).
   */
  attachVolumeName(): void {
    if (!this.volume) throw new Error('no data volume to attach');
    const r = this.exec(['sh', '-c', `mkdir -p "$(dirname "$1")" && ln -sfn "$2" "$1"`, 'attach', this.dataDevice, this.volume.device]);
    if (r.status !== 0) throw new Error(`attaching ${this.dataDevice}: ${r.stderr}`);
  }

  /** The container's PID 1 as the host sees it: another one after any reboot. */
  get pid(): number {
    return this.pid1;
  }

  get running(): boolean {
    return !!this.nspawn && !this.exited;
  }

  bootOutput(): string {
    return this.bootLog && fs.existsSync(this.bootLog) ? fs.readFileSync(this.bootLog, 'utf8') : '';
  }

  /** Runs a command inside the node (all its namespaces), as root. */
  exec(args: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Ran {
    if (!this.running) return { status: -1, stdout: '', stderr: 'the container is not running\n', cmd: args.join(' ') };
    return sh('nsenter', ['--target', String(this.pid1), '--mount', '--uts', '--ipc', '--net', '--pid', '--', 'env', '-i', `PATH=${PATH}`, 'LANG=C.UTF-8', 'SYSTEMD_PAGER=', 'SYSTEMD_COLORS=0', ...args], {
      timeoutMs: opts.timeoutMs ?? 30_000,
      input: opts.input,
    });
  }

  /**
   * exec without blocking the harness's event loop: needed when the command talks to a stand-in
   * served by this process (report_mirror checking in to the MirrorManager stand-in).
   */
  execAsync(args: readonly string[], timeoutMs = 120_000): Promise<Ran> {
    return shAsync('nsenter', ['--target', String(this.pid1), '--mount', '--uts', '--ipc', '--net', '--pid', '--', 'env', '-i', `PATH=${PATH}`, 'LANG=C.UTF-8', 'SYSTEMD_PAGER=', ...args], { timeoutMs });
  }

  /** Runs a shell snippet inside the node; returns stdout (trimmed), whatever the exit status. */
  shell(script: string, timeoutMs?: number): Ran {
    return this.exec(['bash', '-c', script], { timeoutMs });
  }

  /** A path inside the node's mount namespace, readable from the host (data volume included). */
  path(p: string): string {
    return `/proc/${this.pid1}/root${p}`;
  }

  /** Clean shutdown (systemd stops every unit, unmounts the data volume). */
  async shutdown(): Promise<void> {
    if (this.unregisterStop) await this.unregisterStop();
    this.unregisterStop = undefined;
  }

  private async stopNspawn(): Promise<void> {
    const child = this.nspawn;
    if (!child || this.exited) return;
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await done;
    clearTimeout(timer);
    // nspawn leaves empty state directories behind when /run is not a tmpfs.
    for (const d of ['/run/systemd/nspawn/propagate', '/run/systemd/nspawn/locks', '/run/systemd/nspawn/unix-export', '/run/systemd/nspawn']) {
      try {
        if (fs.existsSync(d) && fs.readdirSync(d).length === 0) fs.rmdirSync(d);
      } catch {
        /* not empty: another container */
      }
    }
  }
}

/** The container's PID 1 among the descendants of the nspawn process (NSpid ends in 1). */
function findPid1(nspawnPid: number): number | undefined {
  const queue = [nspawnPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    let children: string[] = [];
    try {
      children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      continue;
    }
    for (const c of children.map(Number)) {
      try {
        const status = fs.readFileSync(`/proc/${c}/status`, 'utf8');
        const nspid = /^NSpid:\s+(.+)$/m.exec(status)?.[1].trim().split(/\s+/) ?? [];
        if (nspid.length > 1 && nspid[nspid.length - 1] === '1') return c;
      } catch {
        /* gone */
      }
      queue.push(c);
    }
  }
  return undefined;
}
