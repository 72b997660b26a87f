/**
 * The shapes the inference layer works in: how sessions are asked to run (SessionOptions),
 * what goes in and out of a run (TensorMap), and the host seam between a session and the
 * thread it runs on. Kept apart from the implementations so that the session layer above
 * (families/session.ts) and the two hosts here depend on these, not on each other.
 */
import type * as ort from 'onnxruntime-node';
import type { TensorSignature } from './signature.js';

/** Options for every session samlite opens. */
export interface SessionOptions {
  /**
   * Intra-op threads; default: onnxruntime's choice (one per physical core). FastSAM's
   * `everything` also renders its masks on this many threads (the caller and threads - 1
   * workers; default one per core).
   */
  readonly threads?: number;
  /**
   * 'cuda' asks for onnxruntime's CUDA provider and falls back to the CPU, with one
   * warning, when it fails to initialise (no CUDA build of onnxruntime-node, no driver or
   * no GPU); results are the same either way. Default 'cpu'.
   */
  readonly device?: 'cpu' | 'cuda';
  /**
   * Where sessions run. 'main': on the calling thread, whose event loop each run blocks
   * (onnxruntime-node runs synchronously). 'worker': in one worker thread per opened
   * model, leaving the event loop free for progress output, signals or a server.
   * Results are identical. In 'worker' mode an input of 1 MiB or more (an image
   * embedding) is copied to the worker once and reused while it is among the last few
   * sent: do not edit such an array in place between runs. Default 'main'.
   */
  readonly inference?: 'main' | 'worker';
  /**
   * Whether idle intra-op threads spin waiting for work (onnxruntime's
   * session.intra_op.allow_spinning). Default false: spinning threads burn CPU that the
   * main thread, another session or other processes need: measured 10-15 % more CPU for
   * 1-6 % less wall time with one image at a time, and slower with two in flight
   * (scripts/measure-inference.ts, docs/performance.md).
   */
  readonly spinning?: boolean;
  /** Receives one-line warnings (the CUDA fallback). Default: process.emitWarning. */
  readonly onWarning?: (message: string) => void;
}

/** A feed or fetch map of tensors by name. */
export type TensorMap = Record<string, ort.Tensor>;

/** One opened session as its host serves it. Errors are onnxruntime's, unworded. */
export interface HostedSession {
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
  run(feeds: Readonly<TensorMap>): Promise<TensorMap>;
  release(): Promise<void>;
}

/** Opens sessions for one model and owns whatever they share (a worker thread). */
export interface SessionHost {
  open(path: string): Promise<HostedSession>;
  /** End the host after its sessions were released (or with them, whichever comes first). */
  close(): Promise<void>;
}
