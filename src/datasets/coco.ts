import { polygonsToCoco, rleToPolygons } from '../masks/polygons.js';
import { toCocoRle, type CocoRle } from '../masks/rle.js';
import type { BoxXYWH } from '../masks/types.js';
import { writeOutputStream, type WriteOptions } from '../writers/files.js';
import { maskStats } from '../writers/mask-stats.js';
import { categoriesInOrder, writtenAnnotations, type DatasetImageInfo, type DatasetSource } from './source.js';
import type { DatasetAnnotation, DatasetOptions } from './types.js';

/** An entry of a COCO dataset's `images`. */
export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
}

/** An entry of a COCO dataset's `annotations` (instance segmentation, plus samlite's scores). */
export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  /** Compressed RLE over the whole image, or polygons `[[x1, y1, x2, y2, ...], ...]`. */
  segmentation: CocoRle | number[][];
  /** The mask's pixel count (also with polygon segmentation). */
  area: number;
  /** [x, y, w, h] of the mask, w = x_max - x_min + 1 (pycocotools' `toBbox`). */
  bbox: BoxXYWH;
  /** Always 0: every mask is one object instance, whatever its encoding. */
  iscrowd: 0;
  predicted_iou: number;
  stability_score?: number;
  detection_id?: string | number;
  detection_score?: number;
}

/**
 * Image ids: the ids of the COCO detection file the boxes came from when every image has
 * one and they are distinct (so masks line up with the detector's own dataset), otherwise
 * 1..n in dataset order.
 */
export function cocoImageIds(images: readonly DatasetImageInfo[]): number[] {
  const source = images.map((i) => i.sourceId);
  const usable = source.every((id): id is number => Number.isInteger(id)) && new Set(source).size === source.length;
  return usable ? (source as number[]) : images.map((_, i) => i + 1);
}

/** One mask as a COCO annotation; `segmentation` is RLE unless the options ask for polygons. */
export function cocoAnnotation(a: DatasetAnnotation, id: number, imageId: number, options: DatasetOptions = {}): CocoAnnotation {
  const { bbox, area } = maskStats(a.rle);
  const segmentation =
    options.cocoSegmentation === 'polygon' ? polygonsToCoco(rleToPolygons(a.rle, { tolerance: options.polygonTolerance })) : toCocoRle(a.rle);
  return {
    id,
    image_id: imageId,
    category_id: a.categoryId,
    segmentation,
    area,
    bbox,
    iscrowd: 0,
    predicted_iou: a.predictedIou,
    ...(a.stabilityScore !== undefined ? { stability_score: a.stabilityScore } : {}),
    ...(a.detectionId !== undefined ? { detection_id: a.detectionId } : {}),
    ...(a.detectionScore !== undefined ? { detection_score: a.detectionScore } : {}),
  };
}

/**
 * Write a COCO instance-segmentation dataset (`info`, `licenses`, `categories`, `images`,
 * `annotations`) to `path`, atomically. Annotation ids run 1..n over the images in dataset
 * order. The file is streamed one annotation per line, reading one image's masks at a time.
 * Returns the number of annotations written.
 */
export async function writeCocoDataset(
  path: string,
  source: DatasetSource,
  options: DatasetOptions & WriteOptions = {},
): Promise<number> {
  const ids = cocoImageIds(source.images);
  let annotationId = 0;
  await writeOutputStream(
    path,
    async (write) => {
      const head = {
        info: { description: 'masks by samlite', ...(source.model ? { contributor: `samlite ${source.model}` } : {}) },
        licenses: [],
        categories: categoriesInOrder(source.categories).map((c) => ({ id: c.id, name: c.name, supercategory: '' })),
        images: source.images.map((img, i): CocoImage => ({ id: ids[i], file_name: img.fileName, width: img.width, height: img.height })),
      };
      // The head without its closing brace, so the annotations can follow one at a time.
      await write(`${JSON.stringify(head).slice(0, -1)},"annotations":[`);
      for (let i = 0; i < source.images.length; i++) {
        for (const a of writtenAnnotations(await source.annotations(i))) {
          annotationId++;
          await write(`${annotationId === 1 ? '' : ','}\n${JSON.stringify(cocoAnnotation(a, annotationId, ids[i], options))}`);
        }
      }
      await write('\n]}\n');
    },
    options,
  );
  return annotationId;
}
