import sharp from 'sharp';
import { writeOutputFile, type WriteOptions } from './files.js';

/** Raw pixels to encode: interleaved channels, row-major. */
export interface RawPixels {
  readonly width: number;
  readonly height: number;
  /** 1 grey, 3 RGB, 4 RGBA. */
  readonly channels: 1 | 3 | 4;
  /** 8-bit samples, or 16-bit (grey only) for label maps with more than 255 labels. */
  readonly data: Uint8Array | Uint16Array;
}

/**
 * Encode raw pixels as PNG with sharp. The colour space is forced to match the channel
 * count: without it sharp widens one-channel input to RGB, and 16-bit grey would lose its
 * depth.
 */
export async function encodePng(pixels: RawPixels): Promise<Buffer> {
  const { width, height, channels, data } = pixels;
  const sixteen = data instanceof Uint16Array;
  if (sixteen && channels !== 1) throw new RangeError('16-bit PNG output is for one-channel label maps only');
  if (data.length !== width * height * channels) {
    throw new RangeError(`pixel buffer has ${data.length} samples, expected ${width}x${height}x${channels}`);
  }
  // sharp picks the raw sample depth from the typed array's type (Uint16Array → ushort).
  let image = sharp(data, { raw: { width, height, channels } });
  if (channels === 1) image = image.toColourspace(sixteen ? 'grey16' : 'b-w');
  return image.png().toBuffer();
}

/** Encode `pixels` as PNG and write it atomically to `path` (see writeOutputFile). */
export async function writePng(path: string, pixels: RawPixels, options: WriteOptions = {}): Promise<void> {
  await writeOutputFile(path, await encodePng(pixels), options);
}
