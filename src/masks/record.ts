import type { Rle } from './rle.js';
import type { BoxXYWH } from './types.js';

/**
 * One mask of segment-everything, as the writers receive it. Field meanings follow SAM's
 * automatic mask generator output record.
 *
 * `bbox` uses the COCO convention, w = x_max - x_min + 1 on inclusive pixel indices (what
 * pycocotools' `toBbox` returns for `segmentation`). SAM's amg.py writes one pixel less.
 */
export interface MaskRecord {
  /** The mask at full image resolution. */
  readonly rle: Rle;
  /** Foreground pixel count. */
  readonly area: number;
  readonly bbox: BoxXYWH;
  readonly predictedIou: number;
  readonly stabilityScore: number;
  /** The grid point prompt(s) that produced the mask, in image pixels. */
  readonly pointCoords: ReadonlyArray<readonly [number, number]>;
  /** The crop the mask was found in, [x, y, w, h]; the whole image without crop layers. */
  readonly cropBox: BoxXYWH;
}
