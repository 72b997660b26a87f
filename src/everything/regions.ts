/**
 * Small-region clean-up (the reference's `remove_small_regions`): fill background holes and
 * drop foreground islands smaller than an area, both with 8-connectivity.
 *
 * It works on the column-major RLE directly: each run, split at column ends, is a vertical
 * segment, and two segments of the same value in neighbouring columns are 8-connected when
 * their row ranges overlap or touch diagonally. Labelling segments costs the number of runs,
 * not the number of pixels, so a 12 MP mask is never expanded to bytes.
 */
import type { Rle } from '../masks/rle.js';

/** Which pixels' components are examined: background ('holes') or foreground ('islands'). */
export type RegionMode = 'holes' | 'islands';

/** A mask after clean-up, and whether the reference would count it as changed. */
export interface RegionResult {
  readonly rle: Rle;
  /**
   * True when a small region was found. Like the reference, a mask whose islands are all
   * small keeps its largest one and still counts as changed, even when that was its only
   * island.
   */
  readonly changed: boolean;
}

interface Segments {
  readonly h: number;
  readonly w: number;
  /** Column of each segment. */
  readonly col: Int32Array;
  /** First row (inclusive) and end row (exclusive). */
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly value: Uint8Array;
  /** colFirst[x]..colFirst[x+1]-1 are column x's segments, top to bottom. */
  readonly colFirst: Int32Array;
}

function toSegments(rle: Rle): Segments {
  const [h, w] = rle.size;
  const cap = rle.counts.length + w + 1;
  const col = new Int32Array(cap);
  const start = new Int32Array(cap);
  const end = new Int32Array(cap);
  const value = new Uint8Array(cap);
  const colFirst = new Int32Array(w + 1);
  let n = 0;
  let pos = 0;
  let lastCol = -1;
  for (let i = 0; i < rle.counts.length; i++) {
    let len = rle.counts[i];
    const v = i & 1;
    while (len > 0) {
      const x = Math.floor(pos / h);
      const y = pos - x * h;
      const take = Math.min(len, h - y);
      while (lastCol < x) colFirst[++lastCol] = n;
      // Zero-length runs in the input would leave two same-valued segments back to back.
      if (n > 0 && col[n - 1] === x && value[n - 1] === v && end[n - 1] === y) {
        end[n - 1] = y + take;
      } else {
        col[n] = x;
        start[n] = y;
        end[n] = y + take;
        value[n] = v;
        n++;
      }
      pos += take;
      len -= take;
    }
  }
  if (pos !== h * w) throw new Error(`RLE covers ${pos} pixels, expected ${h * w} (${h}x${w})`);
  while (lastCol < w) colFirst[++lastCol] = n;
  return { h, w, col: col.subarray(0, n), start: start.subarray(0, n), end: end.subarray(0, n), value: value.subarray(0, n), colFirst };
}

function find(parent: Int32Array, i: number): number {
  while (parent[i] !== i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

/** Union-find labels of the 8-connected components of `target`-valued segments. */
function label(seg: Segments, target: number): Int32Array {
  const n = seg.col.length;
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  for (let x = 0; x + 1 < seg.w; x++) {
    let j = seg.colFirst[x + 1];
    const jEnd = seg.colFirst[x + 2];
    for (let i = seg.colFirst[x]; i < seg.colFirst[x + 1]; i++) {
      if (seg.value[i] !== target) continue;
      const a0 = seg.start[i];
      const a1 = seg.end[i];
      // First segment of the next column reaching row a0 - 1 (diagonal contact included);
      // it only moves down as i does.
      while (j < jEnd && seg.end[j] < a0) j++;
      for (let k = j; k < jEnd && seg.start[k] <= a1; k++) {
        if (seg.value[k] !== target) continue;
        const ra = find(parent, i);
        const rb = find(parent, k);
        if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
      }
    }
  }
  for (let i = 0; i < n; i++) parent[i] = find(parent, i);
  return parent;
}

function fromSegments(seg: Segments, value: Uint8Array): Rle {
  const counts: number[] = [];
  let current = 0;
  let run = 0;
  for (let i = 0; i < seg.col.length; i++) {
    const len = seg.end[i] - seg.start[i];
    if (value[i] !== current) {
      counts.push(run);
      run = 0;
      current = value[i];
    }
    run += len;
  }
  counts.push(run);
  return { size: [seg.h, seg.w], counts: Uint32Array.from(counts) };
}

/**
 * One pass of the reference's clean-up. 'holes' fills every background component smaller
 * than `areaThreshold` pixels (including ones touching the image border, as cv2 labels
 * them); 'islands' removes every foreground component smaller than it, keeping the largest
 * (the first in raster order on ties) when all are small.
 */
export function removeSmallRegions(rle: Rle, areaThreshold: number, mode: RegionMode): RegionResult {
  const target = mode === 'holes' ? 0 : 1;
  const seg = toSegments(rle);
  const n = seg.col.length;
  const root = label(seg, target);
  const size = new Float64Array(n);
  // Raster-order (row-major) position of each component's first pixel, for cv2's tie order.
  const first = new Float64Array(n).fill(Infinity);
  for (let i = 0; i < n; i++) {
    if (seg.value[i] !== target) continue;
    const r = root[i];
    size[r] += seg.end[i] - seg.start[i];
    const key = seg.start[i] * seg.w + seg.col[i];
    if (key < first[r]) first[r] = key;
  }
  let anySmall = false;
  let anyLarge = false;
  let largest = -1;
  for (let i = 0; i < n; i++) {
    if (seg.value[i] !== target || root[i] !== i) continue;
    if (size[i] < areaThreshold) anySmall = true;
    else anyLarge = true;
    if (largest < 0 || size[i] > size[largest] || (size[i] === size[largest] && first[i] < first[largest])) largest = i;
  }
  if (!anySmall) return { rle, changed: false };
  const out = Uint8Array.from(seg.value);
  for (let i = 0; i < n; i++) {
    if (seg.value[i] !== target) continue;
    const r = root[i];
    const small = size[r] < areaThreshold;
    if (mode === 'holes') {
      if (small) out[i] = 1;
    } else if (small && (anyLarge || r !== largest)) {
      out[i] = 0;
    }
  }
  return { rle: fromSegments(seg, out), changed: true };
}

/**
 * The reference's clean-up of one mask: holes first, then islands, at the same area; changed
 * when either pass found a small region.
 */
export function cleanSmallRegions(rle: Rle, minRegionArea: number): RegionResult {
  const holes = removeSmallRegions(rle, minRegionArea, 'holes');
  const islands = removeSmallRegions(holes.rle, minRegionArea, 'islands');
  return { rle: islands.rle, changed: holes.changed || islands.changed };
}
