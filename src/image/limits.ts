import { InputError, UsageError } from '../util/errors.js';

/**
 * Default pixel limit: 100 megapixels. Large enough for any camera photo (a 61 MP full-frame
 * sensor fits), small enough that one decoded image (100 MP x 3 bytes = 300 MB) cannot take
 * the machine down. The models never see more than ~1 MP anyway; a bigger input only costs
 * memory and decode time.
 */
export const DEFAULT_MAX_PIXELS = 100_000_000;

const SUFFIXES: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9 };

/** What {@link parseMaxPixels} accepts, in words. */
export const MAX_PIXELS_RANGE = 'a pixel count >= 1 such as 100M or 5e7, or unlimited';

/**
 * Parse a pixel limit as written on the command line: a plain number (`50000000`, `5e7`),
 * a number with a k/M/G suffix and an optional `P`/`MP`-style tail (`50M`, `50MP`, `1.5G`),
 * or `unlimited`. Throws a UsageError naming the flag for anything else.
 */
export function parseMaxPixels(text: string, flag = '--max-pixels'): number {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === 'unlimited') return Infinity;
  const match = /^(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmg]?)p?x?$/.exec(trimmed);
  const value = match ? Number(match[1]) * SUFFIXES[match[2]] : NaN;
  if (!Number.isFinite(value) || value < 1) throw new UsageError(`${flag} ${JSON.stringify(text)}: expected ${MAX_PIXELS_RANGE}`);
  return Math.floor(value);
}

/**
 * Validate a `maxPixels` option: undefined means {@link DEFAULT_MAX_PIXELS}, `Infinity` turns
 * the guard off. Anything else must be a number of pixels >= 1.
 */
export function resolveMaxPixels(maxPixels: number | undefined): number {
  if (maxPixels === undefined) return DEFAULT_MAX_PIXELS;
  if (maxPixels === Infinity) return Infinity;
  if (!Number.isFinite(maxPixels) || maxPixels < 1) {
    throw new UsageError(`maxPixels must be a number of pixels >= 1 or Infinity, got ${maxPixels}`);
  }
  return Math.floor(maxPixels);
}

/**
 * Megapixels for messages: one decimal, but never rounded onto or under the limit it is
 * compared with (100.04 MP over a 100 MP limit prints as 100.04 MP, not 100.0 MP).
 */
export function formatMegapixels(pixels: number, comparedWith?: number): string {
  const mp = pixels / 1e6;
  for (let digits = 1; digits <= 6; digits++) {
    const text = mp.toFixed(digits);
    if (comparedWith === undefined || Math.round(Number(text) * 1e6) > comparedWith) return `${text} MP`;
  }
  return `${pixels} pixels`;
}

/** A limit as people write it: `100 MP`, `2.5 MP`. */
function formatLimit(limit: number): string {
  return `${Number((limit / 1e6).toPrecision(6))} MP`;
}

/**
 * Throw an InputError naming `source` when a `width` x `height` image is over `maxPixels`.
 * Called on header dimensions, before any pixel is decoded: that is what makes the limit a
 * guard against decompression bombs (a few-kB file that claims to be gigapixels).
 */
export function checkPixelLimit(source: string, width: number, height: number, maxPixels: number): void {
  const pixels = width * height;
  if (pixels <= maxPixels) return;
  // Below a megapixel, megapixels with one decimal say nothing: count pixels instead.
  const [size, limit] =
    maxPixels < 1e6 ? [`${pixels} pixels`, `${maxPixels} pixels`] : [formatMegapixels(pixels, maxPixels), formatLimit(maxPixels)];
  throw new InputError(`${source}: ${width}x${height} = ${size} is over the pixel limit of ${limit} (--max-pixels)`);
}
