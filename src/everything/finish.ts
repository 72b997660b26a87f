/**
 * The last steps every segment-everything run shares, whatever found its masks (the
 * reference's grid of prompts or FastSAM's single pass): small-region clean-up, the area
 * filters and the record order. They work on full-resolution RLEs.
 */
import type { Size } from '../families/types.js';
import type { MaskRecord } from '../masks/record.js';
import { type Rle, rleArea, rleBoundsInclusive } from '../masks/rle.js';
import { type AreaLimit, areaKeepFlags, resolveAreaLimit } from './area.js';
import { inclusiveToCocoXywh, type Xyxy } from './boxes.js';
import type { MaskData } from './mask-data.js';
import { nms } from './nms.js';
import type { EverythingOptions, RecordOrder } from './options.js';
import { cleanSmallRegions } from './regions.js';

/** The counts and time the finishing steps report (both kinds of everything run keep them). */
export interface FinishStats {
  readonly counts: { afterRegionCleanup: number; afterArea: number };
  /** cleanupMs: small-region clean-up and the area filters. */
  readonly timings: { cleanupMs: number };
}

/**
 * The finishing steps, in order, on the full-resolution masks of `data`: small-region
 * clean-up when `minRegionArea` > 0 (its NMS at `nmsThresh`), the area filters, one record
 * per mask and the record order. `describe` gives the fields only the caller knows (scores,
 * prompt point, crop box). Fills `stats`; `beforeEach` runs before each mask's clean-up (a
 * cancellation check).
 */
export function finishRecords<R extends { rle: Rle | null }>(
  data: MaskData<R>,
  image: Size,
  options: Pick<EverythingOptions, 'minRegionArea' | 'minArea' | 'maxArea' | 'order'>,
  nmsThresh: number,
  describe: (row: R) => Pick<MaskRecord, 'predictedIou' | 'stabilityScore' | 'pointCoords' | 'cropBox'>,
  stats: FinishStats,
  beforeEach?: () => void,
): MaskRecord[] {
  const rles = () => data.get('rle') as readonly Rle[];
  const t = performance.now();
  if (options.minRegionArea > 0) {
    const cleaned = cleanUpSmallRegions(rles(), options.minRegionArea, nmsThresh, beforeEach);
    data.set('rle', cleaned.rles as R['rle'][]);
    data.filter(cleaned.keep);
  }
  stats.counts.afterRegionCleanup = data.length;
  const keep = areaFilter(rles(), image.width * image.height, options.minArea, options.maxArea);
  if (keep) data.filter(keep);
  stats.counts.afterArea = data.length;
  stats.timings.cleanupMs += performance.now() - t;

  const records: MaskRecord[] = [];
  for (let i = 0; i < data.length; i++) {
    const row = data.row(i);
    const rle = row.rle as Rle;
    records.push({ rle, area: rleArea(rle), bbox: inclusiveToCocoXywh(rleBoundsInclusive(rle)), ...describe(row) });
  }
  return orderRecords(records, options.order);
}

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
