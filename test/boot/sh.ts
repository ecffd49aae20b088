import { spawn, spawnSync, SpawnSyncOptions } from 'node:child_process';

/** Result of a command run by the boot harness (never throws on a non-zero exit). */
export interface Ran {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  /** "cmd args" for messages. */
  readonly cmd: string;
}

export interface ShOptions {
  readonly input?: string | Buffer;
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** Runs a command synchronously with a timeout (default 60 s). */
export function sh(cmd: string, args: readonly string[], opts: ShOptions = {}): Ran {
  const o: SpawnSyncOptions = {
    input: opts.input,
    timeout: opts.timeoutMs ?? 60_000,
    env: opts.env ?? { ...process.env, LC_ALL: 'C.UTF-8' },
    cwd: opts.cwd,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    killSignal: 'SIGKILL',
  };
  const r = spawnSync(cmd, args, o);
  const timedOut = r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
  return {
    status: r.status ?? (timedOut ? 124 : -1),
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? '') + (r.error ? `${r.error.message}\n` : ''),
    cmd: [cmd, ...args].join(' '),
  };
}

/** Like sh, but throws with the command's stderr when it fails. */
export function must(cmd: string, args: readonly string[], opts: ShOptions = {}): string {
  const r = sh(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${r.cmd} failed (exit ${r.status}):\n${tail(r.stderr || r.stdout, 30)}`);
  return r.stdout;
}

/** Runs a command asynchronously (it may take minutes); resolves with its output. */
export function shAsync(cmd: string, args: readonly string[], opts: ShOptions = {}): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: opts.env ?? { ...process.env, LC_ALL: 'C.UTF-8' }, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', (e) => (stderr += `${e.message}\n`));
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ status: code ?? (signal ? 128 : -1), stdout, stderr, cmd: [cmd, ...args].join(' ') });
    });
    child.stdin.end(opts.input ?? '');
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The last `n` non-empty lines of `text`. */
export function tail(text: string, n: number): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join('\n');
}

/** Indents every line (for quoting program output under a check). */
export function quote(text: string, prefix = '      | '): string {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Seconds since `t0` (Date.now()), one decimal. */
export const secondsSince = (t0: number) => ((Date.now() - t0) / 1000).toFixed(1);
