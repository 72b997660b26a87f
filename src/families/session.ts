import { basename } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelContractError, oneLine } from '../errors.js';
import type { TensorSpec } from './contracts.js';

/** Name, element type and shape of one model input or output, as the file declares it. */
export interface TensorSignature {
  readonly name: string;
  /** onnxruntime type name ('float32', 'int64', ...), or 'non-tensor'. */
  readonly type: string;
  /** Fixed sizes as numbers, symbolic dimensions as their names. Empty when unknown. */
  readonly dims: readonly (number | string)[];
}

/** Options for every session samlite opens. */
export interface SessionOptions {
  /** Intra-op threads; default: onnxruntime's choice (one per physical core). */
  readonly threads?: number;
}

/** A feed or fetch map of tensors by name. */
export type TensorMap = Record<string, ort.Tensor>;

/** Called after every run with what went in and what came out (debugging and spy tests). */
export type RunObserver = (role: string, feeds: Readonly<TensorMap>, outputs: Readonly<TensorMap>) => void;

function signatures(meta: readonly ort.InferenceSession.ValueMetadata[]): TensorSignature[] {
  return meta.map((m) =>
    m.isTensor ? { name: m.name, type: m.type, dims: [...m.shape] } : { name: m.name, type: 'non-tensor', dims: [] },
  );
}

/**
 * One onnxruntime session plus the signature it was opened with. Every model file samlite
 * runs goes through this class, whatever its family.
 */
export class ModelSession {
  private constructor(
    /** The file the session was loaded from. */
    readonly path: string,
    /** 'encoder' or 'decoder', for messages. */
    readonly role: string,
    private readonly session: ort.InferenceSession,
    readonly inputs: readonly TensorSignature[],
    readonly outputs: readonly TensorSignature[],
    private readonly observer?: RunObserver,
  ) {}

  /** Load `path`; a file onnxruntime cannot load is a ModelContractError naming the file. */
  static async open(path: string, role: string, options: SessionOptions = {}, observer?: RunObserver): Promise<ModelSession> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(path, {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'all',
        enableCpuMemArena: true,
        executionMode: 'sequential',
        ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
      });
    } catch (err) {
      throw new ModelContractError(`${path}: cannot load the ${role} as an ONNX model (${oneLine(err)})`, { cause: err });
    }
    return new ModelSession(path, role, session, signatures(session.inputMetadata), signatures(session.outputMetadata), observer);
  }

  /** Run with `feeds`; returns every output by name. */
  async run(feeds: TensorMap): Promise<TensorMap> {
    let outputs: TensorMap;
    try {
      outputs = (await this.session.run(feeds)) as TensorMap;
    } catch (err) {
      throw new ModelContractError(`${basename(this.path)}: the ${this.role} failed to run (${oneLine(err)})`, { cause: err });
    }
    this.observer?.(this.role, feeds, outputs);
    return outputs;
  }

  /** Free the native session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Human form of a shape: [1, 256, 64, 64], symbolic dims by name. */
export function formatDims(dims: readonly (number | string | null)[]): string {
  return `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
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
