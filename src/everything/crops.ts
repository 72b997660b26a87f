/**
 * Crop layers (the reference's `generate_crop_boxes` and friends). Layer 0 is the whole
 * image; layer i tiles it with 2^i x 2^i overlapping crops, each encoded on its own so small
 * objects get more of the encoder's 1024 px. Crop boxes use an exclusive end, mask boxes
 * inclusive indices (see boxes.ts).
 */
import type { RgbImage } from '../image/types.js';
import type { Xyxy } from './boxes.js';

/** One crop: its box in image pixels (exclusive end) and the layer it belongs to. */
export interface CropBox {
  readonly box: Xyxy;
  readonly layer: number;
}

/** The reference's tolerance for "touches a crop edge", in pixels. */
export const CROP_EDGE_TOLERANCE = 20;

/**
 * Crop boxes for layers 0..layers in the reference's order: the whole image, then per layer
 * the crops column by column (x outer, y inner). Overlap and side follow amg.py's integer
 * truncation and ceiling exactly, so crop boxes match the reference pixel for pixel.
 */
export function generateCropBoxes(width: number, height: number, layers: number, overlapRatio: number): CropBox[] {
  const out: CropBox[] = [{ box: [0, 0, width, height], layer: 0 }];
  const shortSide = Math.min(width, height);
  const cropLen = (orig: number, n: number, overlap: number) => Math.ceil((overlap * (n - 1) + orig) / n);
  for (let i = 0; i < layers; i++) {
    const n = 2 ** (i + 1);
    const overlap = Math.trunc(overlapRatio * shortSide * (2 / n));
    const cw = cropLen(width, n, overlap);
    const ch = cropLen(height, n, overlap);
    const xs: number[] = [];
    const ys: number[] = [];
    for (let k = 0; k < n; k++) {
      xs.push(Math.trunc((cw - overlap) * k));
      ys.push(Math.trunc((ch - overlap) * k));
    }
    for (const x0 of xs) {
      for (const y0 of ys) {
        out.push({ box: [x0, y0, Math.min(x0 + cw, width), Math.min(y0 + ch, height)], layer: i + 1 });
      }
    }
  }
  return out;
}

/** Shift a box found in a crop's frame into the image's frame. */
export function uncropBox(box: Readonly<Xyxy>, crop: Readonly<Xyxy>): Xyxy {
  return [box[0] + crop[0], box[1] + crop[1], box[2] + crop[0], box[3] + crop[1]];
}

/** Shift a point found in a crop's frame into the image's frame. */
export function uncropPoint(p: readonly [number, number], crop: Readonly<Xyxy>): [number, number] {
  return [p[0] + crop[0], p[1] + crop[1]];
}

/**
 * Whether a mask box (inclusive, in the crop's frame) comes within `tolerance` px of an edge
 * of its crop that is not also an edge of the image: such a mask is probably cut off by the
 * crop, and another crop (or the whole image) sees it whole. Compared coordinate by
 * coordinate against the crop box as the reference does (its `isclose`, inclusive).
 */
export function isBoxNearCropEdge(
  box: Readonly<Xyxy>,
  crop: Readonly<Xyxy>,
  image: Readonly<Xyxy>,
  tolerance: number = CROP_EDGE_TOLERANCE,
): boolean {
  const b = uncropBox(box, crop);
  for (let k = 0; k < 4; k++) {
    const nearCrop = Math.abs(b[k] - crop[k]) <= tolerance;
    const nearImage = Math.abs(b[k] - image[k]) <= tolerance;
    if (nearCrop && !nearImage) return true;
  }
  return false;
}

/** Copy a crop (exclusive-end box) out of an image, to encode it on its own. */
export function cropRgb(image: RgbImage, crop: Readonly<Xyxy>): RgbImage {
  const [x0, y0, x1, y1] = crop;
  if (x0 === 0 && y0 === 0 && x1 === image.width && y1 === image.height) return image;
  const w = x1 - x0;
  const h = y1 - y0;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const src = ((y + y0) * image.width + x0) * 3;
    data.set(image.data.subarray(src, src + w * 3), y * w * 3);
  }
  return { width: w, height: h, data };
}
