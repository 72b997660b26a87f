import sharp from 'sharp';
import { InputError } from '../util/errors.js';
import { formatLabel } from './format.js';
import { checkPixelLimit, resolveMaxPixels } from './limits.js';
import { infoFromMetadata, readHeader, type ImageInfo, type ImageReadOptions } from './probe.js';
import { BUFFER_SOURCE, readImageFile } from './source.js';
import type { LoadedImage } from './types.js';

/** Options for {@link loadImage}: the pixel limit, the name used in messages, and a call when the decode runs. */
export interface LoadImageOptions extends ImageReadOptions {
  /**
   * Called once the pixel decode is running on sharp's threads (the file read and its header
   * checked), not called when the image fails before. onnxruntime loads a model on the
   * calling thread and blocks it: started now, the load runs beside the decode, where
   * started earlier it would hold up the file read and header steps that must come first.
   */
  readonly onDecodeStart?: () => void;
}

/**
 * Colour transparent pixels are composited onto. White is what image viewers and browsers
 * show behind a transparent PNG, so the model sees what the person sees.
 */
export const ALPHA_BACKGROUND = { r: 255, g: 255, b: 255 } as const;

/**
 * How strict libvips is with damaged pixel data. `error` rejects truncated files and decode
 * errors (with `none`, a truncated JPEG or PNG decodes "successfully" with grey or black
 * fill). JPEGs are held to `warning`: libjpeg only *warns* about a file cut short and closed
 * with an end marker, or about garbage inside the scan data ("premature end of data
 * segment", "bad Huffman code"), and fills the rest with grey, which would become part of
 * the masks. Other formats stay at `error`: libpng warns about harmless things (an
 * outdated sRGB profile) that every viewer ignores.
 */
const FAIL_ON = 'error' as const;
const FAIL_ON_JPEG = 'warning' as const;

/**
 * The one libjpeg warning that `warning` strictness must not refuse: "N extraneous bytes
 * before marker", padding between segments that many camera JPEGs carry and every viewer
 * ignores. The pixel data is intact.
 */
const HARMLESS_JPEG_WARNING = /extraneous bytes before marker/i;

/** True when every libjpeg complaint in `err` is {@link HARMLESS_JPEG_WARNING}. */
function onlyHarmlessJpegWarnings(err: unknown): boolean {
  const lines = (err instanceof Error ? err.message : String(err)).split('\n').filter((l) => /VipsJpeg/i.test(l));
  return lines.length > 0 && lines.every((l) => HARMLESS_JPEG_WARNING.test(l));
}

/**
 * `bytes` without the stray bytes between a marker segment's end and the next marker, or
 * undefined when there are none. libjpeg skips such bytes with the warning
 * {@link HARMLESS_JPEG_WARNING}; with them gone, a decode at `warning` strictness sees the
 * warnings that came after, which libvips would otherwise never report (it stops at the
 * first). Scan data is stepped over whole (stuffed 0xFF00 bytes and restart markers are part
 * of it); a malformed segment stops the walk, leaving the decoder to refuse the file.
 */
function withoutJpegPadding(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  const kept: Uint8Array[] = [];
  let from = 0; // start of the bytes not yet copied to `kept`
  let pos = 2; // where the next marker should start
  while (pos < bytes.length) {
    const marker = bytes.indexOf(0xff, pos);
    if (marker < 0) break;
    if (marker > pos) {
      kept.push(bytes.subarray(from, pos));
      from = marker;
    }
    let code = marker + 1;
    while (bytes[code] === 0xff) code++; // fill bytes before a marker code are allowed
    const type = bytes[code];
    if (type === undefined || type === 0xd9) break; // end of image: what follows is not read
    pos = code + 1;
    // Markers without a length: TEM, SOI, RST0-7.
    if (type === 0x01 || type === 0xd8 || (type >= 0xd0 && type <= 0xd7)) continue;
    if (pos + 2 > bytes.length) break;
    const length = (bytes[pos] << 8) | bytes[pos + 1];
    if (length < 2) break;
    pos += length;
    if (type !== 0xda) continue;
    // Start of scan: entropy-coded data runs to the first marker other than 0xFF00 or RSTn.
    for (; pos < bytes.length; pos++) {
      if (bytes[pos] !== 0xff) continue;
      let next = pos + 1;
      while (bytes[next] === 0xff) next++;
      if (bytes[next] !== 0x00 && !(bytes[next] >= 0xd0 && bytes[next] <= 0xd7)) break;
      pos = next;
    }
  }
  if (kept.length === 0) return undefined;
  kept.push(bytes.subarray(from));
  return Buffer.concat(kept);
}

/** Decode `bytes` to interleaved 8-bit sRGB, alpha flattened, orientation applied. */
function decodeRgb(bytes: Uint8Array, maxPixels: number, failOn: 'warning' | 'error') {
  return sharp(bytes, {
    failOn,
    // Belt and braces: libvips enforces the same limit if a decoder disagrees with the header.
    limitInputPixels: Number.isFinite(maxPixels) ? maxPixels : false,
    autoOrient: true,
  })
    .flatten({ background: ALPHA_BACKGROUND })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
}

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
    const jpeg = info.format === 'jpeg';
    const decoding = decodeRgb(bytes, maxPixels, jpeg ? FAIL_ON_JPEG : FAIL_ON).catch((err: unknown) => {
      // Padding between segments: decode again without it, as strictly, so that a warning
      // after the padding (a cut, bad scan data) is still refused.
      const cleaned = jpeg && onlyHarmlessJpegWarnings(err) ? withoutJpegPadding(bytes) : undefined;
      if (cleaned) return decodeRgb(cleaned, maxPixels, FAIL_ON_JPEG);
      throw err;
    });
    options.onDecodeStart?.();
    const { data, info: out } = await decoding;
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
