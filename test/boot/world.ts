import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { freePort, waitForPort } from '../support/ports';
import { debianMirrorHosts } from './base';
import { cleanup } from './cleanup';
import { Daemon, startDaemon } from './daemon';
import { WorldCa, certField, makeWorldCa } from './pki';
import { must, sh, sleep } from './sh';

/**
 * Everything around the node, played by the host: a network namespace of the node's own with a
 * veth pair and no route out; an HTTP proxy that lets through Debian's repository only (apt);
 * a DNS server (pebble-challtestsrv), pebble as the ACME CA; an upstream rsync daemon serving a
 * small tree per example; and, for Fedora, HTTPS stand-ins for GitHub (report_mirror download)
 * and MirrorManager (check-ins). Every piece registers its own cleanup.
 */
export interface WorldOptions {
  /** 1-250: picks the addresses 10.213.<index>.0/30 and fd42:6d66:0:<index>::/64. */
  readonly index: number;
  readonly dir: string;
  /** Upstream rsync modules: name -> directory on the host. */
  readonly modules: Readonly<Record<string, string>>;
  /** HTTPS stand-ins: host name -> handler. */
  readonly standIns?: Readonly<Record<string, StandInHandler>>;
  /**
   * The host is the node's default gateway (EC2's VPC router: the way to 169.254.169.254).
   * It forwards nothing: what the world does not answer gets no answer.
   */
  readonly gateway?: boolean;
}

export type StandInHandler = (req: StandInRequest) => { status: number; type?: string; body: string | Buffer; headers?: Record<string, string> };
export interface StandInRequest {
  readonly method: string;
  readonly path: string;
  readonly body: string;
  /** The Authorization header, when the client sent one (MaxMind's downloads use basic auth). */
  readonly authorization?: string;
}

export const PROXY_PORT = 8888;
export const UPSTREAM_RSYNC_PORT = 10873;
export const ACME_PORT = 14000;

export class World {
  readonly netns: string;
  readonly vethHost: string;
  readonly hostIp: string;
  readonly nodeIp: string;
  readonly hostIp6: string;
  readonly nodeIp6: string;
  ca!: WorldCa;
  acmeDirectory = '';
  /** pebble's roots: [0] is the default chain, the rest alternates. */
  roots: { cn: string; pem: string }[] = [];
  /** Requests the HTTPS stand-ins received. */
  readonly standInLog: (StandInRequest & { host: string })[] = [];
  private dnsMgmt = 0;
  private readonly daemons: Daemon[] = [];

  constructor(readonly opts: WorldOptions) {
    const n = opts.index;
    this.netns = `mfboot-${n}`;
    this.vethHost = `mfboot${n}`;
    this.hostIp = `10.213.${n}.1`;
    this.nodeIp = `10.213.${n}.2`;
    this.hostIp6 = `fd42:6d66:0:${n}::1`;
    this.nodeIp6 = `fd42:6d66:0:${n}::2`;
  }

  get netnsPath(): string {
    return `/run/netns/${this.netns}`;
  }

  upstreamUrl(module: string): string {
    return `rsync://${this.hostIp}:${UPSTREAM_RSYNC_PORT}/${module}/`;
  }

  /** The node's network-config (NoCloud v2): static addresses, the world's DNS, no gateway. */
  networkConfig(): string {
    return `version: 2
ethernets:
  host0:
    addresses: [${this.nodeIp}/30, "${this.nodeIp6}/64"]
${this.opts.gateway ? `    gateway4: ${this.hostIp}\n` : ''}    nameservers:
      addresses: [${this.hostIp}]
`;
  }

  async start(): Promise<void> {
    fs.mkdirSync(this.opts.dir, { recursive: true });
    this.startNetwork();
    this.ca = makeWorldCa(path.join(this.opts.dir, 'pki'));
    this.startProxy();
    this.startUpstream();
    await this.startDnsAndPebble();
    if (this.opts.standIns) await this.startStandIns(this.opts.standIns);
  }

  private startNetwork(): void {
    // A leftover from an interrupted run with the same index goes first.
    sh('ip', ['netns', 'del', this.netns]);
    sh('ip', ['link', 'del', this.vethHost]);
    must('ip', ['netns', 'add', this.netns]);
    cleanup.add(`delete netns ${this.netns}`, () => {
      sh('ip', ['netns', 'del', this.netns]);
      sh('ip', ['link', 'del', this.vethHost]);
    });
    must('ip', ['link', 'add', this.vethHost, 'type', 'veth', 'peer', 'name', 'host0', 'netns', this.netns]);
    must('ip', ['addr', 'add', `${this.hostIp}/30`, 'dev', this.vethHost]);
    must('ip', ['-6', 'addr', 'add', `${this.hostIp6}/64`, 'dev', this.vethHost, 'nodad']);
    must('ip', ['link', 'set', this.vethHost, 'up']);
  }

  private startProxy(): void {
    const dir = path.join(this.opts.dir, 'proxy');
    fs.mkdirSync(dir, { recursive: true });
    must('chown', ['nobody:nogroup', dir]);
    const filter = path.join(dir, 'filter');
    fs.writeFileSync(filter, debianMirrorHosts().map((h) => `^${h.replace(/\./g, '\\.')}$`).join('\n') + '\n');
    const conf = path.join(dir, 'tinyproxy.conf');
    fs.writeFileSync(
      conf,
      `User nobody
Group nogroup
Port ${PROXY_PORT}
Listen ${this.hostIp}
Timeout 120
MaxClients 50
Allow ${this.nodeIp}
# The qemu runner's guest reaches the proxy through a socat on the host.
Allow ${this.hostIp}
LogLevel Connect
Filter "${filter}"
FilterDefaultDeny Yes
FilterExtended Yes
DisableViaHeader Yes
`,
    );
    this.daemons.push(startDaemon('tinyproxy', 'tinyproxy', ['-d', '-c', conf], path.join(dir, 'tinyproxy.log')));
  }

  private startUpstream(): void {
    const dir = path.join(this.opts.dir, 'upstream-rsyncd');
    fs.mkdirSync(dir, { recursive: true });
    const conf = path.join(dir, 'rsyncd.conf');
    fs.writeFileSync(
      conf,
      `pid file = ${dir}/rsyncd.pid
lock file = ${dir}/rsyncd.lock
log file = ${dir}/rsyncd.log
use chroot = no
transfer logging = yes
log format = %o %f %l
uid = root
gid = root
read only = yes
${Object.entries(this.opts.modules)
  .map(([name, p]) => `[${name}]\n    path = ${p}\n`)
  .join('')}`,
    );
    this.daemons.push(
      startDaemon('upstream rsyncd', 'rsync', ['--daemon', '--no-detach', `--config=${conf}`, `--address=${this.hostIp}`, `--port=${UPSTREAM_RSYNC_PORT}`], path.join(dir, 'stdout.log')),
    );
  }

  private async startDnsAndPebble(): Promise<void> {
    const dir = path.join(this.opts.dir, 'pebble');
    fs.mkdirSync(dir, { recursive: true });
    // 10.0.2.102: where the qemu runner's guest sees pebble (a slirp guestfwd).
    const api = this.ca.issue('pebble-api', ['localhost'], [this.hostIp, '127.0.0.1', '10.0.2.102']);
    const [mgmt, tlsPort] = [await freePort(), await freePort()];
    this.dnsMgmt = await freePort();
    // The world's DNS: every name the node or pebble asks for is answered here.
    this.daemons.push(
      startDaemon(
        'pebble-challtestsrv',
        'pebble-challtestsrv',
        ['-dns01', `${this.hostIp}:53`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${this.dnsMgmt}`, '-defaultIPv4', '', '-defaultIPv6', ''],
        path.join(dir, 'challtestsrv.log'),
      ),
    );
    await waitForPort(this.dnsMgmt);
    const config = path.join(dir, 'pebble.json');
    fs.writeFileSync(
      config,
      JSON.stringify({
        pebble: {
          listenAddress: `${this.hostIp}:${ACME_PORT}`,
          managementListenAddress: `127.0.0.1:${mgmt}`,
          certificate: api.cert,
          privateKey: api.key,
          httpPort: 80,
          tlsPort,
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
        },
      }),
    );
    this.daemons.push(
      startDaemon('pebble', 'pebble', ['-config', config, '-dnsserver', `${this.hostIp}:53`, '-strict=false'], path.join(dir, 'pebble.log'), {
        ...process.env,
        PEBBLE_VA_NOSLEEP: '1',
        PEBBLE_ALTERNATE_ROOTS: '2',
        PEBBLE_WFE_NONCEREJECT: '0',
        PEBBLE_AUTHZREUSE: '0',
      }),
    );
    await waitForPort(ACME_PORT, this.hostIp);
    await waitForPort(mgmt);
    this.acmeDirectory = `https://${this.hostIp}:${ACME_PORT}/dir`;
    const ca = fs.readFileSync(this.ca.caFile, 'utf8');
    for (let i = 0; i <= 2; i++) {
      const r = await httpsGet(`https://127.0.0.1:${mgmt}/roots/${i}`, ca);
      if (r.status !== 200) throw new Error(`pebble /roots/${i}: HTTP ${r.status}`);
      this.roots.push({ cn: certField(r.body, 'subject'), pem: r.body });
    }
  }

  /** Points `host` (A record) at `ip`, or removes the record. */
  async setA(host: string, ip: string | undefined): Promise<void> {
    const fqdn = host.endsWith('.') ? host : `${host}.`;
    await postJson(`http://127.0.0.1:${this.dnsMgmt}/clear-a`, { host: fqdn });
    if (ip) await postJson(`http://127.0.0.1:${this.dnsMgmt}/add-a`, { host: fqdn, addresses: [ip] });
  }

  private async startStandIns(handlers: Readonly<Record<string, StandInHandler>>): Promise<void> {
    const names = Object.keys(handlers);
    const tls = this.ca.issue('stand-ins', names, []);
    const server = https.createServer({ cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) }, (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        const host = (req.headers.host ?? '').replace(/:\d+$/, '');
        const entry = { host, method: req.method ?? 'GET', path: req.url ?? '/', body, authorization: req.headers.authorization };
        this.standInLog.push(entry);
        const handler = handlers[host];
        const out = handler ? handler(entry) : { status: 421, body: `no stand-in for ${host}\n` };
        res.writeHead(out.status, { 'content-type': out.type ?? 'text/plain', ...out.headers });
        res.end(out.body);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(443, this.hostIp, () => resolve());
    });
    cleanup.add('stop HTTPS stand-ins', () => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const name of names) await this.setA(name, this.hostIp);
  }

  /** Fails with the daemon's log when one of the world's processes died. */
  assertAlive(): void {
    for (const d of this.daemons) {
      if (!d.alive()) throw new Error(`the test world's ${d.name} exited:\n${d.log().split('\n').slice(-20).join('\n')}`);
    }
  }

  /** The upstream daemon's transfer log ("send <path> <bytes>" per file served). */
  upstreamLog(): string {
    const f = path.join(this.opts.dir, 'upstream-rsyncd', 'rsyncd.log');
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
  }

  proxyLog(): string {
    return fs.readFileSync(path.join(this.opts.dir, 'proxy', 'tinyproxy.log'), 'utf8');
  }

  pebbleLog(): string {
    return this.daemons.find((d) => d.name === 'pebble')?.log() ?? '';
  }
}

export function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ca }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function postJson(url: string, payload: unknown): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(url, { method: 'POST', body: JSON.stringify(payload) }).catch((e: Error) => e);
    if (!(r instanceof Error) && r.status === 200) return;
    if (attempt >= 3) throw new Error(`${url}: ${r instanceof Error ? r.message : `HTTP ${r.status}`}`);
    await sleep(200);
  }
}
