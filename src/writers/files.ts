import { lstat, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { fileErrorReason, fileKind } from '../util/fs-reason.js';
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
 * Check, before any work, that `dir` is a folder or can be created as one: that it and its
 * nearest existing ancestor are folders. Throws a UsageError naming `flag` otherwise, where
 * mkdir would fail half-way through a run with a raw `EEXIST`/`ENOTDIR`.
 */
export async function assertFolderUsable(dir: string, flag: string): Promise<void> {
  for (let path = resolve(dir); ; path = dirname(path)) {
    let stats;
    try {
      stats = await stat(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(path) !== path) continue; // created when first written
      throw new UsageError(`${flag} ${dir}: ${fileErrorReason(err)}`);
    }
    if (stats.isDirectory()) return;
    const kind = fileKind(stats);
    throw new UsageError(path === resolve(dir) ? `${flag} ${dir}: is ${kind}, not a folder` : `${flag} ${dir}: ${path} is ${kind}, so the folder cannot be created`);
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

/** Throw an InputError naming `path` when it exists and `options.overwrite` is not set. */
export async function refuseExisting(path: string, options: WriteOptions): Promise<void> {
  if (!options.overwrite && (await pathExists(path))) {
    throw new InputError(`${path} already exists; pass --overwrite to replace it`);
  }
}
