/**
 * How much of onnxruntime's own log reaches stderr. onnxruntime writes its records straight
 * to the process's stderr (coloured, multi-line, with source paths), past samlite's
 * one-line messages, so by default only fatal records get through; the error itself still
 * reaches the user as samlite's one-line message. Developers see the rest with
 * `SAMLITE_ORT_LOG=warning` (or verbose, info, error).
 */
import { UsageError } from '../util/errors.js';

/** The environment variable that sets onnxruntime's log level. */
export const ORT_LOG_VARIABLE = 'SAMLITE_ORT_LOG';

/** onnxruntime's levels, least severe first: the index is its severity number. */
const LEVELS = ['verbose', 'info', 'warning', 'error', 'fatal'] as const;

/** A level onnxruntime understands (`ort.env.logLevel`). */
export type OrtLogLevel = (typeof LEVELS)[number];

/** The default: nothing of onnxruntime's but a fatal record reaches stderr. */
export const DEFAULT_ORT_LOG_LEVEL: OrtLogLevel = 'fatal';

/**
 * The level asked for by SAMLITE_ORT_LOG in `env`, else the default. Throws a UsageError
 * naming the variable for a value that is not a level.
 */
export function ortLogLevel(env: NodeJS.ProcessEnv = process.env): OrtLogLevel {
  const value = env[ORT_LOG_VARIABLE];
  if (value === undefined || value === '') return DEFAULT_ORT_LOG_LEVEL;
  const level = LEVELS.find((l) => l === value.trim().toLowerCase());
  if (!level) throw new UsageError(`${ORT_LOG_VARIABLE}=${JSON.stringify(value)}: expected one of ${LEVELS.join(', ')}`);
  return level;
}

/** onnxruntime's severity number for `level` (a session's `logSeverityLevel`). */
export function ortLogSeverity(level: OrtLogLevel): 0 | 1 | 2 | 3 | 4 {
  return LEVELS.indexOf(level) as 0 | 1 | 2 | 3 | 4;
}
