import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError, oneLine } from '../util/errors.js';
import { listFiles } from '../batch/inputs.js';
import { fromCocoRle, toCocoRle, type CocoRle } from '../masks/rle.js';
import { PARTS_DIR, PART_SUFFIX } from './paths.js';
import { DATASET_FORMATS, type Category, type DatasetAnnotation, type DatasetFormat, type DatasetImage, type DatasetOptions } from './types.js';

/** Version of the part layout; a part of another version is refused, not misread. */
export const PART_VERSION = 1;

/**
 * One image's share of a dataset, as written under `samlite-parts/`: the masks in samlite's
 * neutral form (COCO RLE, scores, category) plus what the run was asked for, so that
 * `samlite merge` can build the same dataset files the run itself would have.
 */
export interface DatasetPart {
  readonly model?: string;
  /** The dataset formats the run was asked for. */
  readonly formats: readonly DatasetFormat[];
  readonly options: DatasetOptions;
  /** Every category of the run (the same list in every part of one run). */
  readonly categories: readonly Category[];
  readonly image: DatasetImage;
}

const categorySchema = z.strictObject({ id: z.number().int(), name: z.string() });
const partSchema = z.strictObject({
  samlite_part: z.literal(PART_VERSION),
  model: z.string().optional(),
  formats: z.array(z.enum(DATASET_FORMATS as [DatasetFormat, ...DatasetFormat[]])),
  options: z.strictObject({
    coco_segmentation: z.enum(['rle', 'polygon']).optional(),
    polygon_tolerance: z.number().min(0).optional(),
    image_url_prefix: z.string().optional(),
    labelstudio_masks: z.enum(['polygon', 'brush']).optional(),
  }),
  categories: z.array(categorySchema),
  image: z.strictObject({
    file_name: z.string().min(1),
    path: z.string().min(1),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    source_id: z.number().optional(),
  }),
  annotations: z.array(
    z.strictObject({
      segmentation: z.strictObject({ size: z.tuple([z.number().int(), z.number().int()]), counts: z.string() }),
      category_id: z.number().int(),
      predicted_iou: z.number(),
      stability_score: z.number().optional(),
      detection_id: z.union([z.string(), z.number()]).optional(),
      detection_score: z.number().optional(),
    }),
  ),
});

/** The part file's text (one line of JSON). */
export function serializePart(part: DatasetPart): string {
  const { image, options } = part;
  const doc = {
    samlite_part: PART_VERSION,
    ...(part.model !== undefined ? { model: part.model } : {}),
    formats: [...part.formats],
    options: {
      ...(options.cocoSegmentation !== undefined ? { coco_segmentation: options.cocoSegmentation } : {}),
      ...(options.polygonTolerance !== undefined ? { polygon_tolerance: options.polygonTolerance } : {}),
      ...(options.imageUrlPrefix !== undefined ? { image_url_prefix: options.imageUrlPrefix } : {}),
      ...(options.labelStudioMasks !== undefined ? { labelstudio_masks: options.labelStudioMasks } : {}),
    },
    categories: part.categories.map((c) => ({ id: c.id, name: c.name })),
    image: {
      file_name: image.fileName,
      path: image.path,
      width: image.width,
      height: image.height,
      ...(image.sourceId !== undefined ? { source_id: image.sourceId } : {}),
    },
    annotations: image.annotations.map((a) => ({
      segmentation: toCocoRle(a.rle),
      category_id: a.categoryId,
      predicted_iou: a.predictedIou,
      ...(a.stabilityScore !== undefined ? { stability_score: a.stabilityScore } : {}),
      ...(a.detectionId !== undefined ? { detection_id: a.detectionId } : {}),
      ...(a.detectionScore !== undefined ? { detection_score: a.detectionScore } : {}),
    })),
  };
  return `${JSON.stringify(doc)}\n`;
}

/** Parse a part file's text; an InputError naming `source` when it is not a valid part. */
export function parsePart(text: string, source: string): DatasetPart {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${source}: not a samlite part (invalid JSON: ${oneLine(err)})`);
  }
  const parsed = partSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`${source}: not a samlite part (${issue.path.join('.') || 'document'}: ${issue.message})`);
  }
  const p = parsed.data;
  const { width, height } = p.image;
  const annotations: DatasetAnnotation[] = p.annotations.map((a, i) => {
    const [h, w] = a.segmentation.size;
    if (w !== width || h !== height) {
      throw new InputError(`${source}: not a samlite part (annotations.${i}: mask is ${w}x${h} but the image is ${width}x${height})`);
    }
    let rle;
    try {
      rle = fromCocoRle(a.segmentation as CocoRle);
    } catch (err) {
      throw new InputError(`${source}: not a samlite part (annotations.${i}: ${oneLine(err)})`);
    }
    return {
      rle,
      categoryId: a.category_id,
      predictedIou: a.predicted_iou,
      ...(a.stability_score !== undefined ? { stabilityScore: a.stability_score } : {}),
      ...(a.detection_id !== undefined ? { detectionId: a.detection_id } : {}),
      ...(a.detection_score !== undefined ? { detectionScore: a.detection_score } : {}),
    };
  });
  return {
    ...(p.model !== undefined ? { model: p.model } : {}),
    formats: p.formats,
    options: {
      ...(p.options.coco_segmentation !== undefined ? { cocoSegmentation: p.options.coco_segmentation } : {}),
      ...(p.options.polygon_tolerance !== undefined ? { polygonTolerance: p.options.polygon_tolerance } : {}),
      ...(p.options.image_url_prefix !== undefined ? { imageUrlPrefix: p.options.image_url_prefix } : {}),
      ...(p.options.labelstudio_masks !== undefined ? { labelStudioMasks: p.options.labelstudio_masks } : {}),
    },
    categories: p.categories,
    image: {
      fileName: p.image.file_name,
      path: p.image.path,
      width,
      height,
      ...(p.image.source_id !== undefined ? { sourceId: p.image.source_id } : {}),
      annotations,
    },
  };
}

/** Read and parse one part file. */
export async function readPart(path: string): Promise<DatasetPart> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such part file' : oneLine(err)}`, { cause: err });
  }
  return parsePart(text, path);
}

/** Every part file under `<dir>/samlite-parts/`, sorted; empty when there is no such folder. */
export async function listPartFiles(dir: string): Promise<string[]> {
  try {
    return await listFiles(join(dir, PARTS_DIR), true, (name) => name.endsWith(PART_SUFFIX) && !name.startsWith('.'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
