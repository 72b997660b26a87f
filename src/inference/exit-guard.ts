/**
 * `process.exit()` while an inference worker is inside `session.run` would not exit at
 * once: Node stops and joins every worker thread before exiting, the join waits for the
 * native run to return (seconds for an encoder), and onnxruntime-node then aborts the
 * process ("terminate called after throwing an instance of 'Napi::Error'", exit 134).
 * That is exactly the second Ctrl-C of a batch run.
 *
 * So, on exit with a worker busy, a process exiting with a signal's conventional code
 * (128 + n: 130 for SIGINT) dies by that signal instead, with its default action: no
 * thread is joined, and the parent sees what a shell reports as 130. Other exit codes are
 * left alone. Exit listeners registered after the first worker started do not run then.
 */

/** Signals whose conventional exit code (128 + n) a busy exit turns back into the signal. */
const SIGNAL_OF_CODE: Readonly<Record<number, NodeJS.Signals>> = { 129: 'SIGHUP', 130: 'SIGINT', 143: 'SIGTERM' };

const probes = new Set<() => boolean>();

function onExit(code: number): void {
  if (![...probes].some((busy) => busy())) return;
  const signal = SIGNAL_OF_CODE[code];
  if (!signal) return;
  // Without listeners, Node restores the signal's default action (terminate).
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
}

/**
 * Watch a worker: `busy` says whether it may be inside a native run. Returns the function
 * that stops watching it.
 */
export function guardExit(busy: () => boolean): () => void {
  if (probes.size === 0) process.on('exit', onExit);
  probes.add(busy);
  return () => {
    if (probes.delete(busy) && probes.size === 0) process.off('exit', onExit);
  };
}
