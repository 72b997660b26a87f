import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
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

/** Temporary files currently being written by {@link withTempFile} (and the writers built on it). */
export function inFlightTempFiles(): ReadonlySet<string> {
  return inFlight;
}

/**
 * Create `finalPath` atomically: `fill` makes the content under a temporary name beside it
 * (handed to it), which is then renamed into place. Creates the parent folder when missing.
 * While `fill` runs the temporary name is registered for the interrupt handler; on any
 * error it is removed and nothing appears under `finalPath`.
 */
export async function withTempFile(finalPath: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(finalPath), { recursive: true });
  const tmp = tempPathFor(finalPath);
  inFlight.add(tmp);
  try {
    await fill(tmp);
    await rename(tmp, finalPath);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    inFlight.delete(tmp);
  }
}

/**
 * Write `data` to `finalPath` atomically: write a temporary file beside it, then rename.
 * Readers see either the old file, no file, or the whole new file — never a half-written one.
 * Creates the parent folder when missing.
 */
export async function writeFileAtomic(finalPath: string, data: string | Uint8Array): Promise<void> {
  await withTempFile(finalPath, (tmp) => writeFile(tmp, data));
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
  await withTempFile(finalPath, async (tmp) => {
    const out = createWriteStream(tmp);
    // One listener for the stream's whole life: an error while produce awaits its source
    // (or while writes are merely buffered) is kept and rethrown, never left uncaught.
    let failure: Error | undefined;
    out.on('error', (err) => {
      failure ??= err;
    });
    const write = async (chunk: string): Promise<void> => {
      if (failure) throw failure;
      // once() removes its listeners when either event fires, and rejects on 'error'.
      if (!out.write(chunk)) await once(out, 'drain');
    };
    try {
      await produce(write);
      if (failure) throw failure;
      out.end();
      await finished(out);
    } catch (err) {
      // Let the file be closed before withTempFile removes it.
      out.destroy();
      await finished(out).catch(() => undefined);
      throw err;
    }
  });
}
