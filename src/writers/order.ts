import type { MaskRecord } from '../masks/record.js';
import { rleArea } from '../masks/rle.js';

/**
 * The id of the mask at `index` in the record order: 1-based, so 0 stays free for
 * background in the label map. The same id is the JSON annotation `id`, the label-map
 * value, the `<id>.png` name in the masks folder and the GeoJSON feature id.
 */
export function maskId(index: number): number {
  return index + 1;
}

/**
 * Record indices in painting order for the label map and the overlay: larger masks first,
 * so where masks overlap the smaller one — painted later — wins and stays visible. Equal
 * areas paint the higher id first, so the tie goes to the lower id (the earlier record).
 */
export function paintOrder(records: readonly Pick<MaskRecord, 'rle'>[]): number[] {
  const areas = records.map((r) => rleArea(r.rle));
  return records.map((_, i) => i).sort((a, b) => areas[b] - areas[a] || b - a);
}

/** Throw unless every record's RLE covers a `width` x `height` image. */
export function checkRecordSizes(records: readonly Pick<MaskRecord, 'rle'>[], width: number, height: number): void {
  records.forEach((r, i) => {
    const [h, w] = r.rle.size;
    if (w !== width || h !== height) {
      throw new RangeError(`mask ${maskId(i)} is ${w}x${h} but the image is ${width}x${height}`);
    }
  });
}
