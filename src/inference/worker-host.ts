/**
 * The main thread's end of an inference worker: one worker thread per opened model,
 * holding both of its sessions, driven by request/reply messages.
 *
 * Lifetime rules, each learnt from onnxruntime-node's behaviour in a worker:
 * - The worker is unref'd while idle, so an opened model never keeps the process alive
 *   (as an in-process session does not), and ref'd while a request is pending, so an
 *   awaited run is not cut short by the event loop running dry.
 * - Terminating a worker inside `session.run` aborts the whole process once the run
 *   returns, so `close()` first lets queued runs finish (they are answered normally), then
 *   terminates the idle thread. The exit guard covers `process.exit()` mid-run.
 * - A worker that dies fails every pending and later request with InferenceWorkerError.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../util/worker-module.js';
import { EXIT_USAGE, SamliteError, oneLine } from '../util/errors.js';
import type { HostedSession, SessionHost, TensorMap } from './types.js';
import { guardExit } from './exit-guard.js';
import type { DeviceChoice, OrtSettings } from './ort-session.js';
import { WORKER_NAME, errorFromWire, type Opened, type Reply, type Request } from './protocol.js';
import { HeldInputSender, decodeTensors, type WireTensors } from './tensor-wire.js';

/** The inference worker thread stopped (crashed, or could not start): nothing more can run. */
export class InferenceWorkerError extends SamliteError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT_USAGE, options);
  }
}

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };

/** A request before it gets its id. */
type RequestBody = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

/** The worker's entry point: worker-main.js next to this file (worker-main.ts from the sources). */
function startWorker(): Worker {
  return startModuleWorker(new URL('./worker-main.js', import.meta.url), WORKER_NAME);
}

/** One worker thread and its pending requests. */
export class InferenceWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped: Error | undefined;
  private closing = false;
  private terminating = false;
  private unguard: (() => void) | undefined;

  constructor(
    /** Names the model in messages. */
    private readonly label: string,
  ) {}

  /** True while a request is outstanding (the worker may be inside a native run). */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  private spawn(): Worker {
    const worker = startWorker();
    worker.unref();
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (err) => this.fail(oneLine(err), err));
    worker.on('messageerror', (err) => this.fail(`unreadable reply: ${oneLine(err)}`, err));
    worker.on('exit', (code) => {
      if (!this.terminating) this.fail(`exit code ${code}`);
    });
    this.unguard = guardExit(() => this.busy);
    return worker;
  }

  /** Send `request` (its id filled in) and wait for the answer. */
  request<T>(request: RequestBody, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.stopped) return Promise.reject(this.stopped);
    if (this.closing && request.op !== 'close') return Promise.reject(new InferenceWorkerError(`the inference worker for ${this.label} is closed`));
    this.worker ??= this.spawn();
    const id = this.nextId++;
    const message = { ...request, id } as Request;
    return new Promise<T>((resolve, reject) => {
      if (this.pending.size === 0) this.worker!.ref();
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      try {
        this.worker!.postMessage(message, transfer);
      } catch (err) {
        this.pending.delete(id);
        if (this.pending.size === 0) this.worker!.unref();
        reject(err as Error);
      }
    });
  }

  private settle(reply: Reply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (reply.ok) waiting.resolve(reply.value);
    else waiting.reject(errorFromWire(reply.error));
  }

  private fail(reason: string, cause?: unknown): void {
    if (this.stopped) return;
    this.stopped = new InferenceWorkerError(`the inference worker for ${this.label} stopped unexpectedly (${reason})`, { cause });
    for (const waiting of this.pending.values()) waiting.reject(this.stopped);
    this.pending.clear();
    this.unguard?.();
  }

  private closed: Promise<void> | undefined;

  /** Release every session once queued requests are answered, then end the thread. */
  close(): Promise<void> {
    return (this.closed ??= this.shutDown());
  }

  private async shutDown(): Promise<void> {
    this.closing = true;
    if (!this.worker) return;
    if (!this.stopped) {
      try {
        await this.request({ op: 'close' });
      } catch {
        // Stopped meanwhile: nothing left to release.
      }
    }
    this.unguard?.();
    // Idle now (its queue is empty), which is the only safe time to terminate it.
    this.terminating = true;
    await this.worker.terminate();
  }
}

/**
 * Sessions hosted in one inference worker. After close() the next open starts a new
 * worker, so a host stays usable whatever its owner's order of calls.
 */
export class WorkerSessionHost implements SessionHost {
  private current: { readonly worker: InferenceWorker; readonly sender: HeldInputSender } | undefined;

  constructor(
    private readonly label: string,
    private readonly device: DeviceChoice,
    private readonly base: Omit<OrtSettings, 'device'>,
  ) {}

  private get live() {
    return (this.current ??= { worker: new InferenceWorker(this.label), sender: new HeldInputSender() });
  }

  /** For tests of the crash path: end the worker thread the way a crash would. */
  simulateCrash(): Promise<void> {
    return this.live.worker.request({ op: 'crash' });
  }

  async open(path: string): Promise<HostedSession> {
    // Sessions keep the worker they were opened in, whatever the host does later.
    const { worker, sender } = this.live;
    const opened = await worker.request<Opened>({ op: 'open', path, settings: this.device.settings(this.base) });
    if (opened.cudaUnavailable) this.device.fellBack(opened.cudaUnavailable);
    const session = opened.session;
    return {
      inputs: opened.inputs,
      outputs: opened.outputs,
      run: async (feeds: Readonly<TensorMap>) => {
        const out = sender.encode(feeds);
        return decodeTensors(await worker.request<WireTensors>({ op: 'run', session, feeds: out.value }, out.transfer));
      },
      release: () => worker.request({ op: 'release', session }),
    };
  }

  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    await current?.worker.close();
  }
}
