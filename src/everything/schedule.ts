/**
 * Which grid points of a crop segment-everything decodes, and in what order: the seam
 * between the generator (filters, NMS, rendering) and a point schedule. The reference
 * decodes every point in grid order (fullGridSchedule); the fast mode's schedule
 * (fast-schedule.ts) skips points already inside a confident mask.
 */
import type { DecodedMasks } from '../families/types.js';
import type { LogitWindow } from '../masks/resize.js';
import type { Xyxy } from './boxes.js';

/** One grid point to decode: its index in the crop's grid and its position in crop pixels. */
export interface ScheduledPoint {
  readonly index: number;
  readonly x: number;
  readonly y: number;
}

/**
 * A candidate that passed the confidence filters (predicted IoU and stability), as a
 * schedule sees it (crop pixels).
 */
export interface AcceptedCandidate {
  readonly box: Readonly<Xyxy>;
  readonly predIou: number;
  readonly point: readonly [number, number];
  /** The grid point it answers (index into the crop's grid). */
  readonly pointIndex: number;
  /** Which of the decoder's masks for that point. */
  readonly maskIndex: number;
  /**
   * Its logits around the mask at render resolution, signs exact: what the final mask is
   * rendered from. Only valid during the `accepted` call (past the memory budget it is a
   * temporary copy).
   */
  readonly mask: LogitWindow;
  /**
   * The crop-edge filter then dropped it: a confident mask cut by an inner crop edge, which
   * reaches no output (another crop sees the whole object) but still tells the schedule
   * what the decoder answers around here.
   */
  readonly nearCropEdge: boolean;
}

/**
 * Which grid points of one crop are decoded, batch by batch. The default decodes every point
 * in grid order. This is the seam for a faster mode: a schedule that sees each batch's
 * accepted candidates can skip later points already inside a confident mask, without
 * touching the filters, NMS or rendering (see fast-schedule.ts).
 */
export interface PointSchedule {
  /** The next batch, or undefined when the crop is done. */
  next(): readonly ScheduledPoint[] | undefined;
  /** Every decoder answer of the batch as it arrives, before any filter (logits at render size). */
  decoded?(point: ScheduledPoint, masks: DecodedMasks): void;
  /** Candidates of the last batch that passed the confidence filters (boxes in crop pixels). */
  accepted?(candidates: readonly AcceptedCandidate[]): void;
  /** Grid points decided against so far; they count as done for progress. */
  skipped?(): number;
}

/** The reference's schedule: all points, in grid order, `batchSize` at a time. */
export function fullGridSchedule(points: Float64Array, batchSize: number): PointSchedule {
  let next = 0;
  const count = points.length / 2;
  return {
    next() {
      if (next >= count) return undefined;
      const batch: ScheduledPoint[] = [];
      for (const end = Math.min(count, next + batchSize); next < end; next++) {
        batch.push({ index: next, x: points[2 * next], y: points[2 * next + 1] });
      }
      return batch;
    },
  };
}
