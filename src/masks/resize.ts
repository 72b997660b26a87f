/**
 * Bilinear upsampling of mask logits straight to a binary mask, for the masks that survive
 * segment-everything's filters. It follows torch's `interpolate(mode="bilinear",
 * align_corners=False)`, the resampling SAM's decoders use, and is built for 12 MP targets:
 *
 * - Only a window is produced: the output pixels whose interpolation neighbours lie inside
 *   the stored logit window. Callers store the mask's box plus one cell, which holds every
 *   pixel that can come out positive, so the rest of the image is background by construction.
 * - Output pixels are grouped by the low-resolution cell they interpolate in. A cell whose
 *   four corners agree in sign is filled (or skipped) as a block; only cells straddling the
 *   boundary are interpolated pixel by pixel.
 * - Only the sign of the result matters, so integer-quantised logits work unscaled.
 */
import type { Rle } from './rle.js';

/** A window of a logit map rendered at `frameWidth` x `frameHeight`; `data` is row-major over the window. */
export interface LogitWindow {
  readonly frameWidth: number;
  readonly frameHeight: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly data: ArrayLike<number>;
}

/** A binary window of a larger mask, stored column-major (the order RLE runs in). */
export interface WindowMask {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** 1 foreground, 0 background, index (x - this.x) * height + (y - this.y). */
  readonly data: Uint8Array;
}

interface Axis {
  /** First and last output index covered (last < first when none). */
  readonly first: number;
  readonly last: number;
  /** Per covered output index: lower and upper source index (window-relative) and weight of the upper. */
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly w1: Float64Array;
}

function axis(outLen: number, inLen: number, lo: number, hi: number): Axis {
  const scale = inLen / outLen;
  const src = (o: number) => Math.max(0, scale * (o + 0.5) - 0.5);
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
    w1[k] = s - l;
  }
  return { first, last, i0, i1, w1 };
}

/** Runs of output indices sharing the same lower source index: [start, end) pairs into the axis arrays. */
function groups(ax: Axis): number[] {
  const out: number[] = [];
  const n = ax.i0.length;
  let s = 0;
  for (let k = 1; k <= n; k++) {
    if (k === n || ax.i0[k] !== ax.i0[s]) {
      out.push(s, k);
      s = k;
    }
  }
  return out;
}

/**
 * Upsample `win` (a window of a logit map) to a `outWidth` x `outHeight` frame and threshold
 * at > 0, returning only the covered output window.
 */
export function upsampleLogitWindow(win: LogitWindow, outWidth: number, outHeight: number): WindowMask {
  const ax = axis(outWidth, win.frameWidth, win.x, win.x + win.width - 1);
  const ay = axis(outHeight, win.frameHeight, win.y, win.y + win.height - 1);
  const width = Math.max(0, ax.last - ax.first + 1);
  const height = Math.max(0, ay.last - ay.first + 1);
  const data = new Uint8Array(width * height);
  if (width === 0 || height === 0) return { x: 0, y: 0, width: 0, height: 0, data };
  const L = win.data;
  const ww = win.width;
  const gx = groups(ax);
  const gy = groups(ay);
  for (let p = 0; p < gx.length; p += 2) {
    const xs = gx[p];
    const xe = gx[p + 1];
    const cx0 = ax.i0[xs];
    const cx1 = ax.i1[xs];
    for (let q = 0; q < gy.length; q += 2) {
      const ys = gy[q];
      const ye = gy[q + 1];
      const r0 = ay.i0[ys] * ww;
      const r1 = ay.i1[ys] * ww;
      const a = L[r0 + cx0];
      const b = L[r0 + cx1];
      const c = L[r1 + cx0];
      const d = L[r1 + cx1];
      if (a > 0 && b > 0 && c > 0 && d > 0) {
        for (let x = xs; x < xe; x++) data.fill(1, x * height + ys, x * height + ye);
      } else if (a > 0 || b > 0 || c > 0 || d > 0) {
        for (let x = xs; x < xe; x++) {
          const wx = ax.w1[x];
          const top = (1 - wx) * a + wx * b;
          const bottom = (1 - wx) * c + wx * d;
          const col = x * height;
          for (let y = ys; y < ye; y++) {
            const wy = ay.w1[y];
            if ((1 - wy) * top + wy * bottom > 0) data[col + y] = 1;
          }
        }
      }
    }
  }
  return { x: ax.first, y: ay.first, width, height, data };
}

/**
 * Column-major RLE of an `imageWidth` x `imageHeight` mask that is background except for
 * `mask`, placed with its origin at (offsetX + mask.x, offsetY + mask.y). Only the window is
 * ever held as bytes.
 */
export function windowMaskToRle(mask: WindowMask, imageWidth: number, imageHeight: number, offsetX = 0, offsetY = 0): Rle {
  const H = imageHeight;
  const ox = offsetX + mask.x;
  const oy = offsetY + mask.y;
  const { width: mw, height: mh, data } = mask;
  if (mw > 0 && mh > 0 && (ox < 0 || oy < 0 || ox + mw > imageWidth || oy + mh > H)) {
    throw new RangeError(`mask window ${mw}x${mh} at (${ox}, ${oy}) does not fit a ${imageWidth}x${H} image`);
  }
  let counts = new Uint32Array(256);
  let n = 0;
  let current = 0;
  let run = 0;
  const push = () => {
    if (n === counts.length) {
      const bigger = new Uint32Array(n * 2);
      bigger.set(counts);
      counts = bigger;
    }
    counts[n++] = run;
  };
  if (mw === 0 || mh === 0) {
    run = imageWidth * H;
  } else {
    run = ox * H;
    for (let x = 0; x < mw; x++) {
      // Background above the window in this column.
      if (current === 0) run += oy;
      else if (oy > 0) {
        push();
        current = 0;
        run = oy;
      }
      const col = x * mh;
      for (let y = 0; y < mh; y++) {
        const v = data[col + y];
        if (v !== current) {
          push();
          current = v;
          run = 0;
        }
        run++;
      }
      const below = H - oy - mh;
      if (below > 0) {
        if (current !== 0) {
          push();
          current = 0;
          run = 0;
        }
        run += below;
      }
    }
    const right = (imageWidth - ox - mw) * H;
    if (right > 0) {
      if (current !== 0) {
        push();
        current = 0;
        run = 0;
      }
      run += right;
    }
  }
  push();
  return { size: [H, imageWidth], counts: counts.slice(0, n) };
}
