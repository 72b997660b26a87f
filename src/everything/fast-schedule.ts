/**
 * The fast segment-everything mode's point schedule: the same grid as the reference, visited
 * coarse to fine, where a grid point is not decoded when it already lies inside the
 * finest-granularity mask another point was given with confidence.
 *
 * The rule, per decoded point: of its candidates that pass the confidence filters (predicted
 * IoU and stability; a mask the crop-edge filter drops still counts, since every point inside
 * it in this crop would be answered with the same cut mask), take the smallest. Every grid
 * point not yet decoded whose pixel lies inside that mask, as it would be rendered, is
 * skipped. Two cases spare nothing: no candidate passed, or the one that is smallest is also
 * the point's largest candidate while the decoder offered smaller ones.
 *
 * Why the finest mask only: a decoder offers sub-part, part and whole for one click. A point
 * inside another point's *whole* (a shirt inside a person) would get its own, smaller answers,
 * which are masks the reference keeps; a point inside another point's *finest* confident mask
 * would most likely be answered with that same mask again (plus the larger ones it lies in,
 * which the first point was offered too). So only the smallest confident candidate of a point
 * suppresses anything; its larger candidates never do. And when only the whole passed, the
 * decoder was unsure of the finer structure there, so nothing is skipped on its word.
 *
 * Why coarse to fine: every region is then first reached by a point well inside it (a coarse
 * grid point) rather than by the row-major scan's first point along its top edge, where
 * answers are least reliable; the fine points left undecoded are those the coarse answers
 * already covered.
 *
 * Nothing here looks at pixels or colours: the decision uses only the decoder's logits and
 * the generator's filters, so any model (and any crop) goes through it the same way.
 */
import type { DecodedMasks, Size } from '../families/types.js';
import type { LogitWindow } from '../masks/resize.js';
import type { AcceptedCandidate, PointSchedule, ScheduledPoint } from './schedule.js';

/**
 * Order in which the fast schedule visits an n x n grid (indices into the row-major grid):
 * level by level, the points whose column and row are both `offset` mod `stride`, strides
 * halving from the largest power of two that still leaves 4 points per side down to 1, each
 * level in row-major order and every point exactly once. Offsets are half a stride, so each
 * coarse point sits near the centre of its stride x stride block of fine cells.
 */
export function coarseToFineOrder(n: number): Int32Array {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`coarseToFineOrder needs a positive integer side, got ${n}`);
  const order = new Int32Array(n * n);
  const seen = new Uint8Array(n * n);
  let k = 0;
  let stride = 1;
  while (stride * 2 * 4 <= n) stride *= 2;
  for (; stride >= 1; stride /= 2) {
    const offset = Math.floor(stride / 2);
    for (let row = offset; row < n; row += stride) {
      for (let col = offset; col < n; col += stride) {
        const i = row * n + col;
        if (seen[i]) continue;
        seen[i] = 1;
        order[k++] = i;
      }
    }
  }
  // stride 1 with offset 0 visits every remaining point, so k === n * n here.
  return order;
}

/**
 * Whether the full-resolution pixel under (x, y) of an `outWidth` x `outHeight` frame is
 * foreground in the bilinear upsampling of `win`, with the arithmetic of
 * {@link upsampleLogitWindow} (torch's align_corners=False), so the answer is the rendered
 * mask's own pixel. A pixel whose interpolation reaches outside the window is background: the
 * window holds the mask's box plus one cell, so any such pixel has no positive corner.
 */
export function windowContains(win: LogitWindow, outWidth: number, outHeight: number, x: number, y: number): boolean {
  if (win.width === 0 || win.height === 0) return false;
  const px = Math.min(outWidth - 1, Math.max(0, Math.floor(x)));
  const py = Math.min(outHeight - 1, Math.max(0, Math.floor(y)));
  const axis = (o: number, outLen: number, inLen: number) => {
    const s = Math.max(0, (inLen / outLen) * (o + 0.5) - 0.5);
    const lo = Math.min(Math.floor(s), inLen - 1);
    const hi = lo < inLen - 1 ? lo + 1 : lo;
    return { lo, hi, w: s - lo };
  };
  const ax = axis(px, outWidth, win.frameWidth);
  const ay = axis(py, outHeight, win.frameHeight);
  const x0 = ax.lo - win.x;
  const x1 = ax.hi - win.x;
  const y0 = ay.lo - win.y;
  const y1 = ay.hi - win.y;
  if (x0 < 0 || y0 < 0 || x1 >= win.width || y1 >= win.height) return false;
  const L = win.data;
  const top = (1 - ax.w) * L[y0 * win.width + x0] + ax.w * L[y0 * win.width + x1];
  const bottom = (1 - ax.w) * L[y1 * win.width + x0] + ax.w * L[y1 * win.width + x1];
  return (1 - ay.w) * top + ay.w * bottom > 0;
}

/**
 * Positive cells of a logit map or window: a candidate's size at render resolution, enough to
 * rank one point's candidates. A stored window counts the same as the render it came from
 * (quantisation keeps signs, and cells outside the window are not positive).
 */
function positiveCells(logits: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < logits.length; i++) if (logits[i] > 0) n++;
  return n;
}

const PENDING = 0;
const DECODED = 1;
const SKIPPED = 2;

/**
 * The fast mode's schedule for one crop: `points` are the crop's grid (interleaved x, y in
 * crop pixels, an n x n grid in row-major order) and `frame` the crop's size. Points go out
 * one at a time, so every decoder run's accepted candidates can spare the points after it;
 * runs are one prompt each and sequential anyway, so single-point batches cost nothing.
 */
export function fastSchedule(points: Float64Array, frame: Size): PointSchedule {
  const count = points.length / 2;
  const n = Math.round(Math.sqrt(count));
  // Any other point list (not a square grid) is visited in its own order.
  const order = n * n === count ? coarseToFineOrder(n) : Int32Array.from({ length: count }, (_, i) => i);
  /** Per decoded point: its smallest and largest candidate, in positive render cells. */
  const range = new Map<number, { min: number; max: number }>();
  const status = new Uint8Array(count);
  let cursor = 0;
  let skipped = 0;

  const suppressBy = (mask: LogitWindow, box: Readonly<[number, number, number, number]>, owner: number) => {
    for (let i = 0; i < count; i++) {
      if (status[i] !== PENDING || i === owner) continue;
      const x = points[2 * i];
      const y = points[2 * i + 1];
      const fx = Math.floor(x);
      const fy = Math.floor(y);
      if (fx < box[0] || fx > box[2] || fy < box[1] || fy > box[3]) continue;
      if (windowContains(mask, frame.width, frame.height, x, y)) {
        status[i] = SKIPPED;
        skipped++;
      }
    }
  };

  return {
    next(): readonly ScheduledPoint[] | undefined {
      while (cursor < count && status[order[cursor]] !== PENDING) cursor++;
      if (cursor >= count) return undefined;
      const i = order[cursor++];
      status[i] = DECODED;
      return [{ index: i, x: points[2 * i], y: points[2 * i + 1] }];
    },
    decoded(point: ScheduledPoint, masks: DecodedMasks): void {
      let min = Infinity;
      let max = -Infinity;
      for (const m of masks.candidates) {
        const k = positiveCells(masks.logits[m]);
        if (k < min) min = k;
        if (k > max) max = k;
      }
      range.set(point.index, { min, max });
    },
    accepted(candidates: readonly AcceptedCandidate[]): void {
      // The finest accepted candidate of each point; ties go to the decoder's earlier mask,
      // so the choice never depends on anything but the decoder's output.
      const finest = new Map<number, { c: AcceptedCandidate; size: number }>();
      for (const c of candidates) {
        const size = positiveCells(c.mask.data);
        const best = finest.get(c.pointIndex);
        if (!best || size < best.size || (size === best.size && c.maskIndex < best.c.maskIndex)) finest.set(c.pointIndex, { c, size });
      }
      for (const [owner, { c, size }] of finest) {
        const r = range.get(owner) ?? { min: size, max: size };
        if (size === 0) continue;
        // Confident only about its largest answer while finer ones were offered: the decoder
        // is unsure of the structure here, and the points around may have parts of their own.
        if (size === r.max && r.min < r.max) continue;
        suppressBy(c.mask, c.box, owner);
      }
      range.clear();
    },
    skipped: () => skipped,
  };
}
