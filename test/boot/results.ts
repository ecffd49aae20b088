import { quote } from './sh';


/**
 * The boot test's own reporting: named checks that pass or fail with the evidence quoted, the
 * time of every phase, and a final plain "N passed, N failed" line (what .ci/run adds up).
 */
export class Results {
  passed = 0;
  failed = 0;
  readonly failures: string[] = [];
  readonly timings: { name: string; seconds: number }[] = [];
  private scope = '';

  setScope(scope: string): void {
    this.scope = scope;
  }

  pass(name: string, note?: string): void {
    this.passed++;
    console.log(`  ok    ${this.scope}${name}${note ? ` (${note})` : ''}`);
  }

  fail(name: string, evidence: string): void {
    this.failed++;
    this.failures.push(`${this.scope}${name}`);
    console.log(`  FAIL  ${this.scope}${name}\n${quote(evidence.trimEnd())}`);
  }

  /** Passes when `ok`; otherwise fails with `evidence` (a string or a thunk computing it). */
  check(name: string, ok: boolean, evidence: string | (() => string) = '', note?: string): boolean {
    if (ok) this.pass(name, note);
    else this.fail(name, typeof evidence === 'function' ? evidence() : evidence);
    return ok;
  }

  /** Runs a check body; an exception is a failure quoting its message. */
  async run(name: string, body: () => Promise<string | void> | string | void): Promise<boolean> {
    try {
      const note = await body();
      this.pass(name, note || undefined);
      return true;
    } catch (e) {
      this.fail(name, (e as Error).message);
      return false;
    }
  }

  /** Times a phase and prints its duration. */
  async phase<T>(name: string, body: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    console.log(`\n== ${this.scope}${name}`);
    try {
      return await body();
    } finally {
      const seconds = (Date.now() - t0) / 1000;
      this.timings.push({ name: `${this.scope}${name}`, seconds });
      console.log(`-- ${this.scope}${name}: ${seconds.toFixed(1)} s`);
    }
  }

  summary(): string {
    const lines = ['', 'Phase timings:'];
    for (const t of this.timings) lines.push(`  ${t.seconds.toFixed(1).padStart(7)} s  ${t.name}`);
    if (this.failures.length > 0) {
      lines.push('', 'Failed checks:');
      for (const f of this.failures) lines.push(`  ${f}`);
    }
    lines.push('', `${this.passed} passed, ${this.failed} failed`);
    return lines.join('\n');
  }
}

/** Thrown by a helper when the evidence for a check is wrong; the message is quoted. */
export class CheckError extends Error {}

export function expect(ok: boolean, message: string | (() => string)): asserts ok {
  if (!ok) throw new CheckError(typeof message === 'function' ? message() : message);
}
