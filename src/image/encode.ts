import sharp from 'sharp';
import type { BinaryMask } from '../masks/types.js';
import type { RawImage, RgbImage } from './types.js';

/**
 * PNG encoding of in-memory pixels, for mask files, overlays, label maps and fixtures.
 *
 * Output is stripped of metadata and never palette-quantised, so pixel values are exactly
 * the ones given (a palette PNG would go through libimagequant).
 */

export interface EncodePngOptions {
  /**
   * zlib level 0..9. Default 6 (sharp's): level 9 makes files a few percent smaller and
   * takes several times longer on a 12 MP overlay. The fixtures use 9.
   */
  readonly compressionLevel?: number;
}

/**
 * Encode interleaved pixels (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA channels; 16-bit only for
 * one channel) as PNG.
 */
export async function encodePng(image: RgbImage | RawImage, options: EncodePngOptions = {}): Promise<Buffer> {
  const channels = 'channels' in image ? image.channels : 3;
  const sixteen = image.data instanceof Uint16Array;
  if (sixteen && channels !== 1) throw new RangeError('16-bit PNG output is for one-channel images (label maps) only');
  if (image.data.length !== image.width * image.height * channels) {
    throw new RangeError(
      `pixel buffer holds ${image.data.length} samples, expected ${image.width}x${image.height}x${channels}`,
    );
  }
  // sharp takes the sample depth from the typed array (Uint16Array → ushort).
  let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels } });
  // One or two channels are grey: say so, or sharp would write RGB (and drop 16-bit depth).
  if (channels <= 2) pipeline = pipeline.toColourspace(sixteen ? 'grey16' : 'b-w');
  return pipeline.png({ compressionLevel: options.compressionLevel ?? 6, palette: false }).toBuffer();
}

/**
 * Encode a binary mask as an 8-bit grey PNG: 255 where the mask is set (any non-zero
 * byte), 0 elsewhere. 0/255 rather than 0/1 so the file is visible in any viewer.
 */
export async function encodeMaskPng(mask: BinaryMask, options: EncodePngOptions = {}): Promise<Buffer> {
  const grey = new Uint8Array(mask.width * mask.height);
  for (let i = 0; i < grey.length; i++) grey[i] = mask.data[i] ? 255 : 0;
  return encodePng({ width: mask.width, height: mask.height, channels: 1, data: grey }, options);
}

/**
 * Decode a mask PNG written by {@link encodeMaskPng} (or any grey or colour image): a pixel
 * is set when its first channel is >= 128. Accepts a path or the file's bytes.
 */
export async function decodeMaskPng(input: string | Uint8Array): Promise<BinaryMask> {
  const { data, info } = await sharp(input).extractChannel(0).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const mask = new Uint8Array(info.width * info.height);
  for (let i = 0; i < mask.length; i++) mask[i] = data[i] >= 128 ? 1 : 0;
  return { width: info.width, height: info.height, data: mask };
}
