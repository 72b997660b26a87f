/**
 * The messages between the main thread and an inference worker, and how errors cross:
 * samlite's error classes arrive as the same class with the same message, anything else
 * as an Error with the original message (the session layer words it for the user).
 */
import { DownloadError, InputError, ModelContractError, SamliteError, UsageError } from '../util/errors.js';
import type { TensorSignature } from './signature.js';
import type { OrtSettings } from './ort-session.js';
import type { WireFeeds, WireTensors } from './tensor-wire.js';

/** What the main thread asks; every request is answered once, in order. */
export type Request =
  | { readonly op: 'open'; readonly id: number; readonly path: string; readonly settings: OrtSettings }
  | { readonly op: 'run'; readonly id: number; readonly session: number; readonly feeds: WireFeeds }
  | { readonly op: 'release'; readonly id: number; readonly session: number }
  /** Release every session; the worker is idle afterwards and can be terminated safely. */
  | { readonly op: 'close'; readonly id: number }
  /** End the worker thread as a crash would (tests of the crash path). */
  | { readonly op: 'crash'; readonly id: number };

/** The answer to 'open'. */
export interface Opened {
  readonly session: number;
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
  /** Set when CUDA was asked for and its provider failed to initialise. */
  readonly cudaUnavailable?: string;
}

/** An error as it travels. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly exitCode?: number;
}

/** The answer to a request: its value (Opened, WireTensors, or nothing), or an error. */
export type Reply =
  | { readonly id: number; readonly ok: true; readonly value?: Opened | WireTensors }
  | { readonly id: number; readonly ok: false; readonly error: WireError };

/** The worker's thread name (visible in diagnostics and heap snapshots). */
export const WORKER_NAME = 'samlite-inference';

/** An error in a form that survives postMessage. */
export function errorToWire(err: unknown): WireError {
  if (err instanceof SamliteError) return { name: err.name, message: err.message, stack: err.stack, exitCode: err.exitCode };
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: 'Error', message: String(err) };
}

const CLASSES: Record<string, new (message: string) => SamliteError> = {
  UsageError,
  InputError,
  ModelContractError,
  DownloadError,
};

/** The error again, as the class it was thrown as when that is one of samlite's. */
export function errorFromWire(wire: WireError): Error {
  const Known = CLASSES[wire.name];
  const err = Known
    ? new Known(wire.message)
    : wire.name === 'SamliteError'
      ? new SamliteError(wire.message, wire.exitCode)
      : Object.assign(new Error(wire.message), { name: wire.name });
  // The worker's stack says where it happened; the main-side one only says "in a reply".
  if (wire.stack) err.stack = wire.stack;
  return err;
}
