import type { RgbImage } from '../image/types.js';
import { rleToCrop } from '../masks/crop.js';
import { maskOutline } from '../masks/outline.js';
import type { MaskRecord } from '../masks/record.js';
import { blendCrop, canvasFrom, defaultOutlineWidth, distinctColour } from './draw.js';
import type { WriteOptions } from './files.js';
import { checkRecordSizes, maskId, paintOrder } from './order.js';
import { writePng } from './png.js';

/** Opacity of each mask's fill in the `everything` overlay. */
export const EVERYTHING_MASK_ALPHA = 0.5;

export interface OverlayOptions {
  /** Outline width in pixels; default grows with the image size. */
  readonly outlineWidth?: number;
}

/**
 * The `everything` overlay: every mask blended over the image in its own colour
 * ({@link distinctColour} of its id) at {@link EVERYTHING_MASK_ALPHA}, with its inner
 * outline in the same colour, opaque. Masks are painted in the label map's order (larger
 * first), so small objects on top of large ones stay visible.
 *
 * Only one mask is decoded at a time, and only its bounding box.
 */
export function renderEverythingOverlay(
  image: RgbImage,
  records: readonly MaskRecord[],
  options: OverlayOptions = {},
): RgbImage {
  checkRecordSizes(records, image.width, image.height);
  const canvas = canvasFrom(image);
  const line = options.outlineWidth ?? defaultOutlineWidth(image.width, image.height);
  for (const index of paintOrder(records)) {
    const crop = rleToCrop(records[index].rle);
    if (!crop) continue;
    const colour = distinctColour(maskId(index));
    blendCrop(canvas, crop, colour, EVERYTHING_MASK_ALPHA);
    blendCrop(canvas, crop, colour, 1, maskOutline(crop, line));
  }
  return canvas;
}

/** Render the `everything` overlay and write it as an RGB PNG to `path`. */
export async function writeEverythingOverlay(
  path: string,
  image: RgbImage,
  records: readonly MaskRecord[],
  options: OverlayOptions & WriteOptions = {},
): Promise<void> {
  const overlay = renderEverythingOverlay(image, records, options);
  await writePng(path, { ...overlay, channels: 3 }, options);
}
