import * as os from 'node:os';

/** The middle value (the mean of the two middle ones for an even count). */
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The one-minute load average, printed beside every figure. */
export const load = (): string => os.loadavg()[0].toFixed(2);

/** What one wrk run printed: requests per second, requests, answers outside 2xx/3xx, socket errors. */
export interface WrkResult {
  readonly rps: number;
  readonly requests: number;
  /** wrk's "Non-2xx or 3xx responses". */
  readonly bad: number;
  readonly socketErrors: number;
  /** The load average before the run. */
  readonly load: string;
}

export function parseWrk(stdout: string, loadBefore: string): WrkResult {
  const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? 0);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    bad: num(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: errors ? errors.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0,
    load: loadBefore,
  };
}

/** `--name VALUE` from the command line, or the fallback. */
export const option = (name: string, fallback: string): string => {
  const args = process.argv.slice(2);
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
