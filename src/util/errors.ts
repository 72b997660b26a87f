/**
 * Error types that carry the process exit code they stand for.
 *
 * samlite's exit codes: 0 success, 1 some inputs failed, 2 usage or configuration error,
 * 130 interrupted (143 when by SIGTERM: 128 + the signal's number).
 * Library code throws these; the CLI prints `error.message` as one line and exits with
 * `error.exitCode`. Messages name the input (file, model, URL, prompt) and what is wrong.
 */

export const EXIT_OK = 0;
export const EXIT_INPUT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

export class SamliteError extends Error {
  /** Process exit code this error maps to. */
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT_INPUT_FAILED, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Wrong flags, bad configuration, unknown or uninstalled model: nothing can run (exit 2). */
export class UsageError extends SamliteError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT_USAGE, options);
  }
}

/** One input (an image, a prompt) cannot be processed; the others still can (exit 1). */
export class InputError extends SamliteError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT_INPUT_FAILED, options);
  }
}

/**
 * An output file could not be written (exit 1): the message names the file and says why in
 * words (`out/x.json: cannot write (no space left on device)`). `everyWrite` is true when the failure is the file system's, not the file's (full,
 * over quota, read-only), so every later write there would fail too and a batch should stop
 * rather than run the model for outputs it cannot keep. `code` is the errno code.
 */
export class OutputError extends InputError {
  readonly path: string;
  /** Why, in words: `no space left on device`. */
  readonly reason: string;
  readonly code: string | undefined;
  readonly everyWrite: boolean;

  constructor(path: string, reason: string, options: { code?: string; everyWrite?: boolean; cause?: unknown } = {}) {
    super(`${path}: cannot write (${reason})`, { cause: options.cause });
    this.path = path;
    this.reason = reason;
    this.code = options.code;
    this.everyWrite = options.everyWrite ?? false;
  }
}

/** A model file does not match the contract of the family it claims (exit 2). */
export class ModelContractError extends SamliteError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT_USAGE, options);
  }
}

/** A download failed for good after its retries (exit 1: the other models may still be pulled). */
export class DownloadError extends SamliteError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT_INPUT_FAILED, options);
  }
}

/**
 * Work stopped by Ctrl-C (an aborted signal) before it finished (exit 130; the CLI exits
 * 143 instead when the signal was SIGTERM).
 */
export class InterruptedError extends SamliteError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT_INTERRUPTED, options);
  }
}

/** Collapse any thrown value to a single line suitable for stderr. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
