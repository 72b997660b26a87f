/**
 * Boxes as segment-everything uses them. Two conventions meet here, as in the reference:
 * mask boxes hold inclusive pixel indices [x_min, y_min, x_max, y_max], crop boxes an
 * exclusive end [x0, y0, x0 + w, y0 + h]. NMS measures both with torchvision's area
 * (x1 - x0) * (y1 - y0), so a one-pixel-wide mask box has area 0, exactly as in SAM.
 */
import type { BinaryMask, BoxXYWH } from '../masks/types.js';

/** [x0, y0, x1, y1]; see the module comment for which end is inclusive. */
export type Xyxy = [number, number, number, number];

/**
 * Inclusive box of the pixels where `logits > threshold` in a row-major `width` x `height`
 * map, or undefined when there are none.
 */
export function boundsAbove(logits: ArrayLike<number>, width: number, height: number, threshold = 0): Xyxy | undefined {
  let x0 = width;
  let y0 = -1;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let first = -1;
    let last = -1;
    for (let x = 0; x < width; x++) {
      if (logits[row + x] > threshold) {
        if (first < 0) first = x;
        last = x;
      }
    }
    if (first >= 0) {
      if (y0 < 0) y0 = y;
      y1 = y;
      if (first < x0) x0 = first;
      if (last > x1) x1 = last;
    }
  }
  return x1 < 0 ? undefined : [x0, y0, x1, y1];
}

/**
 * Inclusive box of the pixels where `logits > threshold`; [0, 0, 0, 0] when there are none,
 * as the reference's `batched_mask_to_box` returns.
 */
export function boxFromLogits(logits: ArrayLike<number>, width: number, height: number, threshold = 0): Xyxy {
  return boundsAbove(logits, width, height, threshold) ?? [0, 0, 0, 0];
}

/** Inclusive box of a binary mask's foreground; [0, 0, 0, 0] when empty. */
export function boxFromMask(mask: BinaryMask): Xyxy {
  return boxFromLogits(mask.data, mask.width, mask.height, 0);
}

/** torchvision's `box_area`: (x1 - x0) * (y1 - y0), negative sizes clamped to 0. */
export function boxArea(b: Readonly<Xyxy>): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

/**
 * torchvision's IoU of two boxes, except that identical boxes always have IoU 1. In
 * torchvision two zero-area boxes (a one-pixel-thin mask's, in the area convention above)
 * give 0 / 0 = NaN, which never exceeds an NMS threshold, so every grid point on a
 * one-pixel-wide object (or a 1x1 image) kept its own copy of the same mask. Different
 * zero-area boxes still give NaN, as in torchvision.
 */
export function boxIou(a: Readonly<Xyxy>, b: Readonly<Xyxy>): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  const union = boxArea(a) + boxArea(b) - inter;
  // Identical boxes with an area already give exactly 1 (inter is that area, and A + A - A
  // is exact), so the equality test is needed, and paid for in NMS's inner loop, only at 0/0.
  return union === 0 && a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3] ? 1 : inter / union;
}

/** [x, y, w, h] from an exclusive-end box (crop boxes): w = x1 - x0. */
export function xyxyToXywh(b: Readonly<Xyxy>): BoxXYWH {
  return [b[0], b[1], b[2] - b[0], b[3] - b[1]];
}

/**
 * COCO [x, y, w, h] from an inclusive mask box: w = x_max - x_min + 1, what pycocotools'
 * `toBbox` gives (SAM's amg.py writes one less). An empty box stays [0, 0, 0, 0].
 */
export function inclusiveToCocoXywh(b: Readonly<Xyxy> | undefined): BoxXYWH {
  if (!b) return [0, 0, 0, 0];
  return [b[0], b[1], b[2] - b[0] + 1, b[3] - b[1] + 1];
}

/**
 * Map an inclusive box found on a mask rendered at `from` to the pixels of a `to`-sized
 * frame of the same scene. Each low-resolution cell stands for its footprint of
 * to/from pixels, and a bilinear upsampling puts the edge near the footprint's edge, so the
 * box spans the footprints of its first and last cells. (The upsampled mask can differ by
 * a fraction of a cell; docs/everything-algorithm.md gives the measured effect on NMS.)
 */
export function scaleInclusiveBox(
  b: Readonly<Xyxy>,
  from: { readonly width: number; readonly height: number },
  to: { readonly width: number; readonly height: number },
): Xyxy {
  if (from.width === to.width && from.height === to.height) return [b[0], b[1], b[2], b[3]];
  const sx = to.width / from.width;
  const sy = to.height / from.height;
  const clampX = (v: number) => Math.min(to.width - 1, Math.max(0, v));
  const clampY = (v: number) => Math.min(to.height - 1, Math.max(0, v));
  return [
    clampX(Math.round(b[0] * sx)),
    clampY(Math.round(b[1] * sy)),
    clampX(Math.round((b[2] + 1) * sx) - 1),
    clampY(Math.round((b[3] + 1) * sy) - 1),
  ];
}
