import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { cleanup } from './cleanup';

/** A host-side process of the test world (proxy, upstream rsync, pebble...), stopped by its PID. */
export interface Daemon {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  log(): string;
  /** True while the process has not exited. */
  alive(): boolean;
  stop(): Promise<void>;
}

export function startDaemon(name: string, cmd: string, args: readonly string[], logFile: string, env: NodeJS.ProcessEnv = process.env): Daemon {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  let exited = false;
  child.on('exit', () => (exited = true));
  child.on('error', (e) => fs.appendFileSync(logFile, `spawn error: ${e.message}\n`));
  const stopNow = async () => {
    if (exited || child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  };
  const unregister = cleanup.add(`stop ${name} (pid ${child.pid})`, stopNow);
  return {
    name,
    child,
    logFile,
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
    alive: () => !exited && child.exitCode === null && child.signalCode === null,
    stop: unregister,
  };
}
