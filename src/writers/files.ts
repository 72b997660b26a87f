import { constants } from 'node:fs';
import { access, lstat, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import pLimit from 'p-limit';
import { InputError, UsageError } from '../util/errors.js';
import { fileErrorReason, fileKind, writeErrorReason } from '../util/fs-reason.js';
import { nearestExisting } from '../util/nearest-existing.js';
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
  await usableFolder(dir, flag);
}

/** {@link assertFolderUsable}, returning the nearest existing folder of `dir`. */
async function usableFolder(dir: string, flag: string): Promise<string> {
  let found;
  try {
    found = await nearestExisting(resolve(dir));
  } catch (err) {
    throw new UsageError(`${flag} ${dir}: ${fileErrorReason(err)}`);
  }
  if (found.stats.isDirectory()) return found.path;
  const kind = fileKind(found.stats);
  throw new UsageError(found.path === resolve(dir) ? `${flag} ${dir}: is ${kind}, not a folder` : `${flag} ${dir}: ${found.path} is ${kind}, so the folder cannot be created`);
}

/**
 * Check before any model work that every one of `files` can be written below `outDir` (the
 * folder of `flag`): that folder can be created and written to (not read-only, not refused
 * by permissions, not on a file system with no block left), no planned file is a folder,
 * and no file stands where one of their folders must be. Throws a UsageError naming the
 * path; what only shows later (a disk filling up) fails as an OutputError then.
 */
export async function assertOutputsWritable(outDir: string, files: readonly string[], flag = '--out'): Promise<void> {
  const folder = await usableFolder(outDir, flag);
  try {
    // access() asks the kernel, so a read-only mount is refused even for root, whom
    // permission bits do not stop.
    await access(folder, constants.W_OK);
  } catch (err) {
    throw new UsageError(`${flag} ${outDir}: cannot write there (${writeErrorReason(err)})`);
  }
  const space = await statfs(folder).catch(() => undefined);
  // blocks > 0: file systems that report nothing (some FUSE mounts) are not judged.
  if (space && space.blocks > 0 && space.bfree === 0) throw new UsageError(`${flag} ${outDir}: cannot write there (no space left on device)`);
  const parents = new Map<string, string>();
  for (const file of files) if (!parents.has(dirname(file))) parents.set(dirname(file), file);
  const existingParents = new Set<string>();
  for (const [parent, file] of parents) {
    const found = await nearestExisting(parent).catch(() => undefined);
    if (found && !found.stats.isDirectory()) {
      throw new UsageError(`${found.path} is ${fileKind(found.stats)} where samlite needs a folder (for ${file}); move it away or choose another ${flag}`);
    }
    if (found?.path === parent) existingParents.add(parent);
  }
  // Only a file in an existing folder can exist (a first run into a new --out stats none),
  // and many are looked at together: a rerun over 10 000 images plans 30 000 files.
  const limit = pLimit(32);
  const found = await Promise.all(
    files.filter((file) => existingParents.has(dirname(file))).map((file) => limit(async () => ((await lstat(file).catch(() => undefined))?.isDirectory() ? file : undefined))),
  );
  const inTheWay = found.find((file) => file !== undefined);
  if (inTheWay !== undefined) throw new UsageError(`${inTheWay} is a folder where samlite writes a file; move it away or choose another ${flag}`);
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
  data: string | Uint8Array | readonly Uint8Array[],
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
