import type { Rle } from './rle.js';
import { rleBoundsInclusive } from './rle.js';
import type { BinaryMask } from './types.js';

/**
 * A window of a mask placed at (x, y) in the full image: `data` is `width * height` bytes,
 * row-major, 1 foreground and 0 background.
 *
 * Writers work on the mask's bounding box rather than the whole image so that a small
 * object in a 12 MP photo costs a few kilobytes, not 12 MB, and only one mask is ever
 * decoded at a time.
 */
export interface MaskCrop {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * Call `fn(x, y, length)` for every vertical stretch of foreground in `rle`: column `x`,
 * rows `y .. y + length - 1`. Column-major runs may wrap from the bottom of one column to
 * the top of the next; they are split at column boundaries so callers can paint straight
 * from the runs without decoding the mask.
 */
export function forEachForegroundSpan(rle: Rle, fn: (x: number, y: number, length: number) => void): void {
  const h = rle.size[0];
  const counts = rle.counts;
  let pos = 0;
  for (let i = 0; i < counts.length; i++) {
    const run = counts[i];
    if (i % 2 === 1 && run > 0) {
      let start = pos;
      const end = pos + run;
      while (start < end) {
        const x = (start / h) | 0;
        const y = start - x * h;
        const length = Math.min(end - start, h - y);
        fn(x, y, length);
        start += length;
      }
    }
    pos += run;
  }
}

/**
 * Decode `rle` into a crop covering its foreground bounding box (or the given inclusive
 * bounds [x0, y0, x1, y1]). `undefined` for an empty mask.
 */
export function rleToCrop(
  rle: Rle,
  bounds: readonly [number, number, number, number] | undefined = rleBoundsInclusive(rle),
): MaskCrop | undefined {
  if (!bounds) return undefined;
  const [x0, y0, x1, y1] = bounds;
  const width = x1 - x0 + 1;
  const height = y1 - y0 + 1;
  const data = new Uint8Array(width * height);
  forEachForegroundSpan(rle, (x, y, length) => {
    // Spans outside caller-supplied bounds are clipped rather than trusted.
    const cx = x - x0;
    if (cx < 0 || cx >= width) return;
    const ya = Math.max(y, y0);
    const yb = Math.min(y + length, y1 + 1);
    for (let yy = ya; yy < yb; yy++) data[(yy - y0) * width + cx] = 1;
  });
  return { x: x0, y: y0, width, height, data };
}

/**
 * Tight crop of a full-size binary mask (non-zero = foreground); `undefined` when the mask
 * is empty. The data is copied, so the crop stays valid if the mask buffer is reused.
 */
export function maskToCrop(mask: BinaryMask): MaskCrop | undefined {
  const { width: w, height: h, data } = mask;
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      if (data[row + x] !== 0) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
  }
  if (x1 < 0) return undefined;
  const cw = x1 - x0 + 1;
  const ch = y1 - y0 + 1;
  const out = new Uint8Array(cw * ch);
  for (let y = 0; y < ch; y++) {
    const src = (y + y0) * w + x0;
    for (let x = 0; x < cw; x++) out[y * cw + x] = data[src + x] !== 0 ? 1 : 0;
  }
  return { x: x0, y: y0, width: cw, height: ch, data: out };
}
