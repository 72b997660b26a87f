/**
 * File-system failures and file kinds in words, for the one-line messages that name an
 * input: `x.jpg: no such file`, `loop.png: a symbolic link loop`, `x.jpg: not a regular
 * file (a named pipe)`.
 */
import type { Stats } from 'node:fs';

/** A directory where an image file was expected: EISDIR's wording, also for a stat that says so. */
const IS_A_DIRECTORY = 'is a directory, not an image file';

/** Why a file could not be opened or read, from its errno code. */
export function fileErrorReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return IS_A_DIRECTORY;
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'no such file (a parent is not a folder)';
    case 'ELOOP':
      return 'a symbolic link loop (too many levels of symbolic links)';
    case 'ENAMETOOLONG':
      return 'file name too long';
    default:
      return `cannot read (${code ?? (err instanceof Error ? err.message : String(err))})`;
  }
}

/**
 * errno codes that mean the file system refuses every write, not only this file's: full,
 * over quota, read-only. A batch that meets one stops instead of failing each image in turn.
 */
const EVERY_WRITE_FAILS: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

/** True when `err` says no write to that file system can succeed (see EVERY_WRITE_FAILS). */
export function failsEveryWrite(err: unknown): boolean {
  return EVERY_WRITE_FAILS.has((err as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/** Why a file or stream could not be written, from its errno code. */
export function writeErrorReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOSPC':
      return 'no space left on device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EROFS':
      return 'read-only file system';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'a folder is in the way';
    case 'EEXIST':
    case 'ENOTDIR':
      return 'a file is in the way of its folder';
    case 'EFBIG':
      return 'file too large';
    case 'EIO':
      return 'input/output error';
    case 'EPIPE':
      return 'closed by its reader';
    case 'ENAMETOOLONG':
      return 'file name too long';
    default:
      return `write failed (${code ?? (err instanceof Error ? err.message : String(err))})`;
  }
}

/** What a path is, in words: `a file`, `a directory`, `a named pipe`, ... */
export function fileKind(stats: Stats): string {
  if (stats.isFile()) return 'a file';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a file';
}

/**
 * Undefined for a regular file, else why it is not one: `not a regular file (a named
 * pipe)`, or for a directory the same words as EISDIR (opening one for reading succeeds on
 * Linux, so the stat finds it). Reading a named pipe or a device blocks for ever or never
 * ends, so inputs must be files.
 */
export function notARegularFile(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  return stats.isDirectory() ? IS_A_DIRECTORY : `not a regular file (${fileKind(stats)})`;
}

/** Why a file or folder could not be written, from its errno code. */
export function fileWriteReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EROFS':
      return 'read-only file system';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a file is in the way of the folder';
    default:
      return `cannot write (${code ?? (err instanceof Error ? err.message : String(err))})`;
  }
}
