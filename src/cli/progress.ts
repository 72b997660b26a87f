import { SingleBar } from 'cli-progress';
import ora from 'ora';
import type { Ui } from './ui.js';

/** Progress of a batch of images: a bar on a terminal, nothing otherwise. */
export interface BatchProgress {
  /** One image finished (or failed, or was skipped), having produced `masks` masks. */
  imageDone(masks: number): void;
  /** Print a line without tearing the bar. */
  log(line: string): void;
  /** Clear the bar's line so that a message printed next starts at its left edge (no blank line). */
  clear(): void;
  stop(): void;
}

/** What a batch counts: images (the default), or tiles of a raster. */
export interface ProgressUnit {
  /** `images` */
  readonly plural: string;
  /** `img/s` */
  readonly rate: string;
}

const IMAGES: ProgressUnit = { plural: 'images', rate: 'img/s' };

/**
 * A cli-progress bar (`unit`s done / total, masks, rate, ETA) when stderr is a terminal and
 * not --quiet; a no-op otherwise, so pipes and logs get only data and errors.
 */
export function createBatchProgress(ui: Ui, total: number, unit: ProgressUnit = IMAGES): BatchProgress {
  if (!ui.interactive || ui.quiet) {
    return { imageDone: () => {}, log: (line) => process.stderr.write(`${line}\n`), clear: () => {}, stop: () => {} };
  }
  let masks = 0;
  let done = 0;
  const started = Date.now();
  const bar = new SingleBar(
    {
      format: `${ui.color.cyan('{bar}')} {value}/{total} ${unit.plural} | {masks} masks | {rate} ${unit.rate} | ETA {eta_formatted}`,
      barCompleteChar: '█',
      barIncompleteChar: '░',
      hideCursor: true,
      stream: process.stderr,
      etaBuffer: 20,
    },
  );
  bar.start(total, 0, { masks: 0, rate: '0.00' });
  return {
    imageDone(n) {
      masks += n;
      done++;
      const seconds = Math.max((Date.now() - started) / 1000, 1e-3);
      bar.increment(1, { masks, rate: (done / seconds).toFixed(2) });
    },
    log(line) {
      // Clear the bar's line, print, and let the next update redraw it.
      process.stderr.write(`\r\x1b[2K${line}\n`);
      bar.updateETA();
    },
    clear() {
      // The next update redraws the bar below whatever was printed.
      process.stderr.write('\r\x1b[2K');
    },
    stop: () => bar.stop(),
  };
}

/** Run `task` under an ora spinner with `text` on a terminal; plainly otherwise. */
export async function withSpinner<T>(ui: Ui, text: string, task: () => Promise<T>): Promise<T> {
  if (!ui.interactive || ui.quiet) return task();
  // ora colours the spinner with its own chalk, which does not read NO_COLOR: follow the Ui.
  const colour = ui.color.level > 0;
  const spinner = ora({ text, stream: process.stderr, color: colour ? 'cyan' : false, isEnabled: colour || undefined }).start();
  try {
    const result = await task();
    spinner.stop();
    return result;
  } catch (err) {
    spinner.stop();
    throw err;
  }
}
