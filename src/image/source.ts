import { open, readFile, stat } from 'node:fs/promises';
import { InputError } from '../errors.js';

/**
 * File access for image inputs, with every failure turned into a one-line InputError that
 * names the file: `nope.jpg: no such file`, `empty.png: empty file`.
 */

/** Label used in messages for images given as bytes without a `source`. */
export const BUFFER_SOURCE = '<buffer>';

function fsReason(err: unknown): string {
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
    default:
      return `cannot read (${code ?? (err instanceof Error ? err.message : String(err))})`;
  }
}

/** Read a whole image file; throws InputError for a missing, unreadable or empty file. */
export async function readImageFile(path: string, source: string = path): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new InputError(`${source}: ${fsReason(err)}`, { cause: err });
  }
  if (bytes.length === 0) throw new InputError(`${source}: empty file`);
  return bytes;
}

/**
 * Check that `path` is a non-empty regular file without reading it all, and return its
 * first `headBytes` bytes (enough to sniff a format). Throws the same errors as
 * {@link readImageFile}.
 */
export async function checkImageFile(path: string, source: string = path, headBytes = 32): Promise<Uint8Array> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    if (info.size === 0) throw new InputError(`${source}: empty file`);
    const handle = await open(path, 'r');
    try {
      const head = new Uint8Array(Math.min(headBytes, info.size));
      await handle.read(head, 0, head.length, 0);
      return head;
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${source}: ${fsReason(err)}`, { cause: err });
  }
}
