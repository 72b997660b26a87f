import { encodePng } from '../image/encode.js';
import type { RawImage } from '../image/types.js';
import { writeOutputFile, type WriteOptions } from './files.js';

/** Raw pixels a writer hands to {@link writePng}. */
export type RawPixels = RawImage;

/** Encode `pixels` as PNG and write it atomically to `path` (see writeOutputFile). */
export async function writePng(path: string, pixels: RawPixels, options: WriteOptions = {}): Promise<void> {
  await writeOutputFile(path, await encodePng(pixels), options);
}
