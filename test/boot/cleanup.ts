/**
 * Everything the boot harness sets up on the host (network namespaces, veth pairs, loop devices,
 * containers, daemons, temp dirs) registers its undo step here. Steps run in reverse order at
 * the end of each scenario, on an exception, and on SIGINT/SIGTERM, so a failed or interrupted
 * run leaves nothing behind. Processes are ended by their own PID, never by name.
 */
export class Cleanup {
  private readonly steps: { name: string; fn: () => void | Promise<void> }[] = [];

  /** Registers an undo step; returns a function that runs it now (and unregisters it). */
  add(name: string, fn: () => void | Promise<void>): () => Promise<void> {
    const step = { name, fn };
    this.steps.push(step);
    return async () => {
      const i = this.steps.indexOf(step);
      if (i >= 0) {
        this.steps.splice(i, 1);
        await runStep(step);
      }
    };
  }

  async runAll(): Promise<void> {
    while (this.steps.length > 0) {
      await runStep(this.steps.pop()!);
    }
  }
}

async function runStep(step: { name: string; fn: () => void | Promise<void> }): Promise<void> {
  try {
    await step.fn();
  } catch (e) {
    console.error(`  cleanup: ${step.name}: ${(e as Error).message}`);
  }
}

/** The process-wide registry; run.ts drains it on exit and on signals. */
export const cleanup = new Cleanup();
