import { basename } from 'node:path';
import { ModelContractError, oneLine } from '../util/errors.js';
import { createSessionHost } from '../inference/host.js';
import type { HostedSession, SessionHost, SessionOptions, TensorMap } from '../inference/types.js';
import { InferenceWorkerError } from '../inference/worker-host.js';
import type { TensorSpec } from './contracts.js';
import { formatDims, type TensorSignature } from '../inference/signature.js';

export { formatDims, type TensorSignature };
export type { SessionOptions, TensorMap };



/** Called after every run with what went in and what came out (debugging and spy tests). */
export type RunObserver = (role: string, feeds: Readonly<TensorMap>, outputs: Readonly<TensorMap>) => void;

/**
 * One onnxruntime session plus the signature it was opened with. Every model file samlite
 * runs goes through this class, whatever its family and wherever it runs (see
 * SessionOptions.inference): errors are worded here, the same in both modes.
 */
export class ModelSession {
  private constructor(
    /** The file the session was loaded from. */
    readonly path: string,
    /** 'encoder' or 'decoder', for messages. */
    readonly role: string,
    private readonly session: HostedSession,
    readonly inputs: readonly TensorSignature[],
    readonly outputs: readonly TensorSignature[],
    private readonly observer?: RunObserver,
    /** The host made for this session alone, when none was given. */
    private readonly ownHost?: SessionHost,
  ) {}

  /**
   * Load `path`; a file onnxruntime cannot load is a ModelContractError naming the file.
   * `host` is the model's host, shared by its two sessions; without one the session gets
   * a host of its own made from `options`.
   */
  static async open(
    path: string,
    role: string,
    options: SessionOptions = {},
    observer?: RunObserver,
    host?: SessionHost,
  ): Promise<ModelSession> {
    const ownHost = host ? undefined : createSessionHost(options, basename(path));
    let session: HostedSession;
    try {
      session = await (host ?? ownHost!).open(path);
    } catch (err) {
      await ownHost?.close();
      if (err instanceof InferenceWorkerError) throw err;
      throw new ModelContractError(`${path}: cannot load the ${role} as an ONNX model (${oneLine(err)})`, { cause: err });
    }
    return new ModelSession(path, role, session, session.inputs, session.outputs, observer, ownHost);
  }

  /** Run with `feeds`; returns every output by name. */
  async run(feeds: TensorMap): Promise<TensorMap> {
    let outputs: TensorMap;
    try {
      outputs = await this.session.run(feeds);
    } catch (err) {
      if (err instanceof InferenceWorkerError) throw err;
      throw new ModelContractError(`${basename(this.path)}: the ${this.role} failed to run (${oneLine(err)})`, { cause: err });
    }
    this.observer?.(this.role, feeds, outputs);
    return outputs;
  }

  /** Free the native session (and this session's own host, if it has one). */
  async release(): Promise<void> {
    try {
      await this.session.release();
    } finally {
      await this.ownHost?.close();
    }
  }
}

/**
 * How `actual` departs from `spec`, or undefined when it conforms. A symbolic dimension in
 * the file is accepted where the contract fixes a size: it is checked again at run time.
 */
export function tensorMismatch(spec: TensorSpec, actual: TensorSignature): string | undefined {
  if (actual.type !== spec.type) return `${actual.name} is ${actual.type}, the contract needs ${spec.type}`;
  if (actual.dims.length === 0) return undefined; // shape not declared in the file
  if (actual.dims.length !== spec.dims.length) {
    return `${actual.name} has shape ${formatDims(actual.dims)}, the contract needs ${formatDims(spec.dims)}`;
  }
  for (let i = 0; i < spec.dims.length; i++) {
    const want = spec.dims[i];
    const got = actual.dims[i];
    if (want !== null && typeof got === 'number' && got !== want) {
      return `${actual.name} has shape ${formatDims(actual.dims)}, the contract needs ${formatDims(spec.dims)}`;
    }
  }
  return undefined;
}

/**
 * Throw a ModelContractError naming the file when a run's output of `spec` has a size the
 * contract fixes but the file's metadata left symbolic.
 */
export function checkRunShape(session: ModelSession, spec: TensorSpec, dims: readonly number[]): void {
  const fits = dims.length === spec.dims.length && spec.dims.every((want, i) => want === null || dims[i] === want);
  if (!fits) {
    throw new ModelContractError(
      `${session.path}: the ${session.role} returned ${spec.name} of shape ${formatDims(dims)}, the contract needs ${formatDims(spec.dims)}`,
    );
  }
}
