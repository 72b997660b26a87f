/**
 * OpenCV's `cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)` of an 8-bit
 * image, bit for bit (checked against opencv-python 5.0.0 by the FastSAM conformance kit):
 * ultralytics' LetterBox resizes with it, so FastSAM's input tensor is only identical to
 * ultralytics' when the resize repeats OpenCV's fixed-point arithmetic, not a float bilinear
 * (which differs by one level on several per cent of values).
 *
 * What OpenCV does, and this module repeats:
 * - Per output index d of an axis, the source position f = (float)((d + 0.5) * scale - 0.5)
 *   with scale = 1 / (dst / src) in double, rounded to float32; s = floor(f), and the two
 *   weights (1 - f', f') (f' = f - s, float32) become 11-bit fixed point: round-half-even of
 *   weight * 2048.
 * - Columns clamp at the borders (s < 0 or s >= w - 1 reads one column with weight 2048).
 *   Rows do not: a row position above or below the image keeps its weights and reads the
 *   border row twice, which rounds differently from weight 2048 (this is visible).
 * - Horizontal pass in integers: row[d] = p[s] * a0 + p[s + 1] * a1.
 * - Vertical pass as OpenCV's SIMD kernel computes it for every column:
 *   ((r0 >> 4) * b0 >> 16) + ((r1 >> 4) * b1 >> 16) + 2 >> 2, saturated to 0..255.
 * - An exact 2:1 reduction on both axes is OpenCV's INTER_AREA fast path instead: the mean of
 *   each 2x2 block, (a + b + c + d + 2) >> 2.
 */
import type { RgbImage } from './types.js';

/** Fixed-point weight scale (OpenCV's INTER_RESIZE_COEF_SCALE). */
const ONE = 2048;

/** One axis of the resize: per output index the two source indices and their 11-bit weights. */
interface FixedAxis {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly w0: Int32Array;
  readonly w1: Int32Array;
}

/** Round half to even, as cvRound (lrint) does for the fixed-point weights. */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The axis from `src` samples to `dst`; `clampBorder` is OpenCV's column rule (weight 2048 on
 * the border sample), false its row rule (weights kept, indices clamped).
 */
function fixedAxis(dst: number, src: number, clampBorder: boolean): FixedAxis {
  const scale = 1 / (dst / src);
  const i0 = new Int32Array(dst);
  const i1 = new Int32Array(dst);
  const w0 = new Int32Array(dst);
  const w1 = new Int32Array(dst);
  for (let d = 0; d < dst; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (clampBorder) {
      if (s < 0) {
        f = 0;
        s = 0;
      }
      if (s >= src - 1) {
        f = 0;
        s = src - 1;
      }
    }
    w0[d] = rint(Math.fround(1 - f) * ONE);
    w1[d] = rint(f * ONE);
    i0[d] = Math.min(Math.max(s, 0), src - 1);
    i1[d] = Math.min(Math.max(s + 1, 0), src - 1);
  }
  return { i0, i1, w0, w1 };
}

/** `image` resized to `width` x `height` exactly as cv2.resize with INTER_LINEAR does (see the module comment). */
export function resizeLinearOpenCv(image: RgbImage, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  const n = width * 3;
  resizeLinearOpenCvRows(image, width, height, (y, row) => out.set(row, y * n));
  return { width, height, data: out };
}

/**
 * {@link resizeLinearOpenCv}, handed out one output row at a time: `row` holds output row
 * `y` as interleaved RGB bytes and is only valid during the call. A caller that converts the
 * rows at once (FastSAM's letterbox into float planes) never holds the resized image, and
 * each row is converted while it is still in cache.
 */
export function resizeLinearOpenCvRows(image: RgbImage, width: number, height: number, onRow: (y: number, row: Uint8Array) => void): void {
  const { width: w, height: h, data: src } = image;
  if (!(width >= 1 && height >= 1 && Number.isInteger(width) && Number.isInteger(height))) {
    throw new RangeError(`resize target must be whole positive sides (got ${width}x${height})`);
  }
  const n = width * 3;
  if (width === w && height === h) {
    for (let y = 0; y < height; y++) onRow(y, src.subarray(y * n, (y + 1) * n));
    return;
  }
  const out = new Uint8Array(n);
  if (2 * width === w && 2 * height === h) {
    halveRows(image, out, onRow);
    return;
  }
  const ax = fixedAxis(width, w, true);
  const ay = fixedAxis(height, h, false);
  // Horizontally resized source rows, kept two at a time: consecutive output rows share them.
  const rows = [new Int32Array(n), new Int32Array(n)];
  const held = [-1, -1];
  const rowAt = (y: number): Int32Array => {
    if (held[0] === y) return rows[0];
    if (held[1] === y) return rows[1];
    const k = held[0] < held[1] ? 0 : 1;
    const row = rows[k];
    const base = y * w * 3;
    for (let x = 0; x < width; x++) {
      const a = base + ax.i0[x] * 3;
      const b = base + ax.i1[x] * 3;
      const c0 = ax.w0[x];
      const c1 = ax.w1[x];
      const o = x * 3;
      row[o] = src[a] * c0 + src[b] * c1;
      row[o + 1] = src[a + 1] * c0 + src[b + 1] * c1;
      row[o + 2] = src[a + 2] * c0 + src[b + 2] * c1;
    }
    held[k] = y;
    return row;
  };
  for (let y = 0; y < height; y++) {
    const r0 = rowAt(ay.i0[y]);
    const r1 = rowAt(ay.i1[y]);
    const b0 = ay.w0[y];
    const b1 = ay.w1[y];
    for (let x = 0; x < n; x++) {
      const v = ((((r0[x] >> 4) * b0) >> 16) + (((r1[x] >> 4) * b1) >> 16) + 2) >> 2;
      out[x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
    onRow(y, out);
  }
}

/** OpenCV's exact 2:1 path, row by row into `out`: each output pixel the rounded mean of its 2x2 block. */
function halveRows(image: RgbImage, out: Uint8Array, onRow: (y: number, row: Uint8Array) => void): void {
  const { width: w, data: src } = image;
  const width = w / 2;
  const height = image.height / 2;
  for (let y = 0; y < height; y++) {
    const top = 2 * y * w * 3;
    const bottom = top + w * 3;
    for (let x = 0; x < width * 3; x++) {
      const c = x % 3;
      const sx = (x - c) * 2 + c;
      out[x] = (src[top + sx] + src[top + sx + 3] + src[bottom + sx] + src[bottom + sx + 3] + 2) >> 2;
    }
    onRow(y, out);
  }
}
