import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { dirname, basename, join, resolve } from 'node:path';
import { OutputError } from './errors.js';
import { failsEveryWrite, writeErrorReason } from './fs-reason.js';
import { nearestExisting } from './nearest-existing.js';

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
 *
 * A failure to create the folder, write the temporary file or rename it is an OutputError
 * naming `finalPath` (never the temporary name) and saying why in words; other errors of
 * `fill` (reading its sources) are thrown as they are.
 */
export async function withTempFile(finalPath: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  try {
    await mkdir(dirname(finalPath), { recursive: true });
  } catch (err) {
    throw await outputError(finalPath, err);
  }
  const tmp = tempPathFor(finalPath);
  inFlight.add(tmp);
  try {
    try {
      await fill(tmp);
    } catch (err) {
      // Errors without a path (a write's ENOSPC) or on the temporary file are this write's.
      const path = (err as NodeJS.ErrnoException).path;
      throw isErrno(err) && (path === undefined || path === tmp) ? await outputError(finalPath, err) : err;
    }
    try {
      await rename(tmp, finalPath);
    } catch (err) {
      throw await outputError(finalPath, err);
    }
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  } finally {
    inFlight.delete(tmp);
  }
}

/** True for a Node system error (it carries an errno code and the failed call). */
function isErrno(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/**
 * `err`, met while writing `finalPath`, as an OutputError naming the file: `out/x.json:
 * cannot write (no space left on device)`. When a file stands where a folder of the path
 * must be, it is named too.
 */
async function outputError(finalPath: string, err: unknown): Promise<unknown> {
  if (!isErrno(err)) return err;
  let reason = writeErrorReason(err);
  if (err.code === 'EEXIST' || err.code === 'ENOTDIR') {
    const blocker = await nearestExisting(dirname(finalPath)).catch(() => undefined);
    if (blocker && !blocker.stats.isDirectory()) reason = `${blocker.path} is a file, not a folder`;
  } else if (err.code === 'EISDIR' && resolve((err as { dest?: string }).dest ?? err.path ?? '') === resolve(finalPath)) {
    reason = 'it is a folder';
  }
  return new OutputError(finalPath, reason, { code: err.code, everyWrite: failsEveryWrite(err), cause: err });
}

/**
 * Write `data` to `finalPath` atomically: write a temporary file beside it, then rename.
 * Readers see either the old file, no file, or the whole new file — never a half-written one.
 * Creates the parent folder when missing.
 */
export async function writeFileAtomic(finalPath: string, data: string | Uint8Array | readonly Uint8Array[]): Promise<void> {
  await withTempFile(finalPath, (tmp) => (typeof data === 'string' || data instanceof Uint8Array ? writeFile(tmp, data) : writeChunks(tmp, data)));
}

/** Buffers per writev call (Linux's IOV_MAX is 1024). */
const WRITEV_BUFFERS = 512;

/**
 * `chunks` written one after another with writev, never joined: a 30 MB file made of a
 * few hundred pieces costs no 30 MB buffer (whose first touch, page by page, cost more than
 * the write on the development VM).
 */
async function writeChunks(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  const file = await open(path, 'w');
  try {
    for (let i = 0; i < chunks.length; i += WRITEV_BUFFERS) {
      let batch = chunks.slice(i, i + WRITEV_BUFFERS);
      let left = batch.reduce((n, c) => n + c.length, 0);
      while (left > 0) {
        const { bytesWritten } = await file.writev(batch);
        left -= bytesWritten;
        if (left > 0) batch = skipBytes(batch, bytesWritten);
      }
    }
  } finally {
    await file.close();
  }
}

/** `chunks` without their first `n` bytes (after a short write). */
function skipBytes(chunks: readonly Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) {
    if (n >= c.length) n -= c.length;
    else {
      out.push(n > 0 ? c.subarray(n) : c);
      n = 0;
    }
  }
  return out;
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
