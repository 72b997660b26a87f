import type { MaskRecord } from '../masks/record.js';
import { toCocoRle, type CocoRle } from '../masks/rle.js';
import type { BoxXYWH } from '../masks/types.js';
import { writeOutputFile, type WriteOptions } from './files.js';
import { maskStats } from './mask-stats.js';
import { checkRecordSizes, maskId } from './order.js';

/** The `image` object of the per-image JSON outputs (SA-1B layout). */
export interface ImageJson {
  /** Caller-chosen id; the CLI's default is the input's file stem. */
  image_id: number | string;
  width: number;
  height: number;
  /** The input's path relative to the walked folder, or its file name. */
  file_name: string;
}

/** One annotation of the `json` output, in SA-1B's field names and order. */
export interface Sa1bAnnotation {
  /** 1-based; equals the label-map value and the masks-folder file name. */
  id: number;
  /** COCO compressed RLE over the full image. */
  segmentation: CocoRle;
  /** [x, y, w, h], COCO convention: w = x_max - x_min + 1. */
  bbox: BoxXYWH;
  area: number;
  predicted_iou: number;
  stability_score: number;
  point_coords: [number, number][];
  crop_box: BoxXYWH;
}

/** The `json` output of `samlite everything`: one file per image, SA-1B layout. */
export interface Sa1bDocument {
  image: ImageJson;
  annotations: Sa1bAnnotation[];
}

/** One record as an SA-1B annotation (bbox and area recomputed from its RLE). */
export function sa1bAnnotation(record: MaskRecord, index: number): Sa1bAnnotation {
  const { bbox, area } = maskStats(record.rle);
  return {
    id: maskId(index),
    segmentation: toCocoRle(record.rle),
    bbox,
    area,
    predicted_iou: record.predictedIou,
    stability_score: record.stabilityScore,
    point_coords: record.pointCoords.map(([x, y]) => [x, y]),
    crop_box: [...record.cropBox],
  };
}

/** The SA-1B style document for one image's masks, annotations in record order. */
export function sa1bDocument(image: ImageJson, records: readonly MaskRecord[]): Sa1bDocument {
  checkRecordSizes(records, image.width, image.height);
  return { image: { ...image }, annotations: records.map(sa1bAnnotation) };
}

/**
 * Write the SA-1B style JSON for one image to `path` (atomically, one line). Each
 * annotation's RLE string is built as the line is assembled; only the short strings are
 * held, never decoded masks.
 */
export async function writeSa1bJson(
  path: string,
  image: ImageJson,
  records: readonly MaskRecord[],
  options: WriteOptions = {},
): Promise<void> {
  await writeOutputFile(path, `${JSON.stringify(sa1bDocument(image, records))}\n`, options);
}
