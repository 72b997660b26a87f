import { rmSync } from 'node:fs';
import { inFlightTempFiles } from '../util/atomic-write.js';

/** What the first and second Ctrl-C (or SIGTERM) do. */
export interface InterruptHandlers {
  /** First Ctrl-C: stop taking new work; in-flight writes finish. */
  readonly onFirst?: () => void;
  /** Exit code for a second Ctrl-C (default 130); a second SIGTERM exits 143. */
  readonly exitCode?: number;
}

/**
 * Install a two-stage handler for SIGINT (Ctrl-C) and SIGTERM (what `docker stop`, a
 * Kubernetes eviction, `scancel` and a Slurm time limit send). The first signal aborts the
 * returned signal: the batch stops taking new images and lets in-flight ones finish their
 * (atomic) writes. The second exits at once, first deleting temporary files still being
 * written, so even then no half-written output is left under a final name or as litter.
 * Returns the signal and a function that removes the handler.
 */
export function installInterruptHandler(handlers: InterruptHandlers = {}): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      controller.abort(new Error('interrupted'));
      handlers.onFirst?.();
      return;
    }
    for (const tmp of inFlightTempFiles()) rmSync(tmp, { force: true });
    process.exit(name === 'SIGTERM' ? 143 : (handlers.exitCode ?? 130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
