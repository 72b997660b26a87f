import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { InputError } from '../util/errors.js';
import { fileErrorReason, notARegularFile } from '../util/fs-reason.js';

/**
 * File access for image inputs, with every failure turned into a one-line InputError that
 * names the file: `nope.jpg: no such file`, `empty.png: empty file`, `x.jpg: not a regular
 * file (a named pipe)`.
 *
 * Files are opened with O_NONBLOCK and checked with fstat before any read: opening a named
 * pipe for reading otherwise waits for a writer for ever, and a device never ends. The flag
 * changes nothing for a regular file.
 */

/** Label used in messages for images given as bytes without a `source`. */
export const BUFFER_SOURCE = '<buffer>';

/** Open `path` for reading, refusing anything but a regular file; returns the handle and size. */
async function openRegularFile(path: string, source: string) {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new InputError(`${source}: ${fileErrorReason(err)}`, { cause: err });
  }
  try {
    const stats = await handle.stat();
    const notFile = notARegularFile(stats);
    if (notFile) throw new InputError(`${source}: ${notFile}`);
    if (stats.size === 0) throw new InputError(`${source}: empty file`);
    return { handle, size: stats.size };
  } catch (err) {
    await handle.close();
    if (err instanceof InputError) throw err;
    throw new InputError(`${source}: ${fileErrorReason(err)}`, { cause: err });
  }
}

/** Read a whole image file; throws InputError for a missing, unreadable, empty or non-regular file. */
export async function readImageFile(path: string, source: string = path): Promise<Uint8Array> {
  const { handle } = await openRegularFile(path, source);
  try {
    const bytes = await handle.readFile();
    // openRegularFile refused size 0, but a file being rewritten can be truncated since.
    if (bytes.length === 0) throw new InputError(`${source}: empty file`);
    return bytes;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${source}: ${fileErrorReason(err)}`, { cause: err });
  } finally {
    await handle.close();
  }
}

/**
 * Check that `path` is a non-empty regular file without reading it all, and return its
 * first `headBytes` bytes (enough to sniff a format). Throws the same errors as
 * {@link readImageFile}.
 */
export async function checkImageFile(path: string, source: string = path, headBytes = 32): Promise<Uint8Array> {
  const { handle, size } = await openRegularFile(path, source);
  try {
    const head = new Uint8Array(Math.min(headBytes, size));
    await handle.read(head, 0, head.length, 0);
    return head;
  } catch (err) {
    throw new InputError(`${source}: ${fileErrorReason(err)}`, { cause: err });
  } finally {
    await handle.close();
  }
}
