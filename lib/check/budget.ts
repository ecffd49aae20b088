/*
 * The checker's traffic bound: every connection it opens (HTTP, TLS, an rsync run) is counted
 * here first, goes only to an address of the host it was given (or of --master), and none starts
 * after the deadline. A check that would pass the bound is reported as skipped, never run.
 */

export class BudgetExceeded extends Error {
  override readonly name = 'BudgetExceeded';
}

export class TrafficBudget {
  private count = 0;
  private readonly started = Date.now();
  private readonly seen = new Set<string>();

  constructor(
    private readonly allowed: ReadonlySet<string>,
    readonly maxConnections: number,
    readonly maxSeconds: number,
  ) {}

  /** Counts one connection to `address`; throws when it is not allowed or the bound is reached. */
  take(address: string, what: string): void {
    if (!this.allowed.has(address)) throw new BudgetExceeded(`${what}: ${address} is not an address of the checked host`);
    if (this.count >= this.maxConnections) throw new BudgetExceeded(`${what}: the run's ${this.maxConnections} connections are used up`);
    if (this.remainingMs() <= 0) throw new BudgetExceeded(`${what}: the run's ${this.maxSeconds} s are used up`);
    this.count++;
    this.seen.add(address);
  }

  /** Time left before the deadline, never more than `capMs`. */
  remainingMs(capMs = Infinity): number {
    return Math.min(capMs, this.started + this.maxSeconds * 1000 - Date.now());
  }

  summary() {
    return { connections: this.count, maxConnections: this.maxConnections, seconds: Math.round((Date.now() - this.started) / 100) / 10, maxSeconds: this.maxSeconds, peers: [...this.seen].sort() };
  }
}
