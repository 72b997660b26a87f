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
import { bilinearAxis, type Axis, type BilinearArithmetic } from '../image/bilinear.js';
import type { Rle } from './rle.js';
import type { BinaryMask } from './types.js';

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

/** Runs of output indices sharing the same lower source index: [start, end) pairs into the axis arrays. */
export function axisGroups(ax: Axis): number[] {
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
 * a (1 - w) + b w as torch's float32 kernel computes it: one fused multiply-add (the product
 * of float32 values is exact in a double, so one fround after the add is the fused result).
 */
function lerp32(a: number, b: number, w: number): number {
  return Math.fround(a * Math.fround(1 - w) + Math.fround(b * w));
}

/** a (1 - w) + b w in `f32` (lerp32) or in doubles. */
function lerp(a: number, b: number, w: number, f32: boolean): number {
  return f32 ? lerp32(a, b, w) : (1 - w) * a + w * b;
}

/**
 * Upsample `win` (a window of a logit map) to a `outWidth` x `outHeight` frame and threshold
 * at > 0, returning only the covered output window. `arithmetic` as in bilinearAxis.
 */
export function upsampleLogitWindow(win: LogitWindow, outWidth: number, outHeight: number, arithmetic: BilinearArithmetic = 'float64'): WindowMask {
  const f32 = arithmetic === 'torch-float32';
  const ax = bilinearAxis(outWidth, win.frameWidth, win.x, win.x + win.width - 1, arithmetic);
  const ay = bilinearAxis(outHeight, win.frameHeight, win.y, win.y + win.height - 1, arithmetic);
  const width = Math.max(0, ax.last - ax.first + 1);
  const height = Math.max(0, ay.last - ay.first + 1);
  const data = new Uint8Array(width * height);
  if (width === 0 || height === 0) return { x: 0, y: 0, width: 0, height: 0, data };
  const L = win.data;
  const ww = win.width;
  const gx = axisGroups(ax);
  const gy = axisGroups(ay);
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
        // Two loops rather than a branch per pixel: this one is the hot path of SAM's everything.
        if (f32) {
          for (let x = xs; x < xe; x++) {
            const wx = ax.w1[x];
            const top = lerp32(a, b, wx);
            const bottom = lerp32(c, d, wx);
            const col = x * height;
            for (let y = ys; y < ye; y++) if (lerp32(top, bottom, ay.w1[y]) > 0) data[col + y] = 1;
          }
        } else {
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
  }
  return { x: ax.first, y: ay.first, width, height, data };
}

/**
 * Upsample a whole `from`-sized logit map to a `to`-sized binary mask (row-major), with the
 * bilinear resize of {@link upsampleLogitWindow}: for `segment`, where a decoder rendered
 * its masks at its own last grid instead of at the image size.
 */
export function upsampleLogitsToMask(logits: ArrayLike<number>, from: { width: number; height: number }, to: { width: number; height: number }): BinaryMask {
  const win = upsampleLogitWindow({ frameWidth: from.width, frameHeight: from.height, x: 0, y: 0, width: from.width, height: from.height, data: logits }, to.width, to.height);
  const data = new Uint8Array(to.width * to.height);
  // The whole frame's window covers every output pixel; it is column-major, masks are row-major.
  for (let x = 0; x < win.width; x++) {
    const col = x * win.height;
    for (let y = 0; y < win.height; y++) if (win.data[col + y]) data[(y + win.y) * to.width + x + win.x] = 1;
  }
  return { width: to.width, height: to.height, data };
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

/** Half-open rectangle of output pixels: columns [x0, x1), rows [y0, y1). */
export interface PixelRect {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/**
 * The runs every RunWriter writes into, kept between masks: a noisy mask at 12 MP has ~10^5
 * runs, and growing a fresh array per mask by doubling (then copying it out) allocated and
 * page-faulted about twice its counts again for every one of FastSAM's 300 masks. A writer
 * is filled and finished within one synchronous call, so one buffer serves them all.
 */
let runScratch = new Uint32Array(4096);

/** A bigger run buffer holding the first `used` runs of `counts`, kept as the shared scratch. */
function grownRuns(counts: Uint32Array, used: number, room: number): Uint32Array<ArrayBuffer> {
  const bigger = new Uint32Array(2 * counts.length + room);
  bigger.set(counts.subarray(0, used));
  runScratch = bigger;
  return bigger;
}

/**
 * How far a pixel's computed value can be from its exact bilinear value, relative to the
 * largest of its four corners: lerp32 rounds 1 - w, the product and the sum to float32 (each
 * within 2^-24), so each row end is within 3 x 2^-24 of its exact value and the pixel, a
 * lerp32 of the ends, within 6 x 2^-24; in doubles, with samlite's own estimate of the exact
 * value, within 16 x 2^-53. The margins are more than twice those bounds: a pixel whose
 * exact value is farther from 0 has that value's sign.
 */
const STRETCH_MARGIN_F32 = 2 ** -20;
const STRETCH_MARGIN_F64 = 2 ** -48;
/** Added to the margins so a value that could round to 0 (which is not > 0) is evaluated. */
const SIGN_MARGIN_FLOOR = 1e-30;
/** A segment's piece in one output column whose rows are evaluated one by one. */
const EXACT = -1;
/** The piece of a column whose rows are all background (0) or all foreground (1): no split. */
const UNIFORM = [0, 3];

/**
 * Exactly `windowMaskToRle` of {@link upsampleLogitWindow}'s mask cut to `crop` (background
 * elsewhere in the `outWidth` x `outHeight` image), with its area, at a cost that follows
 * the mask's outline rather than its box: the output pixels between the same four logits (a
 * cell) are background or foreground as a block when the four share a sign, and per output
 * column a cell the zero level crosses is foreground on a prefix or a suffix of its rows (the
 * value is linear down a column): the row where the exact value crosses 0 is computed, and
 * the renderer's own float32 expression is evaluated only for rows within rounding of 0
 * (STRETCH_MARGIN_F32). Runs of uniform cells down a cell column are merged once for all
 * its output columns. `crop` must lie inside the window the logits cover. The runs are
 * counted in doubles and stored as uint32: images up to 2^32 pixels.
 */
export function upsampleLogitWindowToRle(
  win: LogitWindow,
  outWidth: number,
  outHeight: number,
  crop: PixelRect,
  arithmetic: BilinearArithmetic = 'float64',
): { rle: Rle; area: number } {
  const f32 = arithmetic === 'torch-float32';
  const ax = bilinearAxis(outWidth, win.frameWidth, win.x, win.x + win.width - 1, arithmetic);
  const ay = bilinearAxis(outHeight, win.frameHeight, win.y, win.y + win.height - 1, arithmetic);
  const H = outHeight;
  const { x0, y0, x1, y1 } = crop;
  if (x1 <= x0 || y1 <= y0) return { rle: { size: [H, outWidth], counts: Uint32Array.of(outWidth * H) }, area: 0 };
  if (x0 < ax.first || x1 > ax.last + 1 || y0 < ay.first || y1 > ay.last + 1) {
    throw new RangeError(`crop ${x0},${y0}-${x1},${y1} is outside the logit window's ${ax.first},${ay.first}-${ax.last + 1},${ay.last + 1}`);
  }
  const L = win.data;
  const ww = win.width;
  // Cell rows inside the crop, as [start, end) output rows relative to ay.first.
  const rowsFrom = y0 - ay.first;
  const rowsTo = y1 - ay.first;
  const gy: number[] = [];
  const all = axisGroups(ay);
  for (let q = 0; q < all.length; q += 2) {
    const s = Math.max(all[q], rowsFrom);
    const e = Math.min(all[q + 1], rowsTo);
    if (s < e) gy.push(s, e);
  }
  const ncy = gy.length / 2;
  // Per cell row: its output rows and the offsets of its two logit rows (once, not per cell column).
  const segFrom = new Int32Array(ncy);
  const segTo = new Int32Array(ncy);
  const upper = new Int32Array(ncy);
  const lower = new Int32Array(ncy);
  for (let q = 0; q < ncy; q++) {
    segFrom[q] = gy[2 * q];
    segTo[q] = gy[2 * q + 1];
    upper[q] = ay.i0[gy[2 * q]] * ww;
    lower[q] = ay.i1[gy[2 * q]] * ww;
  }
  const wy = ay.w1;
  const stretchMargin = f32 ? STRETCH_MARGIN_F32 : STRETCH_MARGIN_F64;
  // Output rows step through the source by inLen / outLen: the estimate of a crossing's row.
  const rowsPerWeight = outHeight / win.frameHeight;
  const gx = axisGroups(ax);
  let widest = 0;
  for (let p = 0; p < gx.length; p += 2) widest = Math.max(widest, gx[p + 1] - gx[p]);
  // Per cell column, its segments down the rows (uniform cells in a row merged), and per
  // segment and output column two pieces: `first` over `split` rows, then `second` over the
  // rest. A uniform segment is one value over all its rows; a crossed cell's pieces come
  // from its crossing row; EXACT marks the rare column whose rows are evaluated one by one.
  // Both packed in one int, split << 2 | first << 1 | second, at (output column in the cell
  // column) * ncy + segment: the column walk reads one int per segment, in order.
  const len = new Int32Array(ncy);
  const segRows = new Int32Array(2 * ncy);
  const pieces = new Int32Array(ncy * widest);
  const tops = new Float64Array(ncy * widest);
  const bottoms = new Float64Array(ncy * widest);
  const w1 = ax.w1;

  // The RLE is written branch-free: a piece of `v` over `n` pixels closes the current run
  // when v differs and n > 0 (a run's count is stored each time and kept only when closed).
  // Noise masks' signs are unpredictable, and mispredicted branches cost more than the arithmetic.
  let counts = runScratch;
  let nRuns = 0;
  let cur = 0;
  let run = x0 * H; // the columns left of the crop
  const room = 2 * ncy + 4;

  for (let p = 0; p < gx.length; p += 2) {
    const xs = Math.max(gx[p], x0 - ax.first);
    const xe = Math.min(gx[p + 1], x1 - ax.first);
    if (xs >= xe) continue;
    const cols = xe - xs;
    const cx0 = ax.i0[gx[p]];
    const cx1 = ax.i1[gx[p]];
    let nseg = 0;
    for (let q = 0; q < ncy; q++) {
      const ys = segFrom[q];
      const ye = segTo[q];
      const r0 = upper[q];
      const r1 = lower[q];
      const a = L[r0 + cx0];
      const b = L[r0 + cx1];
      const c = L[r1 + cx0];
      const d = L[r1 + cx1];
      // The renderer's own tests: all four > 0 fills, none > 0 leaves empty (NaN counts as not > 0).
      const k = a > 0 && b > 0 && c > 0 && d > 0 ? 1 : a > 0 || b > 0 || c > 0 || d > 0 ? 2 : 0;
      if (k !== 2) {
        if (nseg > 0 && segRows[2 * nseg - 2] < 0 && pieces[nseg - 1] === UNIFORM[k]) {
          len[nseg - 1] += ye - ys;
          continue;
        }
        for (let o = nseg; o < cols * ncy; o += ncy) pieces[o] = UNIFORM[k];
        segRows[2 * nseg] = -1; // uniform
        len[nseg++] = ye - ys;
        continue;
      }
      // A crossed cell: its pieces in every output column of the cell column (the signs
      // change at most once along a row of the cell, so these branches are predictable).
      const at0 = nseg;
      segRows[2 * nseg] = ys;
      segRows[2 * nseg + 1] = ye;
      len[nseg++] = ye - ys;
      // Decided on the exact bilinear values (doubles, no rounding steps): a pixel whose
      // exact value is farther from 0 than `m` comes out of the renderer's float32 steps
      // with the same sign (STRETCH_MARGIN_F32); the rare rows closer are evaluated.
      const w0 = wy[ys];
      const m = stretchMargin * Math.max(Math.abs(a), Math.abs(b), Math.abs(c), Math.abs(d)) + SIGN_MARGIN_FLOOR;
      const ab = b - a;
      const cd = d - c;
      for (let x = xs, o = at0; x < xe; x++, o += ncy) {
        const w = w1[x];
        const top = a + ab * w;
        const bottom = c + cd * w;
        if (Math.abs(top) > m && Math.abs(bottom) > m) {
          const vt = top > 0 ? 1 : 0;
          const vb = bottom > 0 ? 1 : 0;
          if (vt === vb) {
            // The line down the column stays on one side: every row of the cell.
            pieces[o] = UNIFORM[vt];
            continue;
          }
          // One crossing: the first row at or past weight t is on the bottom's side. The
          // estimate only saves steps: the two loops end on that row from any start (wy
          // grows down the cell). t is in [0, 1], so the estimate is a small int.
          const d2 = bottom - top;
          const t = -top / d2;
          let at = ys + (Math.ceil((t - w0) * rowsPerWeight) | 0);
          if (!(at > ys)) at = ys + 1;
          else if (at > ye - 1) at = ye - 1;
          while (at > ys + 1 && wy[at - 1] >= t) at--;
          while (at < ye - 1 && wy[at] < t) at++;
          const before = top + d2 * wy[at - 1];
          const after = top + d2 * wy[at];
          if (Math.abs(before) > m && Math.abs(after) > m) {
            // Rows up to at - 1 share its sign, rows from `at` on share that row's (when the
            // crossing lies outside the cell both agree).
            pieces[o] = ((at - ys) << 2) | (before > 0 ? 2 : 0) | (after > 0 ? 1 : 0);
            continue;
          }
        }
        // Rare: an end or a row within the margin, or not finite: every row evaluated
        // by the renderer's own steps.
        pieces[o] = EXACT;
        tops[o] = lerp(a, b, w, f32);
        bottoms[o] = lerp(c, d, w, f32);
      }
    }
    for (let x = xs; x < xe; x++) {
      if (nRuns + room > counts.length) counts = grownRuns(counts, nRuns, room);
      const xo = (x - xs) * ncy;
      // Background above the crop.
      let ch = cur & (-y0 >>> 31);
      counts[nRuns] = run;
      nRuns += ch;
      run = (run & (ch - 1)) + y0;
      cur ^= ch;
      for (let g = 0; g < nseg; g++) {
        const o = xo + g;
        const piece = pieces[o];
        if (piece === EXACT) {
          const ys = segRows[2 * g];
          for (let y = ys; y < segRows[2 * g + 1]; y++) {
            const v = lerp(tops[o], bottoms[o], wy[y], f32) > 0 ? 1 : 0;
            if (nRuns + 2 > counts.length) counts = grownRuns(counts, nRuns, room);
            ch = v ^ cur;
            counts[nRuns] = run;
            nRuns += ch;
            run = (run & (ch - 1)) + 1;
            cur ^= ch;
          }
          continue;
        }
        const s = piece >> 2;
        const n = len[g];
        const v1 = (piece >> 1) & 1;
        const v2 = piece & 1;
        ch = (v1 ^ cur) & (-s >>> 31);
        counts[nRuns] = run;
        nRuns += ch;
        run = (run & (ch - 1)) + s;
        cur ^= ch;
        ch = (v2 ^ cur) & (-(n - s) >>> 31);
        counts[nRuns] = run;
        nRuns += ch;
        run = (run & (ch - 1)) + n - s;
        cur ^= ch;
      }
      // Background below the crop.
      ch = cur & (-(H - y1) >>> 31);
      counts[nRuns] = run;
      nRuns += ch;
      run = (run & (ch - 1)) + H - y1;
      cur ^= ch;
    }
  }
  // The columns right of the crop, then the last run.
  const right = (outWidth - x1) * H;
  const ch = cur & (right > 0 ? 1 : 0);
  counts[nRuns] = run;
  nRuns += ch;
  run = (run & (ch - 1)) + right;
  counts[nRuns++] = run;
  // The runs alternate background, foreground from the first: the area is the odd ones.
  let area = 0;
  for (let r = 1; r < nRuns; r += 2) area += counts[r];
  return { rle: { size: [H, outWidth], counts: counts.slice(0, nRuns) }, area };
}

/**
 * OR {@link upsampleLogitWindow}'s mask of `win`, cut to `crop`, into `target`: a row-major
 * `outWidth` x `outHeight` mask, written in place. The same per-pixel decisions (a cell whose
 * four corners are all > 0 is filled, one with none > 0 skipped, the rest interpolated by the
 * same expression), walked cell row by cell row so the writes run along the target's rows:
 * a prompt's answer is a full-image row-major mask, and going through the column-major window
 * would cost a strided copy of every box.
 */
export function paintLogitWindow(
  win: LogitWindow,
  outWidth: number,
  outHeight: number,
  crop: PixelRect,
  target: Uint8Array,
  arithmetic: BilinearArithmetic = 'float64',
): void {
  const f32 = arithmetic === 'torch-float32';
  const ax = bilinearAxis(outWidth, win.frameWidth, win.x, win.x + win.width - 1, arithmetic);
  const ay = bilinearAxis(outHeight, win.frameHeight, win.y, win.y + win.height - 1, arithmetic);
  const { x0, y0, x1, y1 } = crop;
  if (x1 <= x0 || y1 <= y0) return;
  if (x0 < ax.first || x1 > ax.last + 1 || y0 < ay.first || y1 > ay.last + 1) {
    throw new RangeError(`crop ${x0},${y0}-${x1},${y1} is outside the logit window's ${ax.first},${ay.first}-${ax.last + 1},${ay.last + 1}`);
  }
  const clip = (groups: number[], from: number, to: number) => {
    const out: number[] = [];
    for (let q = 0; q < groups.length; q += 2) {
      const s = Math.max(groups[q], from);
      const e = Math.min(groups[q + 1], to);
      if (s < e) out.push(s, e);
    }
    return out;
  };
  const gx = clip(axisGroups(ax), x0 - ax.first, x1 - ax.first);
  const gy = clip(axisGroups(ay), y0 - ay.first, y1 - ay.first);
  const L = win.data;
  const ww = win.width;
  // The row interpolations of a crossed cell, per output column of it.
  let widest = 0;
  for (let p = 0; p < gx.length; p += 2) widest = Math.max(widest, gx[p + 1] - gx[p]);
  const tops = new Float64Array(widest);
  const bottoms = new Float64Array(widest);
  for (let q = 0; q < gy.length; q += 2) {
    const ys = gy[q];
    const ye = gy[q + 1];
    const r0 = ay.i0[ys] * ww;
    const r1 = ay.i1[ys] * ww;
    for (let p = 0; p < gx.length; p += 2) {
      const xs = gx[p];
      const xe = gx[p + 1];
      const cx0 = ax.i0[xs];
      const cx1 = ax.i1[xs];
      const a = L[r0 + cx0];
      const b = L[r0 + cx1];
      const c = L[r1 + cx0];
      const d = L[r1 + cx1];
      if (a > 0 && b > 0 && c > 0 && d > 0) {
        for (let y = ys; y < ye; y++) {
          const row = (ay.first + y) * outWidth + ax.first;
          target.fill(1, row + xs, row + xe);
        }
      } else if (a > 0 || b > 0 || c > 0 || d > 0) {
        for (let x = xs; x < xe; x++) {
          tops[x - xs] = lerp(a, b, ax.w1[x], f32);
          bottoms[x - xs] = lerp(c, d, ax.w1[x], f32);
        }
        for (let y = ys; y < ye; y++) {
          const wy = ay.w1[y];
          const row = (ay.first + y) * outWidth + ax.first;
          for (let x = xs; x < xe; x++) {
            if (lerp(tops[x - xs], bottoms[x - xs], wy, f32) > 0) target[row + x] = 1;
          }
        }
      }
    }
  }
}

/**
 * Whether {@link upsampleLogitWindow} sets the output pixel that interpolates between the
 * logits `a` (upper left), `b` (upper right), `c` (lower left), `d` (lower right) with
 * weights `wx`, `wy` of the right and lower ones: the same corner tests and expression, for
 * one pixel without rendering its window.
 */
export function bilinearPixelPositive(a: number, b: number, c: number, d: number, wx: number, wy: number, arithmetic: BilinearArithmetic = 'float64'): boolean {
  if (a > 0 && b > 0 && c > 0 && d > 0) return true;
  if (!(a > 0 || b > 0 || c > 0 || d > 0)) return false;
  const f32 = arithmetic === 'torch-float32';
  return lerp(lerp(a, b, wx, f32), lerp(c, d, wx, f32), wy, f32) > 0;
}

/** Pixel counts and box of a logit map's bilinear upsampling, from {@link upsampledMaskStats}. */
export interface UpsampledMaskStats {
  /** Output pixels with value > threshold + offset. */
  readonly aboveHigh: number;
  /** Output pixels with value > threshold (the mask's area). */
  readonly above: number;
  /** Output pixels with value > threshold - offset. */
  readonly aboveLow: number;
  /** Inclusive box [x0, y0, x1, y1] of the pixels > threshold; undefined when there are none. */
  readonly box: [number, number, number, number] | undefined;
}

/**
 * What the full-resolution mask would measure, without building it: pixel counts above
 * threshold + offset, threshold and threshold - offset, and the box of the mask, for the
 * bilinear upsampling of `logits` (row-major `width` x `height`) to `outWidth` x
 * `outHeight`. Cells whose corners all lie on one side of a cutoff count as whole blocks;
 * only columns of cells that straddle one are evaluated pixel by pixel, with the same
 * arithmetic as {@link upsampleLogitWindow}. `offset` must be >= 0.
 */
export function upsampledMaskStats(
  logits: ArrayLike<number>,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
  threshold: number,
  offset: number,
): UpsampledMaskStats {
  const hi = threshold + offset;
  const lo = threshold - offset;
  // Only cells above the lowest cutoff, plus one cell around them, can produce a counted pixel.
  let cx0 = width;
  let cy0 = -1;
  let cx1 = -1;
  let cy1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (logits[row + x] > lo) {
        if (cy0 < 0) cy0 = y;
        cy1 = y;
        if (x < cx0) cx0 = x;
        if (x > cx1) cx1 = x;
      }
    }
  }
  if (cx1 < 0) return { aboveHigh: 0, above: 0, aboveLow: 0, box: undefined };
  const wx0 = Math.max(0, cx0 - 1);
  const wy0 = Math.max(0, cy0 - 1);
  const ax = bilinearAxis(outWidth, width, wx0, Math.min(width - 1, cx1 + 1));
  const ay = bilinearAxis(outHeight, height, wy0, Math.min(height - 1, cy1 + 1));
  // Per cell column / row: source cells (absolute) and the output range, as flat typed
  // arrays so the cell loop below does no object or nested-array lookups.
  const gx = axisGroups(ax);
  const gy = axisGroups(ay);
  const ncx = gx.length / 2;
  const ncy = gy.length / 2;
  const cxA = new Int32Array(ncx);
  const cxB = new Int32Array(ncx);
  for (let p = 0; p < ncx; p++) {
    cxA[p] = ax.i0[gx[2 * p]] + wx0;
    cxB[p] = ax.i1[gx[2 * p]] + wx0;
  }
  let nHigh = 0;
  let nMid = 0;
  let nLow = 0;
  // Box of pixels > threshold, kept as output indices relative to the covered range.
  let bx0 = Infinity;
  let by0 = Infinity;
  let bx1 = -1;
  let by1 = -1;
  for (let q = 0; q < ncy; q++) {
    const ys = gy[2 * q];
    const ye = gy[2 * q + 1];
    const ny = ye - ys;
    const r0 = (ay.i0[ys] + wy0) * width;
    const r1 = (ay.i1[ys] + wy0) * width;
    // Uniform cells above the top cutoff in this cell row: only their pixel total and
    // extreme columns matter, so sum widths and settle the box once per row.
    let rowHighWidth = 0;
    let rowFirst = -1;
    let rowLast = -1;
    for (let p = 0; p < ncx; p++) {
      const a = logits[r0 + cxA[p]];
      const b = logits[r0 + cxB[p]];
      const c = logits[r1 + cxA[p]];
      const d = logits[r1 + cxB[p]];
      // Most cells lie wholly inside or outside the mask: settle those with plain compares.
      if (a <= lo && b <= lo && c <= lo && d <= lo) continue;
      const xs = gx[2 * p];
      const xe = gx[2 * p + 1];
      if (a > hi && b > hi && c > hi && d > hi) {
        rowHighWidth += xe - xs;
        if (rowFirst < 0) rowFirst = xs;
        rowLast = xe - 1;
        continue;
      }
      let mn = a;
      let mx = a;
      if (b < mn) mn = b;
      else if (b > mx) mx = b;
      if (c < mn) mn = c;
      else if (c > mx) mx = c;
      if (d < mn) mn = d;
      else if (d > mx) mx = d;
      // A bilinear value lies between its corners' min and max, so a cutoff outside that
      // range decides the whole block.
      if ((mn > hi || mx <= hi) && (mn > threshold || mx <= threshold) && (mn > lo || mx <= lo)) {
        const n = (xe - xs) * ny;
        if (mn > hi) nHigh += n;
        if (mn > threshold) {
          nMid += n;
          if (xs < bx0) bx0 = xs;
          if (xe - 1 > bx1) bx1 = xe - 1;
          if (ys < by0) by0 = ys;
          if (ye - 1 > by1) by1 = ye - 1;
        }
        nLow += n;
        continue;
      }
      // Along one output column the value is linear in the row weight, which only grows
      // with y: the pixels above a cutoff are a prefix or a suffix of the column, found by
      // bisection on the same expression the renderer evaluates.
      const wy = ay.w1;
      const w0 = wy[ys];
      const w1 = wy[ye - 1];
      for (let x = xs; x < xe; x++) {
        const wx = ax.w1[x];
        const top = (1 - wx) * a + wx * b;
        const bottom = (1 - wx) * c + wx * d;
        const v0 = (1 - w0) * top + w0 * bottom;
        const v1 = (1 - w1) * top + w1 * bottom;
        if (v0 > lo && v1 > lo) nLow += ny;
        else if (v0 > lo || v1 > lo) nLow += countAbove(top, bottom, wy, ys, ye, lo, v1 > lo);
        if (v0 > hi && v1 > hi) nHigh += ny;
        else if (v0 > hi || v1 > hi) nHigh += countAbove(top, bottom, wy, ys, ye, hi, v1 > hi);
        let m = 0;
        if (v0 > threshold && v1 > threshold) m = ny;
        else if (v0 > threshold || v1 > threshold) m = countAbove(top, bottom, wy, ys, ye, threshold, v1 > threshold);
        if (m > 0) {
          nMid += m;
          const rising = v1 > threshold;
          const first = rising ? ye - m : ys;
          const last = rising ? ye - 1 : ys + m - 1;
          if (x < bx0) bx0 = x;
          if (x > bx1) bx1 = x;
          if (first < by0) by0 = first;
          if (last > by1) by1 = last;
        }
      }
    }
    if (rowHighWidth > 0) {
      const n = rowHighWidth * ny;
      nHigh += n;
      nMid += n;
      nLow += n;
      if (rowFirst < bx0) bx0 = rowFirst;
      if (rowLast > bx1) bx1 = rowLast;
      if (ys < by0) by0 = ys;
      if (ye - 1 > by1) by1 = ye - 1;
    }
  }
  const box: [number, number, number, number] | undefined =
    bx1 < 0 ? undefined : [bx0 + ax.first, by0 + ay.first, bx1 + ax.first, by1 + ay.first];
  return { aboveHigh: nHigh, above: nMid, aboveLow: nLow, box };
}

/**
 * How many of rows ys..ye-1 of one output column have (1 - wy) * top + wy * bottom > cut,
 * given that the first and last rows disagree and `lastAbove` tells which way. With wy
 * non-decreasing the rows above the cut are a suffix (lastAbove) or a prefix: start from
 * the row where the straight line crosses the cut, then step to the exact boundary with the
 * renderer's own expression, so counts match a pixel-by-pixel evaluation.
 */
function countAbove(top: number, bottom: number, wy: Float64Array, ys: number, ye: number, cut: number, lastAbove: boolean, f32 = false): number {
  const w0 = wy[ys];
  const w1 = wy[ye - 1];
  const cross = (cut - top) / (bottom - top);
  let g = ys + 1;
  if (w1 > w0) g = Math.min(ye - 1, Math.max(ys + 1, Math.ceil(ys + ((cross - w0) / (w1 - w0)) * (ye - 1 - ys))));
  // g: first row whose predicate equals lastAbove (row ys never does, row ye - 1 always does).
  if (f32) {
    while (g > ys + 1 && (lerp32(top, bottom, wy[g - 1]) > cut) === lastAbove) g--;
    while (g < ye - 1 && (lerp32(top, bottom, wy[g]) > cut) !== lastAbove) g++;
  } else {
    while (g > ys + 1 && ((1 - wy[g - 1]) * top + wy[g - 1] * bottom > cut) === lastAbove) g--;
    while (g < ye - 1 && ((1 - wy[g]) * top + wy[g] * bottom > cut) !== lastAbove) g++;
  }
  return lastAbove ? ye - g : g - ys;
}

/**
 * A whole `from`-sized logit map resized to `to` by torch's bilinear rule (align_corners
 * False, no antialiasing), as float logits: the step a decoder that returns only its
 * low-resolution logits leaves to the caller (SAM2ImagePredictor's `postprocess_masks`).
 */
export function resizeLogitMap(logits: ArrayLike<number>, from: { width: number; height: number }, to: { width: number; height: number }): Float32Array {
  const ax = bilinearAxis(to.width, from.width, 0, from.width - 1);
  const ay = bilinearAxis(to.height, from.height, 0, from.height - 1);
  const out = new Float32Array(to.width * to.height);
  for (let y = 0; y < to.height; y++) {
    const r0 = ay.i0[y] * from.width;
    const r1 = ay.i1[y] * from.width;
    const wy = ay.w1[y];
    const row = y * to.width;
    for (let x = 0; x < to.width; x++) {
      const wx = ax.w1[x];
      const top = (1 - wx) * logits[r0 + ax.i0[x]] + wx * logits[r0 + ax.i1[x]];
      const bottom = (1 - wx) * logits[r1 + ax.i0[x]] + wx * logits[r1 + ax.i1[x]];
      out[row + x] = (1 - wy) * top + wy * bottom;
    }
  }
  return out;
}
