import type { MaskRecord } from '../masks/record.js';
import { cocoJsonBytes, toCocoRle, type CocoRle } from '../masks/rle.js';
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
  return annotationWith(record, index, toCocoRle(record.rle).counts);
}

/** The annotation of `record` with `counts` as its RLE string. */
function annotationWith(record: MaskRecord, index: number, counts: string): Sa1bAnnotation {
  const { bbox, area } = maskStats(record.rle);
  return {
    id: maskId(index),
    segmentation: { size: [record.rle.size[0], record.rle.size[1]], counts },
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
 * Write the SA-1B style JSON for one image to `path` (atomically, one line), exactly as
 * `JSON.stringify(sa1bDocument(image, records))` and a newline.
 */
export async function writeSa1bJson(
  path: string,
  image: ImageJson,
  records: readonly MaskRecord[],
  options: WriteOptions = {},
): Promise<void> {
  await writeOutputFile(path, sa1bJsonChunks(image, records), options);
}

/** The placeholder every annotation's counts stand as in the document's skeleton. */
const COUNTS_SLOT = '"counts":""';

/**
 * {@link sa1bDocument} as JSON bytes, in pieces, without passing the RLE strings (nearly all
 * of a noisy 12 MP file's tens of megabytes) through JSON.stringify and UTF-8 encoding: the
 * document is stringified with empty counts, and each RLE's JSON-ready bytes (cocoJsonBytes;
 * computed by the render threads for FastSAM) go into its slot. The pieces are written as
 * they are, never joined. A file name cannot forge a slot: JSON escapes quotes in strings.
 */
export function sa1bJsonChunks(image: ImageJson, records: readonly MaskRecord[]): Uint8Array[] {
  checkRecordSizes(records, image.width, image.height);
  const skeleton = JSON.stringify({ image: { ...image }, annotations: records.map((r, i) => annotationWith(r, i, '')) });
  const parts = skeleton.split(COUNTS_SLOT);
  if (parts.length !== records.length + 1) throw new Error(`SA-1B JSON: ${parts.length - 1} counts slots for ${records.length} annotations`);
  const chunks: Uint8Array[] = [Buffer.from(parts[0], 'utf8')];
  records.forEach((r, i) => chunks.push(OPEN_COUNTS, cocoJsonBytes(r.rle), Buffer.from(`"${parts[i + 1]}`, 'utf8')));
  chunks.push(NEWLINE);
  return chunks;
}

const OPEN_COUNTS = Buffer.from('"counts":"', 'latin1');
const NEWLINE = Buffer.from('\n', 'latin1');

/** {@link sa1bJsonChunks} joined: `JSON.stringify(sa1bDocument(image, records))` and a newline, as bytes. */
export function sa1bJsonBytes(image: ImageJson, records: readonly MaskRecord[]): Buffer {
  return Buffer.concat(sa1bJsonChunks(image, records));
}
