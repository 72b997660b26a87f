/**
 * File-system failures and file kinds in words, for the one-line messages that name an
 * input: `x.jpg: no such file`, `loop.png: a symbolic link loop`, `x.jpg: not a regular
 * file (a named pipe)`.
 */
import type { Stats } from 'node:fs';

/** Why a file could not be opened or read, from its errno code. */
export function fileErrorReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'is a directory, not an image file';
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
 * Undefined for a regular file, else why it is not one: `a named pipe`, `a socket`, ...
 * Reading a named pipe or a device blocks for ever or never ends, so inputs must be files.
 */
export function notARegularFile(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  const kind = stats.isDirectory()
    ? 'a directory'
    : stats.isFIFO()
      ? 'a named pipe'
      : stats.isSocket()
        ? 'a socket'
        : stats.isCharacterDevice()
          ? 'a character device'
          : stats.isBlockDevice()
            ? 'a block device'
            : 'not a file';
  return `not a regular file (${kind})`;
}
