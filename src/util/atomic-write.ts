import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { dirname, basename, join } from 'node:path';

/**
 * Temporary sibling name for `finalPath`. It starts with a dot and ends in `.partial`, so
 * globs for finished outputs (`*.png`, `*.json`) never match it and a crash leaves nothing
 * that looks complete.
 */
export function tempPathFor(finalPath: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
}

/** Paths of temporary files still being written, so an interrupt handler can remove them. */
const inFlight = new Set<string>();

/** Temporary files currently open for writing by {@link writeFileAtomic}. */
export function inFlightTempFiles(): ReadonlySet<string> {
  return inFlight;
}

/**
 * Write `data` to `finalPath` atomically: write a temporary file beside it, then rename.
 * Readers see either the old file, no file, or the whole new file — never a half-written one.
 * Creates the parent folder when missing.
 */
export async function writeFileAtomic(finalPath: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(finalPath), { recursive: true });
  const tmp = tempPathFor(finalPath);
  inFlight.add(tmp);
  try {
    await writeFile(tmp, data);
    await rename(tmp, finalPath);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    inFlight.delete(tmp);
  }
}

/**
 * Write a file too large to hold as one string atomically: `produce` is handed a `write`
 * function and streams the content through it (awaiting `write` honours back-pressure);
 * the temporary file is renamed into place only after `produce` resolves and the data is
 * flushed. On any error the temporary file is removed and nothing appears under `finalPath`.
 */
export async function writeStreamAtomic(
  finalPath: string,
  produce: (write: (chunk: string) => Promise<void>) => Promise<void>,
): Promise<void> {
  await mkdir(dirname(finalPath), { recursive: true });
  const tmp = tempPathFor(finalPath);
  inFlight.add(tmp);
  const out = createWriteStream(tmp);
  const write = (chunk: string) =>
    new Promise<void>((resolve, reject) => {
      if (out.write(chunk)) resolve();
      else out.once('drain', resolve).once('error', reject);
    });
  try {
    await produce(write);
    out.end();
    await finished(out);
    await rename(tmp, finalPath);
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw err;
  } finally {
    inFlight.delete(tmp);
  }
}
