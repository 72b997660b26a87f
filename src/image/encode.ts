import sharp from 'sharp';
import type { BinaryMask } from '../masks/types.js';
import type { RawImage, RgbImage } from './types.js';

/**
 * PNG encoding of in-memory pixels, for mask files, overlays and fixtures.
 *
 * Output is stripped of metadata and uses zlib level 9 without palette quantisation, so
 * pixel values are exactly the ones given (a palette PNG would go through libimagequant).
 */

const PNG_OPTIONS = { compressionLevel: 9, palette: false } as const;

/** Encode 8-bit interleaved pixels (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA channels) as PNG. */
export async function encodePng(image: RgbImage | RawImage): Promise<Buffer> {
  const channels = 'channels' in image ? image.channels : 3;
  if (image.data.length !== image.width * image.height * channels) {
    throw new RangeError(
      `pixel buffer holds ${image.data.length} bytes, expected ${image.width}x${image.height}x${channels}`,
    );
  }
  let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels } });
  // One or two channels are grey: say so, or sharp would write them out as RGB.
  if (channels <= 2) pipeline = pipeline.toColourspace('b-w');
  return pipeline.png(PNG_OPTIONS).toBuffer();
}

/**
 * Encode a binary mask as an 8-bit grey PNG: 255 where the mask is set (any non-zero
 * byte), 0 elsewhere. 0/255 rather than 0/1 so the file is visible in any viewer.
 */
export async function encodeMaskPng(mask: BinaryMask): Promise<Buffer> {
  const grey = new Uint8Array(mask.width * mask.height);
  for (let i = 0; i < grey.length; i++) grey[i] = mask.data[i] ? 255 : 0;
  return encodePng({ width: mask.width, height: mask.height, channels: 1, data: grey });
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
