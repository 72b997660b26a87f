/**
 * stdout as the CLI's data channel, and what happens when it goes away. A reader that
 * closes the pipe (`samlite … | head -1`) ends samlite quietly, as it ends GNU tools: no
 * stack trace, the batch stops taking images, and the exit code is 141 (128 + SIGPIPE, what a
 * shell reports for a tool SIGPIPE ended). A stdout that cannot be written (`> /dev/full`, a
 * full disk, EIO) is one error line on stderr and exit 1, as GNU tools do.
 *
 * Node ignores SIGPIPE and reports the failed write as an `error` event on the stream, which
 * kills the process when nobody listens: {@link watchStdout} listens, once per process.
 */
import { EXIT_INPUT_FAILED, EXIT_USAGE } from '../util/errors.js';
import { signalExitCode, type Interrupt, type StopReason } from '../batch/interrupt.js';
import { writeErrorReason } from '../util/fs-reason.js';

/** Why stdout can take no more data. */
export type StdoutGone =
  /** Its reader closed the pipe (EPIPE). */
  | { readonly kind: 'closed' }
  /** A write failed (ENOSPC, EIO, …); `reason` in words. */
  | { readonly kind: 'failed'; readonly reason: string };

/** 141: 128 + SIGPIPE, the code a shell shows for a GNU tool whose reader went away. */
export const EXIT_READER_GONE = signalExitCode('SIGPIPE');

let gone: StdoutGone | undefined;
let watching = false;
let reportFailure: (message: string) => void = () => {};
const listeners = new Set<(why: StdoutGone) => void>();

/** Record the first failure of stdout, say so when it is not a closed pipe, and tell the listeners. */
function stdoutFailed(err: unknown): void {
  if (gone) return;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  gone = code === 'EPIPE' ? { kind: 'closed' } : { kind: 'failed', reason: writeErrorReason(err) };
  if (gone.kind === 'failed') reportFailure(`cannot write to stdout: ${gone.reason}`);
  // Once the command has returned its code (help, a last JSON line), the process exit code is
  // all that is left to say it with.
  if (process.exitCode !== undefined) process.exitCode = exitCodeAfterStdout(Number(process.exitCode));
  for (const listener of [...listeners]) listener(gone);
}

/**
 * Listen for errors on stdout and stderr (once per process; later calls do nothing). An
 * error on stdout is recorded ({@link stdoutGone}), and a failed write (not a closed pipe)
 * is told to `report` as one line; one on stderr is dropped, since there is nowhere left to
 * report it and the data on stdout may still be wanted.
 */
export function watchStdout(report: (message: string) => void): void {
  if (watching) return;
  watching = true;
  reportFailure = report;
  process.stdout.on('error', stdoutFailed);
  process.stderr.on('error', () => {});
}

/** Why stdout can take no more data, or undefined while it can. */
export function stdoutGone(): StdoutGone | undefined {
  return gone;
}

/** Call `listener` when stdout goes away (at most once); returns the function that unsubscribes. */
export function onStdoutGone(listener: (why: StdoutGone) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Write `text` to stdout, unless it has gone away. A failed write is noticed at once (Node
 * marks the stream errored before the `error` event), so a batch stops before it takes
 * another image.
 */
export function writeStdout(text: string): void {
  if (gone) return;
  process.stdout.write(text);
  if (process.stdout.errored) stdoutFailed(process.stdout.errored);
}

/**
 * The exit code once stdout's fate is known: 141 when its reader went away, 1 when a write
 * failed; a usage error (nothing was run) and an interruption by a signal keep their own.
 */
export function exitCodeAfterStdout(code: number): number {
  if (!gone || code === EXIT_USAGE || (code > 128 && code !== EXIT_READER_GONE)) return code;
  return gone.kind === 'closed' ? EXIT_READER_GONE : EXIT_INPUT_FAILED;
}

/** How a batch words and exits for a stdout that went away. */
function stopReason(why: StdoutGone): StopReason {
  return why.kind === 'closed' ? { why: 'stdout closed', exitCode: EXIT_READER_GONE } : { why: 'stdout cannot be written', exitCode: EXIT_INPUT_FAILED };
}

/**
 * Stop `interrupt`'s batch when stdout goes away (at once if it already has), as the first
 * Ctrl-C stops it: no new image, the ones in flight finish, the dataset files are built from
 * what is done. Returns the function that stops watching.
 */
export function stopBatchOnStdoutGone(interrupt: Interrupt): () => void {
  if (gone) interrupt.stop(stopReason(gone));
  return onStdoutGone((why) => interrupt.stop(stopReason(why)));
}
