import { Option } from 'commander';
import type { SessionOptions } from '../families/session.js';
import { decimal, list, wholeNumber } from './ranges.js';
import type { Ui } from './ui.js';

/** Options every model-running command shares, as commander hands them over. */
export interface CommonRunOptions {
  model?: string;
  out: string;
  overwrite?: boolean;
  json?: boolean;
  quiet?: boolean;
  threads?: number;
  maxPixels?: number;
  device: 'cpu' | 'cuda';
  inference?: 'main' | 'worker';
}

/** Parse a positive integer flag value (prefer an OPTION_RANGES entry in ranges.ts). */
export function positiveInt(flag: string): (text: string) => number {
  const { parse } = wholeNumber(1);
  return (text) => parse!(text, flag, undefined) as number;
}

/** Parse a finite number flag value in [min, max] (prefer an OPTION_RANGES entry in ranges.ts). */
export function numberIn(flag: string, min = -Infinity, max = Infinity): (text: string) => number {
  const { parse } = decimal(min, max);
  return (text) => parse!(text, flag, undefined) as number;
}

/**
 * A comma-separated, repeatable `--format` parser restricted to `allowed`
 * (`--format mask,overlay --format json`); an empty list is refused.
 */
export function formatList<T extends string>(allowed: readonly T[]): (text: string, previous: T[] | undefined) => T[] {
  const { parse } = list(allowed);
  return (text, previous) => parse!(text, '--format', previous) as T[];
}

/** The options shared by `segment` and `everything`. */
export function commonRunOptions(): Option[] {
  return [
    new Option('-m, --model <name|manifest>', 'catalog model name or path to a model manifest (default: see `samlite models default`)'),
    new Option('-o, --out <dir>', 'output folder').default('.', 'the current folder'),
    new Option('--overwrite', 'replace existing output files (otherwise an existing output is an error)'),
    new Option('--json', 'one JSON line per result on stdout (the default when stdout is not a terminal)'),
    new Option('-q, --quiet', 'no progress or summary on stderr (errors still shown)'),
    new Option('--threads <n>', 'onnxruntime intra-op threads (default: one per core)'),
    new Option('--device <device>', 'cpu, or cuda (falls back to the CPU with a warning when CUDA cannot start)')
      .choices(['cpu', 'cuda'])
      .default('cpu'),
    new Option('--inference <where>', 'run the models on the main thread or in a worker thread (default: worker on a terminal or with several images in flight, main otherwise)').choices([
      'main',
      'worker',
    ]),
    new Option('--max-pixels <n>', 'refuse images with more pixels than this (default 100M)'),
  ];
}

/**
 * Session options from the shared flags. Inference defaults to a worker thread when
 * several images are in flight (the main thread filters one image's masks while the worker
 * runs the model for another: measured 5 % faster on the benchmark models) or when stderr
 * is a terminal (the spinner, the progress bar and Ctrl-C stay live during model runs).
 * Otherwise the main thread: one image at a time gains nothing from the worker and pays
 * 3-5 % for moving tensors (README: Performance).
 */
export function sessionOptions(flags: CommonRunOptions, ui: Ui, imagesInFlight = 1): SessionOptions {
  return {
    threads: flags.threads,
    device: flags.device,
    inference: flags.inference ?? (ui.interactive || imagesInFlight > 1 ? 'worker' : 'main'),
    onWarning: (message) => ui.warn(message),
  };
}

/** JSON lines on stdout when asked for, or when stdout is a pipe or file. */
export function wantsJson(options: { json?: boolean }, stdout: NodeJS.WriteStream = process.stdout): boolean {
  return options.json === true || !stdout.isTTY;
}
