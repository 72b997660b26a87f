/**
 * Where a model's sessions run: in this thread, or in an inference worker of their own.
 * The session layer (ModelSession) talks to a SessionHost and is otherwise the same in both
 * modes, so the family adapters and everything above them never know which it is.
 */
import * as ort from 'onnxruntime-node';
import { UsageError } from '../util/errors.js';
import type { HostedSession, SessionHost, SessionOptions, TensorMap } from './types.js';
import { ortLogLevel } from './ort-log.js';
import { DeviceChoice, MAX_THREADS, createOrtSession, signaturesOf, type OrtSettings } from './ort-session.js';
import { WorkerSessionHost } from './worker-host.js';


/** Sessions run on the calling thread; each run blocks its event loop. */
export class MainThreadHost implements SessionHost {
  constructor(
    private readonly device: DeviceChoice,
    private readonly base: Omit<OrtSettings, 'device'>,
  ) {}

  async open(path: string): Promise<HostedSession> {
    const { session, cudaUnavailable } = await createOrtSession(path, this.device.settings(this.base));
    if (cudaUnavailable) this.device.fellBack(cudaUnavailable);
    return {
      inputs: signaturesOf(session.inputMetadata),
      outputs: signaturesOf(session.outputMetadata),
      run: async (feeds) => (await session.run(feeds as Record<string, ort.Tensor>)) as TensorMap,
      release: () => session.release(),
    };
  }

  async close(): Promise<void> {}
}

/** Node's warning channel: a library should not write to stderr on its own. */
function emitWarning(message: string): void {
  process.emitWarning(message, { code: 'SAMLITE_DEVICE_FALLBACK' });
}

/** The host `options` ask for; `label` names the model in worker errors. */
export function createSessionHost(options: SessionOptions, label: string): SessionHost {
  const { threads } = options;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= MAX_THREADS)) {
    throw new UsageError(`threads must be a whole number from 1 to ${MAX_THREADS} (got ${threads})`);
  }
  const device = new DeviceChoice(options.device ?? 'cpu', options.onWarning ?? emitWarning);
  // Spinning off unless asked: idle intra-op threads that spin steal the CPU from the main
  // thread's mask filtering, from a second image in flight and from anything else running
  // (measured by scripts/measure-inference.ts, docs/performance.md).
  const base = { threads: options.threads, spinning: options.spinning ?? false, logLevel: ortLogLevel() };
  return options.inference === 'worker' ? new WorkerSessionHost(label, device, base) : new MainThreadHost(device, base);
}
