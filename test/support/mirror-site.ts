import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeConfig, TreeConfig } from '../../lib/config/node-config';
import { NodeLayout } from '../../lib/render/layout';
import { TestApache, startApache } from './apache';
import { Example, exampleConfigAt, exampleText, testLayout, tmpDir } from './fixtures';
import { hasIpv6Loopback } from './http';
import { freePort } from './ports';
import { run } from './tools';

/** One example config served by a real Apache on loopback ports, with its tree under a temp dir. */
export interface MirrorSite {
  readonly root: string;
  readonly config: NodeConfig;
  readonly layout: NodeLayout;
  readonly apache: TestApache;
  readonly tree: TreeConfig;
  /** Whether Apache also listens on [::1] (false when the host has no IPv6 loopback). */
  readonly ipv6: boolean;
  /** Writes `content` to `rel` under the tree (parents created 0755) and returns the URL path. */
  put(rel: string, content: string | Buffer): string;
  /** The file's path on disk under the tree. */
  file(rel: string): string;
  /** The URL path of `rel` under the tree. */
  url(rel: string): string;
  /** The access log line whose User-Agent is `agent`, waited for (Apache logs after responding). */
  accessLogLine(agent: string): Promise<string>;
  /** Stops Apache and removes the temp dir. */
  close(): Promise<void>;
}

/** The example's own `http:` block, so a test can change one key and keep the rest. */
export function exampleHttp(example: Example): Record<string, unknown> {
  const YAML = require('yaml') as typeof import('yaml');
  return { ...((YAML.parse(exampleText(example)) as { http?: Record<string, unknown> }).http ?? {}) };
}

export async function serveExample(example: Example, replace: Record<string, unknown> = {}): Promise<MirrorSite> {
  const root = tmpDir(`apache-${example}`);
  const ipv6 = await hasIpv6Loopback();
  const full = testLayout(root, { http: await freePort(), https: await freePort() });
  // Without ::1 on lo Apache could not bind [::1]; the IPv4 listeners are the same directives.
  const layout: NodeLayout = ipv6
    ? full
    : { ...full, httpListen: full.httpListen.filter((l) => !l.startsWith('[')), httpsListen: full.httpsListen.filter((l) => !l.startsWith('[')) };
  const config = exampleConfigAt(example, `${root}/srv/mirror`, replace);
  let apache: TestApache;
  try {
    apache = await startApache(config, layout);
  } catch (e) {
    fs.rmSync(root, { recursive: true, force: true });
    throw e;
  }
  const tree = config.trees[0];
  const file = (rel: string) => path.join(tree.path, rel);
  const url = (rel: string) => `${tree.urlPath.replace(/\/$/, '')}/${rel}`;
  const put = (rel: string, content: string | Buffer) => {
    fs.mkdirSync(path.dirname(file(rel)), { recursive: true, mode: 0o755 });
    fs.writeFileSync(file(rel), content, { mode: 0o644 });
    return url(rel);
  };
  const accessLog = path.join(layout.apacheLogDir, 'mirror-access.log');
  const accessLogLine = async (agent: string) => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const text = fs.existsSync(accessLog) ? fs.readFileSync(accessLog, 'utf8') : '';
      const line = text.split('\n').find((l) => l.includes(`"${agent}"`));
      if (line) return line;
      if (Date.now() > deadline) throw new Error(`no line with User-Agent ${agent} in ${accessLog}:\n${text}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const close = async () => {
    await apache.stop();
    fs.rmSync(root, { recursive: true, force: true });
  };
  return { root, config, layout, apache, tree, ipv6, put, file, url, accessLogLine, close };
}

/** curl's own count of what it sent and received for one GET (for the %I %O log fields). */
export function curlSizes(urlString: string, agent: string): { status: number; request: number; header: number; download: number } {
  const r = run('curl', ['-sS', '-o', '/dev/null', '-A', agent, '-w', '%{http_code} %{size_request} %{size_header} %{size_download}', urlString]);
  if (r.status !== 0) throw new Error(`curl ${urlString}: ${r.stderr}`);
  const [status, request, header, download] = r.stdout.trim().split(' ').map(Number);
  return { status, request, header, download };
}

/**
 * The event MPM as the running server sized it, from mod_status (Debian's status.conf: "Require
 * local"): the worker slots of the scoreboard, the workers up (busy + idle), the processes of the
 * current generation and those still stopping (a graceful reload's old generation). Waits until
 * `startedWorkers` workers are up (all StartServers children with their threads), at most 10 s.
 */
export async function mpmStatus(site: MirrorSite, startedWorkers: number): Promise<{ mpm: string; slots: number; workers: number; processes: number; stopping: number }> {
  const field = (status: string, k: string) => new RegExp(`^${k}: (\\S+)$`, 'm').exec(status)?.[1] ?? '';
  let status = '';
  let workers = -1;
  for (const deadline = Date.now() + 10_000; workers !== startedWorkers && Date.now() < deadline; ) {
    const r = run('curl', ['-sS', `http://127.0.0.1:${site.apache.httpPort}/server-status?auto`]);
    status = r.stdout;
    workers = Number(field(status, 'BusyWorkers')) + Number(field(status, 'IdleWorkers'));
    if (workers !== startedWorkers) await new Promise((res) => setTimeout(res, 100));
  }
  const processes = Number(field(status, 'Processes'));
  const stopping = Number(field(status, 'Stopping'));
  return { mpm: field(status, 'ServerMPM'), slots: field(status, 'Scoreboard').length, workers, processes, stopping };
}
