/**
 * The last steps every segment-everything run shares, whatever found its masks (the
 * reference's grid of prompts or FastSAM's single pass): small-region clean-up, the area
 * filters and the record order. They work on full-resolution RLEs.
 */
import type { MaskRecord } from '../masks/record.js';
import { type Rle, rleArea, rleBoundsInclusive } from '../masks/rle.js';
import { type AreaLimit, areaKeepFlags, resolveAreaLimit } from './area.js';
import type { Xyxy } from './boxes.js';
import { nms } from './nms.js';
import type { RecordOrder } from './options.js';
import { cleanSmallRegions } from './regions.js';

/** What small-region clean-up made of a set of masks. */
export interface CleanedMasks {
  /** Every mask, cleaned (same order as given). */
  readonly rles: Rle[];
  /** Inclusive box of each cleaned mask ([0, 0, 0, 0] when it became empty). */
  readonly boxes: Xyxy[];
  /** Indices of the masks to keep, by the NMS that follows the clean-up. */
  readonly keep: number[];
}

/**
 * The reference's `postprocess_small_regions`: fill holes and drop islands smaller than
 * `minRegionArea` in every mask, then NMS at `nmsThresh` on the new boxes with unchanged
 * masks scoring 1 and changed ones 0, so an unchanged mask wins. `beforeEach` runs before
 * each mask (a cancellation check).
 */
export function cleanUpSmallRegions(rles: readonly Rle[], minRegionArea: number, nmsThresh: number, beforeEach?: () => void): CleanedMasks {
  const cleaned: Rle[] = [];
  const scores: number[] = [];
  const boxes: Xyxy[] = [];
  for (const rle of rles) {
    beforeEach?.();
    const r = cleanSmallRegions(rle, minRegionArea);
    cleaned.push(r.rle);
    scores.push(r.changed ? 0 : 1);
    boxes.push(rleBoundsInclusive(r.rle) ?? [0, 0, 0, 0]);
  }
  return { rles: cleaned, boxes, keep: nms(boxes, scores, nmsThresh) };
}

/**
 * Which masks pass the min/max area filters (limits in pixels or as a fraction of
 * `imageArea`); undefined when neither limit is set.
 */
export function areaFilter(rles: readonly Rle[], imageArea: number, minArea: AreaLimit | null, maxArea: AreaLimit | null): boolean[] | undefined {
  if (!minArea && !maxArea) return undefined;
  return areaKeepFlags(
    rles.map((r) => rleArea(r)),
    minArea ? resolveAreaLimit(minArea, imageArea) : undefined,
    maxArea ? resolveAreaLimit(maxArea, imageArea) : undefined,
  );
}

/** `records` in the asked order: as found ('reference') or by area, largest first (stable). */
export function orderRecords(records: MaskRecord[], order: RecordOrder): MaskRecord[] {
  if (order === 'area') records.sort((a, b) => b.area - a.area);
  return records;
}
