import { lstat } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { writeFileAtomic, writeStreamAtomic } from '../util/atomic-write.js';

/** What every writer accepts about replacing files. */
export interface WriteOptions {
  /**
   * Replace existing output files (`--overwrite`). Default false: a writer that finds its
   * output already there throws instead of writing.
   */
  readonly overwrite?: boolean;
}

/** True when something (file, folder, link) exists at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ENOTDIR: a parent is a file, so nothing can exist below it.
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw err;
  }
}

/**
 * Write one output file atomically (temporary file + rename, parent folders created).
 *
 * Without `overwrite` an existing file is an error naming it. The CLI checks every planned
 * output up front (`assertNoExistingOutputs` in naming.ts); this second check catches files that
 * appeared since, e.g. from a parallel run, and keeps library callers from clobbering
 * files by accident. It is a check-then-rename, not an exclusive create: two writers
 * racing for the same path can still both succeed, the later one winning whole.
 */
export async function writeOutputFile(
  path: string,
  data: string | Uint8Array,
  options: WriteOptions = {},
): Promise<void> {
  await refuseExisting(path, options);
  await writeFileAtomic(path, data);
}

/**
 * {@link writeOutputFile} for content produced piece by piece (a dataset file too large to
 * hold as one string): streamed to a temporary file, renamed into place when complete.
 */
export async function writeOutputStream(
  path: string,
  produce: (write: (chunk: string) => Promise<void>) => Promise<void>,
  options: WriteOptions = {},
): Promise<void> {
  await refuseExisting(path, options);
  await writeStreamAtomic(path, produce);
}

async function refuseExisting(path: string, options: WriteOptions): Promise<void> {
  if (!options.overwrite && (await pathExists(path))) {
    throw new InputError(`${path} already exists; pass --overwrite to replace it`);
  }
}
