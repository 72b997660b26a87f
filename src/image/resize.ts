import type { RgbImage } from './types.js';

/**
 * Image resampling as the models' reference code does it.
 *
 * SAM's `ResizeLongestSide` (also used by MobileSAM) resizes with
 * `torchvision.transforms.functional.resize` on a PIL image, i.e. Pillow's
 * `Image.resize(size, BILINEAR)`: a separable triangle filter whose support grows with the
 * reduction factor (so downscaling is antialiased), pixel centres at i + 0.5, a horizontal
 * pass rounded to 8 bits, then a vertical pass, in 22-bit fixed point. This module
 * reimplements that algorithm so the encoders see the pixels they were trained on; on the
 * same input it gives Pillow's output.
 *
 * Why not sharp: libvips' `linear` kernel matches Pillow to within a few levels when
 * shrinking, but when enlarging (a 800x534 photo going to 1024 wide) it samples half an
 * output pixel off Pillow's grid, a systematic shift of the whole image.
 */

/** Fixed-point precision of the filter weights, as in Pillow (32 - 8 bits - 2 guard bits). */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** For each output index: the first input index used and its integer weights. */
interface Taps {
  readonly start: Int32Array;
  readonly count: Int32Array;
  /** `size` weights per output index, `count` of them used. */
  readonly weights: Int32Array;
  readonly size: number;
}

/** Per output index: the first input index used and its weights (`size` slots each, `count` used). */
export interface TriangleWeights {
  readonly start: Int32Array;
  readonly count: Int32Array;
  /** `size` weights per output index, normalised to sum to 1. */
  readonly weights: Float64Array;
  readonly size: number;
}

/**
 * Triangle (bilinear) weights for resampling `inSize` samples to `outSize`, Pillow's
 * BILINEAR filter, which torch's `interpolate(mode="bilinear", antialias=True)` follows in
 * floating point: the support grows with the reduction factor, so shrinking is antialiased.
 */
export function triangleWeights(inSize: number, outSize: number): TriangleWeights {
  const scale = inSize / outSize;
  // Widening the filter by the reduction factor is what makes shrinking antialiased.
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const size = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * size);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    // Math.trunc, not floor: Pillow casts to int, and center - support can be negative.
    const first = Math.max(0, Math.trunc(center - support + 0.5));
    const last = Math.min(inSize, Math.trunc(center + support + 0.5));
    const n = last - first;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const t = Math.abs((first + i - center + 0.5) / filterScale);
      const w = t < 1 ? 1 - t : 0;
      weights[o * size + i] = w;
      total += w;
    }
    if (total !== 0) for (let i = 0; i < n; i++) weights[o * size + i] /= total;
    start[o] = first;
    count[o] = n;
  }
  return { start, count, weights, size };
}

/** Triangle weights in Pillow's fixed point, for resampling `inSize` samples to `outSize`. */
function triangleTaps(inSize: number, outSize: number): Taps {
  const { start, count, weights: real, size } = triangleWeights(inSize, outSize);
  const weights = new Int32Array(real.length);
  for (let i = 0; i < real.length; i++) {
    const k = real[i];
    weights[i] = Math.trunc(k < 0 ? k * ONE - 0.5 : k * ONE + 0.5);
  }
  return { start, count, weights, size };
}

/**
 * Fixed-point accumulator back to a byte: drop the fraction (the +0.5 was added up front),
 * clamp. Accumulators stay below 2^31 (255 x 2^22 plus rounding), so the shift is exact.
 */
function toByte(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** One horizontal pass over `rows` rows starting at `firstRow`. */
function resampleRows(
  src: Uint8Array,
  srcWidth: number,
  channels: number,
  firstRow: number,
  rows: number,
  outWidth: number,
  taps: Taps,
): Uint8Array {
  const out = new Uint8Array(outWidth * rows * channels);
  for (let y = 0; y < rows; y++) {
    const rowIn = (firstRow + y) * srcWidth * channels;
    const rowOut = y * outWidth * channels;
    for (let x = 0; x < outWidth; x++) {
      const n = taps.count[x];
      const k0 = x * taps.size;
      const base = rowIn + taps.start[x] * channels;
      if (channels === 3) {
        // RGB is the hot path (every photo): one walk over the taps for all three channels.
        let r = HALF;
        let g = HALF;
        let b = HALF;
        for (let i = 0, p = base; i < n; i++, p += 3) {
          const k = taps.weights[k0 + i];
          r += src[p] * k;
          g += src[p + 1] * k;
          b += src[p + 2] * k;
        }
        const o = rowOut + x * 3;
        out[o] = toByte(r);
        out[o + 1] = toByte(g);
        out[o + 2] = toByte(b);
        continue;
      }
      for (let c = 0; c < channels; c++) {
        let acc = HALF;
        for (let i = 0; i < n; i++) acc += src[base + i * channels + c] * taps.weights[k0 + i];
        out[rowOut + x * channels + c] = toByte(acc);
      }
    }
  }
  return out;
}

/** One vertical pass; `taps.start` is relative to the first row held in `src`. */
function resampleColumns(
  src: Uint8Array,
  width: number,
  channels: number,
  outHeight: number,
  taps: Taps,
  rowOffset: number,
): Uint8Array {
  const stride = width * channels;
  const out = new Uint8Array(stride * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const n = taps.count[y];
    const k0 = y * taps.size;
    const base = (taps.start[y] - rowOffset) * stride;
    const rowOut = y * stride;
    for (let j = 0; j < stride; j++) {
      let acc = HALF;
      for (let i = 0; i < n; i++) acc += src[base + i * stride + j] * taps.weights[k0 + i];
      out[rowOut + j] = toByte(acc);
    }
  }
  return out;
}

/**
 * Resize interleaved 8-bit pixels with Pillow's BILINEAR filter (see the module comment).
 * `channels` is the number of interleaved channels (1 to 4); alpha is not premultiplied.
 */
export function resizePixels(
  data: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  if (!Number.isInteger(outWidth) || !Number.isInteger(outHeight) || outWidth < 1 || outHeight < 1) {
    throw new RangeError(`resize target must be whole pixels >= 1, got ${outWidth}x${outHeight}`);
  }
  if (data.length !== width * height * channels) {
    throw new RangeError(`pixel buffer holds ${data.length} bytes, expected ${width}x${height}x${channels}`);
  }
  if (outWidth === width && outHeight === height) return data.slice();
  const vertical = triangleTaps(height, outHeight);
  // Like Pillow, only the source rows the vertical pass reads go through the horizontal pass.
  const firstRow = vertical.start[0];
  const lastRow = vertical.start[outHeight - 1] + vertical.count[outHeight - 1];
  let rows = data;
  let rowOffset = 0;
  if (outWidth !== width) {
    rows = resampleRows(data, width, channels, firstRow, lastRow - firstRow, outWidth, triangleTaps(width, outWidth));
    rowOffset = firstRow;
  }
  if (outHeight === height) return rows;
  return resampleColumns(rows, outWidth, channels, outHeight, vertical, rowOffset);
}

/**
 * Resize an RGB image to exactly `width` x `height` (aspect ratio is the caller's business)
 * with Pillow's BILINEAR resampling, antialiased when shrinking, as SAM's preprocessing
 * does. Synchronous work on the calling thread: about 40 ms for 1800x1200 to 1024x1024 and
 * 0.2 s for a 24 MP photo on one core. Returns a new image; the input is not modified.
 */
export async function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  return { width, height, data: resizePixels(image.data, image.width, image.height, 3, width, height) };
}
