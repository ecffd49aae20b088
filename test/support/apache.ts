import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NodeConfig } from '../../lib/config/node-config';
import { renderApacheSite } from '../../lib/render/apache-site';
import { renderApachePorts, renderApacheTuning } from '../../lib/render/apache-tuning';
import { NodeLayout, acmeWebroot, certLive } from '../../lib/render/layout';
import { REPO } from './fixtures';
import { waitForPort } from './ports';
import { run } from './tools';

/**
 * The real Apache serving the rendered config: Debian's pristine /etc/apache2 copied to the
 * layout's apacheConfDir (which must be `<root>/etc/apache2` under the temp dir), the three
 * rendered files written into it, envvars pointed at pid/run/lock/log paths under `<root>`, the
 * real assets/mirrorfleet-apache-setup run with APACHE_CONFDIR, then `apache2ctl start`.
 * Only paths and ports differ from a node: the directives are the renderers' own output.
 */
export interface TestApache {
  /** `<root>`: everything of this instance lives under it. */
  readonly root: string;
  readonly confDir: string;
  /** What any apache2ctl (or script calling it, e.g. the cert deploy hook) needs to reach this instance. */
  readonly env: NodeJS.ProcessEnv;
  readonly pidFile: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  /** Output of mirrorfleet-apache-setup (ends with configtest's "Syntax OK"). */
  readonly setupOutput: string;
  /** What `apache2ctl start` printed: Apache's startup warnings (e.g. AH00513) land here, not in a log. */
  readonly startOutput: string;
  /** apache2ctl with this instance's env. */
  ctl(...args: string[]): ReturnType<typeof run>;
  /** `apache2ctl graceful`; once done, the HTTPS port is waited for if the certificate exists. */
  graceful(): Promise<void>;
  /** Apache's error logs, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

const portOf = (listen: string) => Number(listen.replace(/^.*:/, ''));

/** Instances not stopped yet: killed when the test process exits, whatever happened. */
const running = new Set<number>();
process.once('exit', () => {
  for (const pid of running) killGroup(pid, 'SIGKILL');
});

/**
 * `netns`: start (and control) Apache inside that network namespace, so clients reach it over
 * the namespace's own links (e.g. a veth pair) and its firewall; its ports are waited for there.
 */
export async function startApache(config: NodeConfig, layout: NodeLayout, opts: { netns?: string } = {}): Promise<TestApache> {
  const confDir = path.resolve(layout.apacheConfDir);
  const root = path.resolve(confDir, '..', '..');
  // Never touch the host's Apache: the copy lives in a temp dir as <root>/etc/apache2.
  const tmp = [os.tmpdir(), fs.realpathSync(os.tmpdir())];
  if (!confDir.endsWith('/etc/apache2') || !tmp.some((t) => root.startsWith(`${t}/`))) {
    throw new Error(`startApache: apacheConfDir must be <temp root>/etc/apache2, got ${confDir}`);
  }
  // mkdtemp makes 0700 directories: www-data must reach the data volume and the ACME webroot.
  fs.chmodSync(root, 0o755);
  fs.mkdirSync(path.dirname(confDir), { recursive: true, mode: 0o755 });
  if (fs.existsSync(confDir)) throw new Error(`startApache: ${confDir} exists already`);
  const cp = run('cp', ['-a', '/etc/apache2', confDir]);
  if (cp.status !== 0) throw new Error(`cp -a /etc/apache2 ${confDir}: ${cp.stderr}`);

  const files: [string, string][] = [
    [`${confDir}/conf-available/mirrorfleet.conf`, renderApacheTuning(config)],
    [`${confDir}/ports.conf`, renderApachePorts(config, layout)],
    [`${confDir}/sites-available/mirrorfleet.conf`, renderApacheSite(config, layout)],
  ];
  for (const [file, content] of files) fs.writeFileSync(file, content, { mode: 0o644 });

  const vars = {
    APACHE_PID_FILE: `${root}/run/apache2/apache2.pid`,
    APACHE_RUN_DIR: `${root}/run/apache2`,
    APACHE_LOCK_DIR: `${root}/var/lock/apache2`,
    APACHE_LOG_DIR: layout.apacheLogDir,
  };
  // The data volume, the ACME webroot, and what certbot's deploy hook writes to (lineage, metrics).
  const dirs = [config.storage.mountPoint, `${acmeWebroot(layout)}/.well-known/acme-challenge`, layout.letsencryptDir, layout.metricsDir];
  for (const d of [...dirs, vars.APACHE_RUN_DIR, vars.APACHE_LOCK_DIR, vars.APACHE_LOG_DIR]) {
    fs.mkdirSync(d, { recursive: true, mode: 0o755 });
  }
  const envvars = path.join(confDir, 'envvars');
  let text = fs.readFileSync(envvars, 'utf8');
  for (const [k, v] of Object.entries(vars)) {
    const re = new RegExp(`^export ${k}=.*$`, 'm');
    if (!re.test(text)) throw new Error(`${envvars}: no "export ${k}=" line to replace`);
    text = text.replace(re, `export ${k}=${v}`);
  }
  fs.writeFileSync(envvars, text);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    APACHE_CONFDIR: confDir,
    // apache2ctl hands `start` to systemctl when PID 1 is systemd; this instance is ours.
    APACHE_STARTED_BY_SYSTEMD: '1',
  };
  const ctl = (...args: string[]) =>
    opts.netns ? run('ip', ['netns', 'exec', opts.netns, 'apache2ctl', ...args], { env, timeoutMs: 20_000 }) : run('apache2ctl', args, { env, timeoutMs: 20_000 });
  const portUp = (port: number, host: string) => (opts.netns ? waitForPortInNetns(opts.netns, port) : waitForPort(port, host));
  const setup = run(path.join(REPO, 'assets', 'mirrorfleet-apache-setup'), [], { env });
  const setupOutput = `${setup.stdout}${setup.stderr}`;
  if (setup.status !== 0) throw new Error(`mirrorfleet-apache-setup exited ${setup.status}:\n${setupOutput}`);

  const logs = () =>
    fs
      .readdirSync(vars.APACHE_LOG_DIR)
      .filter((f) => f.includes('error'))
      .map((f) => `==> ${f}\n${fs.readFileSync(path.join(vars.APACHE_LOG_DIR, f), 'utf8')}`)
      .join('\n');
  const pidFile = vars.APACHE_PID_FILE;
  const readPid = () => {
    const text = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8').trim() : '';
    // Only a complete pid: 0 or an empty file would make kill() target our own process group.
    return /^[1-9]\d*$/.test(text) && Number(text) > 1 ? Number(text) : undefined;
  };
  let pid: number | undefined;
  const stop = async () => {
    const p = readPid() ?? pid;
    pid = undefined;
    if (p === undefined) return;
    ctl('stop');
    const deadline = Date.now() + 10_000;
    while (alive(p) && Date.now() < deadline) await sleep(50);
    // Apache leads its own process group (it daemonizes with setsid): take any child left too.
    killGroup(p, 'SIGKILL');
    running.delete(p);
  };

  const start = ctl('start');
  try {
    if (start.status !== 0) throw new Error(`apache2ctl start exited ${start.status}: ${start.stdout}${start.stderr}`);
    // The daemonized parent writes the pid file after apache2ctl has returned (and after it binds).
    const deadline = Date.now() + 10_000;
    while ((pid = readPid()) === undefined && Date.now() < deadline) await sleep(20);
    if (pid === undefined) throw new Error(`apache2ctl start: no ${pidFile} after 10 s`);
    running.add(pid);
    for (const listen of layout.httpListen) await portUp(portOf(listen), hostOf(listen));
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n${logs()}`);
  }

  const httpsPort = portOf(layout.httpsListen[0]);
  const graceful = async () => {
    const r = ctl('graceful');
    if (r.status !== 0) throw new Error(`apache2ctl graceful exited ${r.status}: ${r.stdout}${r.stderr}\n${logs()}`);
    if (fs.existsSync(`${certLive(layout)}/fullchain.pem`)) await portUp(httpsPort, '127.0.0.1');
  };
  const startOutput = `${start.stdout}${start.stderr}`;
  return { root, confDir, env, pidFile, httpPort: portOf(layout.httpListen[0]), httpsPort, setupOutput, startOutput, ctl, graceful, logs, stop };
}

/** Resolves once a socket listens on `port` inside the namespace (ss there, no connection made). */
async function waitForPortInNetns(netns: string, port: number, timeoutMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ; await sleep(50)) {
    if (run('ip', ['netns', 'exec', netns, 'ss', '-Hltn', `sport = :${port}`]).stdout.trim() !== '') return;
    if (Date.now() > deadline) throw new Error(`nothing listening on :${port} in ${netns} after ${timeoutMs} ms`);
  }
}

/** Listen argument → host to connect to ("[::1]:80" → "::1", a bare port → 127.0.0.1). */
function hostOf(listen: string): string {
  const m = /^\[?([^\]]*?)\]?:\d+$/.exec(listen);
  return m && m[1] ? m[1] : '127.0.0.1';
}

/** Running (a zombie waiting for an init that does not reap counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  if (!Number.isInteger(pid) || pid <= 1) return;
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
    } catch {
      // already gone
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
