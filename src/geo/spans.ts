/**
 * Masks in raster coordinates as horizontal runs, row by row. An object merged across
 * tiles can be as large as the raster (a lake, a field, the background): as runs it costs
 * memory in proportion to its outline, where a bitmap of its bounding box would cost its
 * area. Seam merging, outlines and the label raster all work on these.
 */
import type { MaskCrop } from '../masks/crop.js';
import type { Window } from './raster.js';

/**
 * A mask as runs: row `y0 + r` holds the runs `xs[starts[r]] .. xs[starts[r + 1]]` as
 * pairs [x0, x1) (exclusive end), sorted, disjoint and not touching. Rows may be empty;
 * the first and last are not.
 */
export interface SpanMask {
  readonly y0: number;
  readonly rows: number;
  readonly starts: Uint32Array;
  readonly xs: Int32Array;
}

/** Builds a SpanMask row by row, top to bottom. */
export class SpanBuilder {
  private xs: Int32Array = new Int32Array(64);
  private n = 0;
  private readonly rowStarts: number[] = [];
  private first = -1;

  /** Add row `y`'s runs (pairs x0, x1; sorted, disjoint). Rows must come in increasing order. */
  addRow(y: number, runs: ArrayLike<number>, count = runs.length): void {
    if (count === 0) return;
    if (this.first < 0) this.first = y;
    const r = y - this.first;
    if (r < this.rowStarts.length) throw new Error(`SpanBuilder: row ${y} after row ${this.first + this.rowStarts.length - 1}`);
    while (this.rowStarts.length <= r) this.rowStarts.push(this.n);
    if (this.n + count > this.xs.length) {
      const grown = new Int32Array(Math.max(this.xs.length * 2, this.n + count));
      grown.set(this.xs.subarray(0, this.n));
      this.xs = grown;
    }
    for (let i = 0; i < count; i++) this.xs[this.n++] = runs[i];
  }

  /** The mask, or undefined when no row had a run. */
  finish(): SpanMask | undefined {
    if (this.first < 0) return undefined;
    const rows = this.rowStarts.length;
    const starts = new Uint32Array(rows + 1);
    for (let r = 0; r < rows; r++) starts[r] = this.rowStarts[r];
    starts[rows] = this.n;
    return { y0: this.first, rows, starts, xs: this.xs.slice(0, this.n) };
  }
}

/** Runs of a bitmap (non-zero = in) of `width` x `height` placed at (ox, oy). */
export function spansFromBitmap(data: ArrayLike<number>, width: number, height: number, ox = 0, oy = 0): SpanMask | undefined {
  const b = new SpanBuilder();
  const runs: number[] = [];
  for (let y = 0; y < height; y++) {
    runs.length = 0;
    const row = y * width;
    let x = 0;
    while (x < width) {
      while (x < width && data[row + x] === 0) x++;
      if (x >= width) break;
      const start = x;
      while (x < width && data[row + x] !== 0) x++;
      runs.push(start + ox, x + ox);
    }
    b.addRow(y + oy, runs);
  }
  return b.finish();
}

/** Runs of a mask crop (full-image placement kept). */
export function spansFromCrop(crop: MaskCrop): SpanMask | undefined {
  return spansFromBitmap(crop.data, crop.width, crop.height, crop.x, crop.y);
}

/** Call `fn(y, x0, x1)` for every run, top to bottom, left to right. */
export function forEachSpan(m: SpanMask, fn: (y: number, x0: number, x1: number) => void): void {
  for (let r = 0; r < m.rows; r++) {
    for (let i = m.starts[r]; i < m.starts[r + 1]; i += 2) fn(m.y0 + r, m.xs[i], m.xs[i + 1]);
  }
}

/** Pixel count. */
export function spanArea(m: SpanMask): number {
  let a = 0;
  for (let i = 0; i < m.xs.length; i += 2) a += m.xs[i + 1] - m.xs[i];
  return a;
}

/** Bounding box [x0, y0, x1, y1), exclusive end. */
export function spanBounds(m: SpanMask): Window {
  let x0 = Infinity;
  let x1 = -Infinity;
  for (let r = 0; r < m.rows; r++) {
    const a = m.starts[r];
    const b = m.starts[r + 1];
    if (a === b) continue;
    if (m.xs[a] < x0) x0 = m.xs[a];
    if (m.xs[b - 1] > x1) x1 = m.xs[b - 1];
  }
  return [x0, m.y0, x1, m.y0 + m.rows];
}

/** The runs of row `y` (an empty view when the mask has none there). */
export function rowRuns(m: SpanMask, y: number): Int32Array {
  const r = y - m.y0;
  if (r < 0 || r >= m.rows) return EMPTY;
  return m.xs.subarray(m.starts[r], m.starts[r + 1]);
}

const EMPTY = new Int32Array(0);

/** Pixels shared by two sorted run lists. */
function overlapLength(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let i = 0;
  let j = 0;
  let total = 0;
  while (i < a.length && j < b.length) {
    const lo = Math.max(a[i], b[j]);
    const hi = Math.min(a[i + 1], b[j + 1]);
    if (hi > lo) total += hi - lo;
    if (a[i + 1] < b[j + 1]) i += 2;
    else j += 2;
  }
  return total;
}

/** Pixels of `m` inside `window`. */
export function areaInWindow(m: SpanMask, window: Window): number {
  const [wx0, wy0, wx1, wy1] = window;
  let total = 0;
  for (let y = Math.max(wy0, m.y0); y < Math.min(wy1, m.y0 + m.rows); y++) {
    const runs = rowRuns(m, y);
    for (let i = 0; i < runs.length; i += 2) {
      const lo = Math.max(runs[i], wx0);
      const hi = Math.min(runs[i + 1], wx1);
      if (hi > lo) total += hi - lo;
    }
  }
  return total;
}

/** Pixels in both masks (inside `window` when given). */
export function intersectionArea(a: SpanMask, b: SpanMask, window?: Window): number {
  const y0 = Math.max(a.y0, b.y0, window ? window[1] : -Infinity);
  const y1 = Math.min(a.y0 + a.rows, b.y0 + b.rows, window ? window[3] : Infinity);
  let total = 0;
  const clip = window ? [window[0], window[2]] : undefined;
  for (let y = y0; y < y1; y++) {
    const ra = rowRuns(a, y);
    const rb = rowRuns(b, y);
    if (ra.length === 0 || rb.length === 0) continue;
    total += clip ? overlapLength(intersectRuns(ra, clip), rb) : overlapLength(ra, rb);
  }
  return total;
}

/** The runs in both sorted lists. */
function intersectRuns(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const lo = Math.max(a[i], b[j]);
    const hi = Math.min(a[i + 1], b[j + 1]);
    if (hi > lo) out.push(lo, hi);
    if (a[i + 1] < b[j + 1]) i += 2;
    else j += 2;
  }
  return out;
}

/** Sorted runs (pairs, possibly overlapping or touching) merged into disjoint ones. */
function mergeRuns(runs: number[]): number[] {
  if (runs.length <= 2) return runs;
  const pairs: [number, number][] = [];
  for (let i = 0; i < runs.length; i += 2) pairs.push([runs[i], runs[i + 1]]);
  pairs.sort((p, q) => p[0] - q[0]);
  const out: number[] = [pairs[0][0], pairs[0][1]];
  for (let k = 1; k < pairs.length; k++) {
    const [lo, hi] = pairs[k];
    if (lo <= out[out.length - 1]) out[out.length - 1] = Math.max(out[out.length - 1], hi);
    else out.push(lo, hi);
  }
  return out;
}

/** `m` restricted to `window`, or undefined when nothing is left. */
export function clipToWindow(m: SpanMask, window: Window): SpanMask | undefined {
  return clipToWindows(m, [window]);
}

/** `m` restricted to the union of `windows`, or undefined when nothing is left. */
export function clipToWindows(m: SpanMask, windows: readonly Window[]): SpanMask | undefined {
  const b = new SpanBuilder();
  for (let r = 0; r < m.rows; r++) {
    const y = m.y0 + r;
    const runs = m.xs.subarray(m.starts[r], m.starts[r + 1]);
    if (runs.length === 0) continue;
    const allowed: number[] = [];
    for (const w of windows) if (y >= w[1] && y < w[3]) allowed.push(w[0], w[2]);
    if (allowed.length === 0) continue;
    b.addRow(y, intersectRuns(runs, mergeRuns(allowed)));
  }
  return b.finish();
}

/** The union of `masks`, or undefined when all are empty. */
export function unionSpans(masks: readonly SpanMask[]): SpanMask | undefined {
  if (masks.length === 0) return undefined;
  if (masks.length === 1) return masks[0];
  // Sweep down the rows with the masks that cover each one (an object merged from
  // thousands of tiles has thousands of pieces, each only a tile high).
  const sorted = [...masks].sort((a, b) => a.y0 - b.y0);
  const b = new SpanBuilder();
  const runs: number[] = [];
  let active: SpanMask[] = [];
  let next = 0;
  let y = sorted[0].y0;
  while (next < sorted.length || active.length > 0) {
    if (active.length === 0 && sorted[next].y0 > y) y = sorted[next].y0;
    while (next < sorted.length && sorted[next].y0 <= y) active.push(sorted[next++]);
    runs.length = 0;
    for (const m of active) {
      const row = rowRuns(m, y);
      for (let i = 0; i < row.length; i++) runs.push(row[i]);
    }
    if (runs.length > 0) b.addRow(y, mergeRuns(runs));
    y++;
    active = active.filter((m) => m.y0 + m.rows > y);
  }
  return b.finish();
}

/** `m` without the pixels of `cut` (same frame), or undefined when nothing is left. */
export function subtractSpans(m: SpanMask, cut: SpanMask): SpanMask | undefined {
  const b = new SpanBuilder();
  for (let r = 0; r < m.rows; r++) {
    const y = m.y0 + r;
    const runs = m.xs.subarray(m.starts[r], m.starts[r + 1]);
    const holes = rowRuns(cut, y);
    if (holes.length === 0) {
      b.addRow(y, runs);
      continue;
    }
    const out: number[] = [];
    let j = 0;
    for (let i = 0; i < runs.length; i += 2) {
      let lo = runs[i];
      const hi = runs[i + 1];
      while (j < holes.length && holes[j + 1] <= lo) j += 2;
      let k = j;
      while (k < holes.length && holes[k] < hi) {
        if (holes[k] > lo) out.push(lo, holes[k]);
        lo = Math.max(lo, holes[k + 1]);
        k += 2;
      }
      if (lo < hi) out.push(lo, hi);
    }
    b.addRow(y, out);
  }
  return b.finish();
}

/** Shift a mask by (dx, dy). */
export function translateSpans(m: SpanMask, dx: number, dy: number): SpanMask {
  const xs = new Int32Array(m.xs.length);
  for (let i = 0; i < xs.length; i++) xs[i] = m.xs[i] + dx;
  return { y0: m.y0 + dy, rows: m.rows, starts: m.starts, xs };
}

/** The mask as a bitmap crop of its bounding box (for small masks and tests). */
export function spansToCrop(m: SpanMask): MaskCrop {
  const [x0, y0, x1, y1] = spanBounds(m);
  const width = x1 - x0;
  const height = y1 - y0;
  const data = new Uint8Array(width * height);
  forEachSpan(m, (y, a, b) => data.fill(1, (y - y0) * width + a - x0, (y - y0) * width + b - x0));
  return { x: x0, y: y0, width, height, data };
}
