import { Chalk, type ChalkInstance } from 'chalk';
import type { JobReport } from '../jobs/dataset-run.js';
import { writeStdout } from './stdout.js';

/**
 * Human-facing output. Everything here goes to stderr: stdout is reserved for data
 * (JSON lines, paths) so that `samlite ... | jq` works.
 */
export interface Ui {
  /** Colours for stderr text; level 0 (plain) off a TTY or when NO_COLOR is set. */
  readonly color: ChalkInstance;
  /**
   * True when stderr is a terminal that can redraw a line in place: progress bars and
   * spinners allowed. A terminal that reports a width of 0 columns (containers, CI
   * consoles, `script` wrappers) gets plain lines instead: see {@link canRedraw}.
   */
  readonly interactive: boolean;
  readonly quiet: boolean;
  /** One-line error, always printed. */
  error(message: string): void;
  /** One-line warning, always printed. */
  warn(message: string): void;
  /** Informational line, silenced by --quiet. */
  info(message: string): void;
}

export interface UiOptions {
  quiet?: boolean;
  stream?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}

/** True when colour is allowed on `stream`: a TTY and no NO_COLOR (https://no-color.org). */
export function colorAllowed(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return Boolean(stream.isTTY);
}

/**
 * True when `stream` is a terminal with a known width. Spinners and bars measure their
 * line against the width to know how many rows to clear, and a width of 0 made ora's
 * clearing loop endless (an unbounded stream of cursor-up escapes on the main thread, so
 * not even Ctrl-C got through). Such terminals are treated like a log: no redrawing.
 */
function canRedraw(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && (stream.columns ?? 0) > 0;
}

/** The Ui for `stream` (stderr): colours, quiet mode and whether live progress may be drawn. */
export function createUi(options: UiOptions = {}): Ui {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  const color = new Chalk({ level: colorAllowed(stream, env) ? 1 : 0 });
  const quiet = options.quiet ?? false;
  const write = (line: string) => stream.write(`${line}\n`);
  return {
    color,
    interactive: canRedraw(stream),
    quiet,
    error: (message) => write(`${color.red('error:')} ${message}`),
    warn: (message) => write(`${color.yellow('warning:')} ${message}`),
    info: (message) => {
      if (!quiet) write(message);
    },
  };
}

/** Write one JSON record as a line on stdout (nothing once stdout has gone away). */
export function emitJsonLine(record: unknown): void {
  writeStdout(`${JSON.stringify(record)}\n`);
}

/** A job's report for the CLI: lines on stderr through `ui`, records as JSON lines on stdout when `json`. */
export function jobReport(ui: Ui, json: boolean): JobReport {
  return { error: (m) => ui.error(m), info: (m) => ui.info(m), warn: (m) => ui.warn(m), ...(json ? { record: emitJsonLine } : {}) };
}
