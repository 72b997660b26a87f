import sharp from 'sharp';
import { InputError } from '../errors.js';
import { formatLabel } from './format.js';
import { checkPixelLimit, resolveMaxPixels } from './limits.js';
import { infoFromMetadata, readHeader, type ImageInfo, type ImageReadOptions } from './probe.js';
import { BUFFER_SOURCE, readImageFile } from './source.js';
import type { LoadedImage } from './types.js';

/** Options for {@link loadImage}: the pixel limit and the name used in messages. */
export type LoadImageOptions = ImageReadOptions;

/**
 * Colour transparent pixels are composited onto. White is what image viewers and browsers
 * show behind a transparent PNG, so the model sees what the person sees.
 */
export const ALPHA_BACKGROUND = { r: 255, g: 255, b: 255 } as const;

/**
 * How strict libvips is with damaged pixel data. `error` rejects truncated files and decode
 * errors (with `none`, a truncated JPEG or PNG decodes "successfully" with grey or black
 * fill) but, unlike sharp's default `warning`, tolerates warnings such as "extraneous bytes
 * before marker", which many camera JPEGs trigger and every viewer ignores.
 */
const FAIL_ON = 'error' as const;

function decodeReason(info: ImageInfo, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(message)) return 'over the pixel limit (--max-pixels)';
  if (info.format === 'heic') return 'HEIC (HEVC) images cannot be decoded by this build of sharp; convert it to JPEG or PNG';
  return `truncated or corrupt ${formatLabel(info.format)} data`;
}

/**
 * Load an image as the pipeline wants it: 8-bit sRGB RGB, interleaved, in display
 * orientation.
 *
 * - Any format sharp reads: JPEG, PNG, WebP, TIFF, GIF (first frame), AVIF, SVG; HEIC only
 *   when sharp's libvips was built with HEVC. Multi-page files give their first page.
 * - The EXIF orientation is applied first, so coordinates are in the image as displayed.
 * - Alpha is composited onto white ({@link ALPHA_BACKGROUND}).
 * - Grayscale, 16-bit, CMYK and images with an embedded ICC profile are converted to 8-bit
 *   sRGB (through the profile when there is one).
 * - The pixel limit is checked on the header's dimensions before any pixel is decoded.
 *
 * `input` is a path or the file's bytes. Every failure is an InputError whose one-line
 * message names the file and the reason: `a.jpg: no such file`, `a.jpg: empty file`,
 * `a.txt: not an image (unrecognised format)`, `a.jpg: truncated or corrupt JPEG data`,
 * `a.png: 20000x20000 = 400.0 MP is over the pixel limit of 100 MP (--max-pixels)`.
 */
export async function loadImage(input: string | Uint8Array, options: LoadImageOptions = {}): Promise<LoadedImage> {
  const source = options.source ?? (typeof input === 'string' ? input : BUFFER_SOURCE);
  const maxPixels = resolveMaxPixels(options.maxPixels);
  const bytes = typeof input === 'string' ? await readImageFile(input, source) : input;
  if (bytes.length === 0) throw new InputError(`${source}: empty file`);

  const info = infoFromMetadata(source, await readHeader(bytes, source, bytes.subarray(0, 32)));
  checkPixelLimit(source, info.width, info.height, maxPixels);

  try {
    const { data, info: out } = await sharp(bytes, {
      failOn: FAIL_ON,
      // Belt and braces: libvips enforces the same limit if a decoder disagrees with the header.
      limitInputPixels: Number.isFinite(maxPixels) ? maxPixels : false,
      autoOrient: true,
    })
      .flatten({ background: ALPHA_BACKGROUND })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (out.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${out.channels}`);
    return {
      source,
      width: out.width,
      height: out.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    };
  } catch (err) {
    throw new InputError(`${source}: ${decodeReason(info, err)}`, { cause: err });
  }
}
