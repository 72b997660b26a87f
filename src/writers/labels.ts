import { forEachForegroundSpan } from '../masks/crop.js';
import type { MaskRecord } from '../masks/record.js';
import type { WriteOptions } from './files.js';
import { checkRecordSizes, maskId, paintOrder } from './order.js';
import { writePng } from './png.js';

/** Most masks a label map can hold: 16-bit samples, 0 reserved for background. */
export const MAX_LABELS = 65535;

/** A label map: one integer per pixel, 0 background, mask id elsewhere. */
export interface LabelMap {
  readonly width: number;
  readonly height: number;
  /** 8 when there are at most 255 masks, else 16. */
  readonly bits: 8 | 16;
  /** Row-major, `width * height` samples. */
  readonly data: Uint8Array | Uint16Array;
}

/**
 * Paint the label map straight from the RLE runs, without decoding any mask: each pixel
 * gets the id ({@link maskId}: 1 + record index, the JSON annotation id) of the mask that
 * wins there, 0 where no mask covers it. Overlaps follow {@link paintOrder}: the smaller
 * mask wins, ties go to the lower id.
 */
export function renderLabelMap(width: number, height: number, records: readonly MaskRecord[]): LabelMap {
  checkRecordSizes(records, width, height);
  if (records.length > MAX_LABELS) {
    throw new RangeError(`${records.length} masks do not fit a 16-bit label map (at most ${MAX_LABELS})`);
  }
  const bits = records.length <= 255 ? 8 : 16;
  const data = bits === 8 ? new Uint8Array(width * height) : new Uint16Array(width * height);
  for (const index of paintOrder(records)) {
    const id = maskId(index);
    forEachForegroundSpan(records[index].rle, (x, y, length) => {
      for (let o = y * width + x, end = o + length * width; o < end; o += width) data[o] = id;
    });
  }
  return { width, height, bits, data };
}

/** Render the label map and write it as a one-channel PNG (8- or 16-bit) to `path`. */
export async function writeLabelMap(
  path: string,
  width: number,
  height: number,
  records: readonly MaskRecord[],
  options: WriteOptions = {},
): Promise<void> {
  const map = renderLabelMap(width, height, records);
  await writePng(path, { width, height, channels: 1, data: map.data }, options);
}
