import { rmSync } from 'node:fs';
import { constants } from 'node:os';
import { inFlightTempFiles } from '../util/atomic-write.js';

/** What the first Ctrl-C (or SIGTERM) does. */
export interface InterruptHandlers {
  /** First signal (its name given): stop taking new work; in-flight writes finish. */
  readonly onFirst?: (name: NodeJS.Signals) => void;
}

/** Why a batch stopped before its end: the words its summary uses, and its exit code. */
export interface StopReason {
  /** `interrupted`, `stdout closed`, …: what the summary's "n not done (…)" says. */
  readonly why: string;
  readonly exitCode: number;
}

/** The handle {@link installInterruptHandler} returns. */
export interface Interrupt {
  /** Aborted by the first signal, or by {@link Interrupt.stop}. */
  readonly signal: AbortSignal;
  /** The first signal received (SIGINT or SIGTERM), undefined before it. */
  readonly received: NodeJS.Signals | undefined;
  /** Why the batch stopped (the first signal or stop), undefined while it runs. */
  readonly reason: StopReason | undefined;
  /**
   * The exit code for why it stopped: for a signal 128 + its number, 130 for SIGINT and 143
   * for SIGTERM (130 before any). Supervisors read 143 as a clean stop on request.
   */
  readonly exitCode: number;
  /**
   * Stop the batch as a first signal does (no new work; in-flight work finishes), for
   * another reason: stdout went away, the output disk is full. A first stop wins; a signal
   * after it exits at once.
   */
  stop(reason: StopReason): void;
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
  let reason: StopReason | undefined;
  const onSignal = (name: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      received = name;
      reason = { why: 'interrupted', exitCode: signalExitCode(name) };
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
    get reason() {
      return reason;
    },
    get exitCode() {
      return reason?.exitCode ?? signalExitCode('SIGINT');
    },
    stop(why: StopReason) {
      if (controller.signal.aborted) return;
      reason = why;
      controller.abort(new Error(why.why));
    },
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
