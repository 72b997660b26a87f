import { Chalk, type ChalkInstance } from 'chalk';

/**
 * Human-facing output. Everything here goes to stderr: stdout is reserved for data
 * (JSON lines, paths) so that `samlite ... | jq` works.
 */
export interface Ui {
  /** Colours for stderr text; level 0 (plain) off a TTY or when NO_COLOR is set. */
  readonly color: ChalkInstance;
  /** True when stderr is an interactive terminal: progress bars and spinners allowed. */
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

export function createUi(options: UiOptions = {}): Ui {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  const color = new Chalk({ level: colorAllowed(stream, env) ? 1 : 0 });
  const quiet = options.quiet ?? false;
  const write = (line: string) => stream.write(`${line}\n`);
  return {
    color,
    interactive: Boolean(stream.isTTY),
    quiet,
    error: (message) => write(`${color.red('error:')} ${message}`),
    warn: (message) => write(`${color.yellow('warning:')} ${message}`),
    info: (message) => {
      if (!quiet) write(message);
    },
  };
}

/** Write one JSON record as a line on stdout. */
export function emitJsonLine(record: unknown): void {
  process.stdout.write(`${JSON.stringify(record)}\n`);
}
