import type { Rle } from '../masks/rle.js';
import { rleArea, rleBoundsInclusive } from '../masks/rle.js';
import type { BoxXYWH } from '../masks/types.js';

/**
 * The bbox written to every JSON output: [x, y, w, h] in the COCO convention,
 * w = x_max - x_min + 1 on inclusive pixel indices (what pycocotools' `toBbox` returns for
 * the same RLE; SAM's amg.py writes one pixel less). [0, 0, 0, 0] for an empty mask.
 *
 * Writers compute it from the RLE they write rather than trusting a field computed
 * elsewhere, so a file's bbox always agrees with its own segmentation.
 */
export function cocoBbox(rle: Rle): BoxXYWH {
  const b = rleBoundsInclusive(rle);
  return b ? [b[0], b[1], b[2] - b[0] + 1, b[3] - b[1] + 1] : [0, 0, 0, 0];
}

/** Bbox and area of an RLE mask, as written in the JSON outputs. */
export function maskStats(rle: Rle): { bbox: BoxXYWH; area: number } {
  return { bbox: cocoBbox(rle), area: rleArea(rle) };
}
