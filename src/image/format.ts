/**
 * Image format names for messages, and a magic-byte sniffer for when sharp cannot say.
 *
 * sharp names formats by its decoder (`heif` covers both AVIF and HEIC); people name them
 * by what the file is. When a header is too damaged for sharp to identify, the first bytes
 * still tell a truncated PNG from a text file, which is the difference between
 * "truncated or corrupt PNG data" and "not an image".
 */

/** Lower-case format name as samlite reports it: sharp's decoder name, with `heif` split into `avif` / `heic`. */
export type ImageFormatName = string;

/** sharp's metadata fields this module reads. */
interface FormatFields {
  readonly format?: string;
  readonly compression?: string;
}

/** The format samlite reports for sharp metadata: `avif` for AV1 HEIF, `heic` for HEVC HEIF. */
export function formatName(metadata: FormatFields): ImageFormatName {
  const format = metadata.format ?? 'unknown';
  if (format === 'heif') return metadata.compression === 'hevc' ? 'heic' : 'avif';
  return format;
}

const LABELS: Record<string, string> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  gif: 'GIF',
  tiff: 'TIFF',
  avif: 'AVIF',
  heic: 'HEIC',
  heif: 'HEIF',
  svg: 'SVG',
  jp2: 'JPEG 2000',
  jxl: 'JPEG XL',
};

/** How a format is written in prose: `JPEG`, `WebP`, `AVIF`. */
export function formatLabel(name: ImageFormatName): string {
  return LABELS[name] ?? name.toUpperCase();
}

const startsWith = (bytes: Uint8Array, prefix: readonly number[], at = 0): boolean =>
  bytes.length >= at + prefix.length && prefix.every((b, i) => bytes[at + i] === b);

const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

/**
 * Guess the format from the first bytes, or undefined. Only used to word errors: decoding
 * is always sharp's job.
 */
export function sniffFormat(bytes: Uint8Array): ImageFormatName | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'gif';
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (startsWith(bytes, ascii('ftyp'), 4)) {
    const brand = String.fromCharCode(...bytes.subarray(8, 12));
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (/^(heic|heix|hevc|hevx|mif1|msf1)$/.test(brand)) return 'heif';
  }
  return undefined;
}
