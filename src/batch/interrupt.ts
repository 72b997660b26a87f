import { rmSync } from 'node:fs';
import { constants } from 'node:os';
import { inFlightTempFiles } from '../util/atomic-write.js';

/** What the first Ctrl-C (or SIGTERM) does. */
export interface InterruptHandlers {
  /** First signal (its name given): stop taking new work; in-flight writes finish. */
  readonly onFirst?: (name: NodeJS.Signals) => void;
}

/** The handle {@link installInterruptHandler} returns. */
export interface Interrupt {
  /** Aborted by the first signal. */
  readonly signal: AbortSignal;
  /** The first signal received (SIGINT or SIGTERM), undefined before it. */
  readonly received: NodeJS.Signals | undefined;
  /**
   * The conventional exit code for the first signal, 128 + its number: 130 for SIGINT,
   * 143 for SIGTERM (130 before any signal). Supervisors read 143 as a clean stop on request.
   */
  readonly exitCode: number;
  /** Remove the handler. */
  dispose(): void;
}

/** 128 + the signal's number: what a shell reports for a process the signal ended. */
export function signalExitCode(name: NodeJS.Signals): number {
  return 128 + constants.signals[name];
}

/**
 * How a message names the interruption and the way to stop at once: Ctrl-C for SIGINT,
 * the signal's name otherwise, since `docker stop` or an eviction typed no Ctrl-C.
 */
export function interruptWording(name: NodeJS.Signals | undefined): { interrupted: string; again: string } {
  return name === undefined || name === 'SIGINT'
    ? { interrupted: 'interrupted', again: 'Ctrl-C again' }
    : { interrupted: `interrupted by ${name}`, again: 'send it again' };
}

/**
 * Install a two-stage handler for SIGINT (Ctrl-C) and SIGTERM (what `docker stop`, a
 * Kubernetes eviction, `scancel` and a Slurm time limit send). The first signal aborts the
 * returned signal and is recorded (its name and exit code): the batch stops taking new
 * images and lets in-flight ones finish their (atomic) writes. The second exits at once
 * with its own signal's code, first deleting temporary files still being written, so even
 * then no half-written output is left under a final name or as litter.
 */
export function installInterruptHandler(handlers: InterruptHandlers = {}): Interrupt {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (name: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      received = name;
      controller.abort(new Error('interrupted'));
      handlers.onFirst?.(name);
      return;
    }
    for (const tmp of inFlightTempFiles()) rmSync(tmp, { force: true });
    process.exit(signalExitCode(name));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    get exitCode() {
      return signalExitCode(received ?? 'SIGINT');
    },
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
