/**
 * Turns pull events into human output on stderr: a cli-progress bar (bytes, rate, ETA) on
 * a terminal, and plain occasional lines otherwise (logs, CI), so piped output stays short.
 */
import cliProgress from 'cli-progress';
import type { PullEvent } from './store.js';

/** Sizes the way download tools show them: SI units, one decimal. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export interface ProgressReporterOptions {
  /** Where lines go (stderr). */
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Draw a live bar (a terminal); otherwise print occasional lines. */
  interactive: boolean;
  /** Print nothing. */
  quiet?: boolean;
  /** Minimum time between plain progress lines. Default 5 s. */
  lineIntervalMs?: number;
}

/** Receives pull events; call `stop()` when the pull ends, successful or not. */
export interface ProgressReporter {
  onEvent(event: PullEvent): void;
  stop(): void;
}

interface FileState {
  startedAt: number;
  startOffset: number;
  lastLineAt: number;
  lastQuarter: number;
  /** When the bar was last moved: the engine reports every chunk written. */
  lastBarAt: number;
}

/**
 * Least time between two moves of the bar. Its ETA averages its last 40 updates, which
 * this spreads over 4 s whatever the chunk size.
 */
const BAR_UPDATE_MS = 100;

/** A reporter for `samlite models pull` (and any command that pulls on the user's behalf). */
export function createProgressReporter(options: ProgressReporterOptions): ProgressReporter {
  if (options.quiet) return { onEvent: () => undefined, stop: () => undefined };
  const { stream, interactive } = options;
  const lineIntervalMs = options.lineIntervalMs ?? 5000;
  const write = (line: string) => stream.write(`${line}\n`);
  const files = new Map<string, FileState>();
  let bar: cliProgress.SingleBar | undefined;

  const stopBar = () => {
    bar?.stop();
    bar = undefined;
  };
  const rateOf = (state: FileState, received: number) => {
    const seconds = (Date.now() - state.startedAt) / 1000;
    return seconds > 0 ? (received - state.startOffset) / seconds : 0;
  };

  return {
    onEvent(event) {
      switch (event.type) {
        case 'notice':
          write(`${event.model}: ${event.message}`);
          return;
        case 'waiting':
          write(`${event.model}: waiting for another samlite process${event.pid ? ` (pid ${event.pid})` : ''} that is pulling it`);
          return;
        case 'verified':
          write(`${event.label}: already present, sha256 verified (${formatBytes(event.size)})`);
          return;
        case 'start': {
          files.set(event.label, {
            startedAt: Date.now(),
            startOffset: event.offset,
            lastLineAt: Date.now(),
            lastQuarter: Math.floor((event.offset / event.size) * 4),
            lastBarAt: 0,
          });
          const resuming =
            event.offset > 0 ? `, resuming at ${formatBytes(event.offset)}` : event.rangeIgnored ? ' (the server does not resume downloads: starting over)' : '';
          if (!interactive) {
            write(`${event.label}: fetching ${formatBytes(event.size)} from ${event.source}${resuming}`);
            return;
          }
          stopBar();
          bar = new cliProgress.SingleBar(
            {
              format: `${event.label} [{bar}] {percentage}% | {done}/{all} | {rate} | ETA {eta_formatted}`,
              stream: stream as NodeJS.WritableStream,
              hideCursor: true,
              etaBuffer: 40,
              fps: 8,
            },
            cliProgress.Presets.shades_classic,
          );
          if (event.rangeIgnored) write(`${event.label}${resuming}`);
          bar.start(event.size, event.offset, { done: formatBytes(event.offset), all: formatBytes(event.size), rate: '-' });
          return;
        }
        case 'progress': {
          const state = files.get(event.label);
          if (!state) return;
          const now = Date.now();
          const rate = () => `${formatBytes(Math.round(rateOf(state, event.received)))}/s`;
          if (bar) {
            if (now - state.lastBarAt < BAR_UPDATE_MS && event.received < event.size) return;
            state.lastBarAt = now;
            bar.update(event.received, { done: formatBytes(event.received), rate: rate() });
            return;
          }
          const quarter = Math.floor((event.received / event.size) * 4);
          // A line per quarter or per interval, whichever comes first, and none at 100%:
          // the 'done' line says that.
          if (event.received < event.size && (quarter > state.lastQuarter || now - state.lastLineAt >= lineIntervalMs)) {
            state.lastQuarter = quarter;
            state.lastLineAt = now;
            const percent = Math.floor((event.received / event.size) * 100);
            write(`${event.label}: ${percent}% (${formatBytes(event.received)} of ${formatBytes(event.size)}, ${rate()})`);
          }
          return;
        }
        case 'retry':
          stopBar();
          write(`${event.label}: ${event.reason}; retrying in ${(event.delayMs / 1000).toFixed(1)} s (attempt ${event.attempt})`);
          return;
        case 'done':
          stopBar();
          write(`${event.label}: done, ${formatBytes(event.size)}, size and sha256 verified`);
          return;
      }
    },
    stop: stopBar,
  };
}
