/**
 * How samlite creates an onnxruntime session: one place for the session options, so a
 * session opened on the main thread and one opened in an inference worker are configured
 * identically, and the CUDA fallback behaves the same in both.
 */
import * as ort from 'onnxruntime-node';
import { oneLine } from '../util/errors.js';
import { describeValue, type TensorSignature } from './signature.js';
import { ortLogSeverity, type OrtLogLevel } from './ort-log.js';

/** Where inference runs. */
export type Device = 'cpu' | 'cuda';

/**
 * Most intra-op threads a session may ask for. onnxruntime starts every one of them, and
 * past the cores there are they only contend; 100 000 (a typo) never finished starting.
 * 256 covers the largest single machines.
 */
export const MAX_THREADS = 256;

/** The session settings that reach onnxruntime (plain data: they cross to workers). */
export interface OrtSettings {
  /** Intra-op threads; undefined leaves onnxruntime's choice (one per physical core). */
  readonly threads?: number;
  /** Let idle intra-op threads spin; undefined leaves onnxruntime's default (on). */
  readonly spinning?: boolean;
  readonly device: Device;
  /** How much of onnxruntime's own log reaches stderr (see ort-log.ts). */
  readonly logLevel: OrtLogLevel;
}

/** A created session, and why CUDA was not used when it was asked for. */
export interface CreatedSession {
  readonly session: ort.InferenceSession;
  /** Set when `device` was 'cuda' and the CUDA provider failed to initialise. */
  readonly cudaUnavailable?: string;
}

/** The onnxruntime session options samlite creates its sessions with (exported so the bench's bare floor is made the same way). */
export function ortSessionOptions(settings: OrtSettings, providers: string[]): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    // The arena measured 10-15 % faster per decoder run than none. Level 'all' (onnxruntime's
    // default) was within 6 % of 'disabled' on the stand-ins, whose graphs need not match the
    // fusion patterns of PyTorch exports (scripts/measure-inference.ts, docs/performance.md).
    graphOptimizationLevel: 'all',
    enableCpuMemArena: true,
    executionMode: 'sequential',
    // Per session as well as process-wide (below): the process-wide level is fixed by the
    // first session of the process, which another library may have opened.
    logSeverityLevel: ortLogSeverity(settings.logLevel),
    ...(settings.threads ? { intraOpNumThreads: settings.threads } : {}),
    ...(settings.spinning === undefined ? {} : { extra: { session: { intra_op: { allow_spinning: settings.spinning ? '1' : '0' } } } }),
  };
}

/**
 * Create a session for `path`. With device 'cuda', CUDA is asked for first; when its
 * provider cannot initialise (no CUDA build, no driver, no GPU) the session is created on
 * the CPU instead and the reason comes back in `cudaUnavailable`. Only a CPU session that
 * loads turns a CUDA failure into a fallback: a file that cannot load at all throws the
 * CPU attempt's error, which names the real problem.
 */
export async function createOrtSession(path: string, settings: OrtSettings): Promise<CreatedSession> {
  // onnxruntime prints failures (a kernel's, the CUDA provider's load failure) as native
  // multi-line log records on stderr; samlite reports them as one line instead. Only
  // effective before the first session of the thread.
  ort.env.logLevel = settings.logLevel;
  if (settings.device === 'cuda') {
    try {
      return { session: await ort.InferenceSession.create(path, ortSessionOptions(settings, ['cuda', 'cpu'])) };
    } catch (err) {
      const session = await ort.InferenceSession.create(path, ortSessionOptions(settings, ['cpu']));
      return { session, cudaUnavailable: oneLine(err) };
    }
  }
  return { session: await ort.InferenceSession.create(path, ortSessionOptions(settings, ['cpu'])) };
}

/** The one-line notice for a CUDA fallback. */
export function cudaFallbackNotice(reason: string): string {
  return `CUDA is not available (${reason}); running on the CPU`;
}

/**
 * The device for the sessions of one model: CUDA as asked until it fails to initialise
 * once, then the CPU, so the second session does not try (and warn) again.
 */
export class DeviceChoice {
  private current: Device;
  private warned = false;

  constructor(
    requested: Device,
    private readonly warn: (message: string) => void,
  ) {
    this.current = requested;
  }

  /** Settings for the next session. */
  settings(base: Omit<OrtSettings, 'device'>): OrtSettings {
    return { ...base, device: this.current };
  }

  /** CUDA failed to initialise for `reason`: use the CPU from now on, and say so once. */
  fellBack(reason: string): void {
    this.current = 'cpu';
    if (this.warned) return;
    this.warned = true;
    this.warn(cudaFallbackNotice(reason));
  }
}

/** A session's inputs or outputs as samlite describes them. */
export function signaturesOf(meta: readonly ort.InferenceSession.ValueMetadata[]): TensorSignature[] {
  return meta.map(describeValue);
}
