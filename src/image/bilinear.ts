/**
 * torch's bilinear resize (`F.interpolate(mode="bilinear", align_corners=False)`, no
 * antialiasing), the rule every model graph here resizes with: each output sample mixes the
 * two nearest input samples per axis at half-pixel centres, whatever the reduction. One axis
 * at a time, so callers can restrict it to a window (mask upsampling) or run it separably
 * (image stretching).
 */
import type { RgbImage } from './types.js';

/** Per-output-index source cells and weights along one axis of a bilinear resize. */
export interface Axis {
  /** First and last output index covered (last < first when none). */
  readonly first: number;
  readonly last: number;
  /** Per covered output index: lower and upper source index (window-relative) and weight of the upper. */
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly w1: Float64Array;
}

/**
 * How a resize computes: 'float64' in doubles (the rule written out), 'torch-float32' as
 * torch's CPU kernel computes a float32 tensor (upsample_bilinear2d, measured against torch
 * 2.13): scale = float32(in / out), source position fma(scale, o + 0.5, -0.5) in float32,
 * weights float32, and each output fma(t0, w0, t1 * w1) of the row interpolations
 * t = fma(a, w0, b * w1) (masks/resize.ts evaluates it).
 */
export type BilinearArithmetic = 'float64' | 'torch-float32';

/**
 * One axis of torch's bilinear resize (align_corners=False) from `inLen` to `outLen`,
 * restricted to the output indices whose two source cells both lie in [lo, hi]; source
 * indices come back relative to `lo`. With 'torch-float32' the positions and weights are
 * float32 as torch computes them.
 */
export function bilinearAxis(outLen: number, inLen: number, lo: number, hi: number, arithmetic: BilinearArithmetic = 'float64'): Axis {
  const f32 = arithmetic === 'torch-float32';
  const scale = f32 ? Math.fround(inLen / outLen) : inLen / outLen;
  // float32: scale * (o + 0.5) is exact in double, so one fround is torch's fused multiply-add.
  const src = f32 ? (o: number) => Math.max(0, Math.fround(scale * (o + 0.5) - 0.5)) : (o: number) => Math.max(0, scale * (o + 0.5) - 0.5);
  const lower = (o: number) => Math.min(Math.floor(src(o)), inLen - 1);
  const upper = (o: number) => {
    const i = lower(o);
    return i < inLen - 1 ? i + 1 : i;
  };
  // Source indices only grow with the output index, so the covered range is contiguous;
  // find its ends by binary search rather than a pass over a 4000-pixel axis per mask.
  let a = 0;
  let b = outLen;
  while (a < b) {
    const m = (a + b) >> 1;
    if (lower(m) >= lo) b = m;
    else a = m + 1;
  }
  const first = a;
  a = first;
  b = outLen;
  while (a < b) {
    const m = (a + b) >> 1;
    if (upper(m) <= hi) a = m + 1;
    else b = m;
  }
  const last = a - 1;
  const n = Math.max(0, last - first + 1);
  const i0 = new Int32Array(n);
  const i1 = new Int32Array(n);
  const w1 = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const s = src(first + k);
    const l = Math.min(Math.floor(s), inLen - 1);
    i0[k] = l - lo;
    i1[k] = (l < inLen - 1 ? l + 1 : l) - lo;
    w1[k] = f32 ? Math.min(Math.max(Math.fround(s - l), 0), 1) : s - l;
  }
  return { first, last, i0, i1, w1 };
}

/** Where {@link stretchToPlanes} writes: a window of larger planes (a letterboxed frame). */
export interface PlaneTarget {
  /** [3, height, width] planes, written in place. */
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
  /** Top-left corner of the stretched image inside the planes. */
  readonly x: number;
  readonly y: number;
}

/** Options of {@link stretchToPlanes}. */
export interface StretchOptions {
  /**
   * Round each resized sample to a whole 0..255 level before scaling, as OpenCV's resize of
   * an 8-bit image returns bytes (cv2.resize INTER_LINEAR has the same geometry as torch's
   * bilinear without antialiasing). Default false: torch's float result.
   */
  readonly round?: boolean;
  /** Write into these planes instead of new ones of `width` x `height`. */
  readonly into?: PlaneTarget;
}

/**
 * Stretch an RGB image to `width` x `height` by torch's bilinear rule and return it as
 * float32 planes [3, height, width] of `sample * scale`: the resize and the conversion to
 * a tensor in one pass, without rounding back to bytes in between (unless `options.round`).
 * Separable (rows, then columns), which is the same sum as torch's four-tap formula up to
 * float rounding. With `options.into` the result lands at (x, y) of those planes, which are
 * returned.
 */
export function stretchToPlanes(image: RgbImage, width: number, height: number, scale: number, options: StretchOptions = {}): Float32Array {
  const { width: w, height: h, data } = image;
  const ax = bilinearAxis(width, w, 0, w - 1);
  const ay = bilinearAxis(height, h, 0, h - 1);
  const target = options.into ?? { data: new Float32Array(3 * width * height), width, height, x: 0, y: 0 };
  const out = target.data;
  const plane = target.width * target.height;
  const round = options.round === true;
  // Rounding works on 0..255 levels, so the scale then comes last.
  const rowScale = round ? 1 : scale;
  // Each output row reads two source rows; consecutive output rows share them, so keep the
  // last two horizontally resized rows (interleaved RGB, already scaled).
  const rows = [new Float64Array(width * 3), new Float64Array(width * 3)];
  const held = [-1, -1];
  const rowAt = (y: number): Float64Array => {
    const slot = held[0] === y ? 0 : held[1] === y ? 1 : -1;
    if (slot >= 0) return rows[slot];
    // Replace the row the next output rows no longer need (the lower index).
    const k = held[0] < held[1] ? 0 : 1;
    const row = rows[k];
    const base = y * w * 3;
    for (let x = 0; x < width; x++) {
      const a = base + ax.i0[x] * 3;
      const b = base + ax.i1[x] * 3;
      const t = ax.w1[x];
      const u = 1 - t;
      const o = x * 3;
      row[o] = (data[a] * u + data[b] * t) * rowScale;
      row[o + 1] = (data[a + 1] * u + data[b + 1] * t) * rowScale;
      row[o + 2] = (data[a + 2] * u + data[b + 2] * t) * rowScale;
    }
    held[k] = y;
    return row;
  };
  for (let y = 0; y < height; y++) {
    const top = rowAt(ay.i0[y]);
    const bottom = rowAt(ay.i1[y]);
    const t = ay.w1[y];
    const u = 1 - t;
    const o = (y + target.y) * target.width + target.x;
    for (let x = 0, p = 0; x < width; x++, p += 3) {
      const r = top[p] * u + bottom[p] * t;
      const g = top[p + 1] * u + bottom[p + 1] * t;
      const b = top[p + 2] * u + bottom[p + 2] * t;
      if (round) {
        out[o + x] = Math.round(r) * scale;
        out[plane + o + x] = Math.round(g) * scale;
        out[2 * plane + o + x] = Math.round(b) * scale;
      } else {
        out[o + x] = r;
        out[plane + o + x] = g;
        out[2 * plane + o + x] = b;
      }
    }
  }
  return out;
}
