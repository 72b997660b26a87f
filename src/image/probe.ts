import sharp, { type Metadata } from 'sharp';
import { InputError } from '../util/errors.js';
import { formatLabel, formatName, sniffFormat, type ImageFormatName } from './format.js';
import { checkPixelLimit, resolveMaxPixels } from './limits.js';
import { BUFFER_SOURCE, checkImageFile } from './source.js';

/** What an image header says, in display orientation, without decoding any pixel. */
export interface ImageInfo {
  /** Path or label used in messages. */
  readonly source: string;
  /** `jpeg`, `png`, `webp`, `gif`, `tiff`, `avif`, `heic`, `svg`, ... */
  readonly format: ImageFormatName;
  /** Width as displayed, i.e. after the EXIF orientation is applied. */
  readonly width: number;
  /** Height as displayed, i.e. after the EXIF orientation is applied. */
  readonly height: number;
  /** EXIF orientation tag, 1 (none) to 8. Values 5..8 swap width and height. */
  readonly orientation: number;
  readonly hasAlpha: boolean;
  /** Frames or pages in the file; only the first is ever loaded. */
  readonly pages: number;
}

/** Options shared by {@link probeImage} and loadImage. */
export interface ImageReadOptions {
  /**
   * Refuse images with more pixels than this (width x height, from the header). Default
   * DEFAULT_MAX_PIXELS (100 MP); `Infinity` turns the guard off.
   */
  readonly maxPixels?: number;
  /** Name used in messages; defaults to the path, or `<buffer>` for bytes. */
  readonly source?: string;
}

/** One-line reason for a header sharp could not parse. */
function headerReason(err: unknown, head: Uint8Array): string {
  const message = err instanceof Error ? err.message : String(err);
  const sniffed = sniffFormat(head);
  if (sniffed !== undefined) return `truncated or corrupt ${formatLabel(sniffed)} data`;
  if (/unsupported image format/i.test(message)) return 'not an image (unrecognised format)';
  return `cannot read image header (${message.split('\n')[0]})`;
}

/**
 * Read an image header with sharp. `input` is a path or the file's bytes; `head` is the
 * file's first bytes, used to word the error when the header is damaged.
 */
export async function readHeader(input: string | Uint8Array, source: string, head: Uint8Array): Promise<Metadata> {
  try {
    // limitInputPixels off: this call only parses the header, and the caller applies its own
    // limit so the message can name the dimensions.
    return await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new InputError(`${source}: ${headerReason(err, head)}`, { cause: err });
  }
}

/** The ImageInfo for a header sharp has parsed. */
export function infoFromMetadata(source: string, metadata: Metadata): ImageInfo {
  return {
    source,
    format: formatName(metadata),
    width: metadata.autoOrient.width,
    height: metadata.autoOrient.height,
    orientation: metadata.orientation ?? 1,
    hasAlpha: metadata.hasAlpha,
    pages: metadata.pages ?? 1,
  };
}

/**
 * Read an image's header only: format and displayed size, cheaply (no pixel is decoded),
 * so prompts can be checked against the image before a model is loaded.
 *
 * Throws the same one-line InputErrors as loadImage for a missing, empty or unrecognised
 * file and for one over the pixel limit. A file whose pixel data is truncated passes here
 * and fails in loadImage: only decoding can tell.
 */
export async function probeImage(input: string | Uint8Array, options: ImageReadOptions = {}): Promise<ImageInfo> {
  const source = options.source ?? (typeof input === 'string' ? input : BUFFER_SOURCE);
  const maxPixels = resolveMaxPixels(options.maxPixels);
  let head: Uint8Array;
  if (typeof input === 'string') {
    head = await checkImageFile(input, source);
  } else {
    if (input.length === 0) throw new InputError(`${source}: empty file`);
    head = input.subarray(0, 32);
  }
  const info = infoFromMetadata(source, await readHeader(input, source, head));
  checkPixelLimit(source, info.width, info.height, maxPixels);
  return info;
}
