/**
 * COCO results lists: `[{"image_id", "category_id", "bbox", "score"}, ...]`, what
 * detectron2, mmdetection, YOLOX and ultralytics' `val save_json` write and pycocotools'
 * `COCO.loadRes` reads. They name images by id only, so, as loadRes does, they are read
 * together with the COCO file they belong to (`--coco-images instances_val.json`), whose
 * `images` give file names and sizes and whose `categories` give names; that file's own
 * `annotations` (the ground truth) are not prompts and are ignored.
 */
import { UsageError } from '../util/errors.js';
import { looksLikeCoco, planCocoBoxes } from './coco-detections.js';
import type { DetectionReadOptions } from './detections.js';
import type { PromptPlan } from './prompts-file.js';

/** The flag that names a results list's COCO file. */
export const COCO_IMAGES_FLAG = '--coco-images';

/** True when a parsed JSON document is a COCO results list (a list whose entries carry `image_id`). */
export function looksLikeCocoResults(json: unknown): boolean {
  // samlite's own prompt sets never have an image_id (their schema is strict), so one entry tells.
  return Array.isArray(json) && json.some((e) => e !== null && typeof e === 'object' && 'image_id' in e);
}

/** The one-line refusal of a results list read without its COCO file. */
export function resultsNeedImages(source: string): UsageError {
  return new UsageError(
    `${source}: a COCO results list names images by id only: add ${COCO_IMAGES_FLAG} <the COCO file it belongs to, e.g. instances_val2017.json>`,
  );
}

/**
 * Box prompts from a results list (`results`, read from `source`) and its COCO file
 * (`imagesDoc`, read from `imagesSource`): each result is one box prompt on the image of
 * its `image_id`, as {@link planCocoBoxes} reads annotations, numbered `result i` in
 * messages and given id i + 1 when it has none (pycocotools' numbering). Every image of the
 * COCO file is planned, those without results with no boxes. Images resolve against
 * `options.imageRoot`, else `baseDir` (the COCO file's folder).
 */
export function parseCocoResults(
  results: unknown,
  source: string,
  imagesDoc: unknown,
  imagesSource: string,
  baseDir: string,
  options: DetectionReadOptions = {},
): PromptPlan {
  if (!Array.isArray(results)) throw new UsageError(`${source}: ${COCO_IMAGES_FLAG} pairs with a COCO results list ([{"image_id", "category_id", "bbox", "score"}, ...])`);
  if (!looksLikeCoco(imagesDoc)) throw new UsageError(`${imagesSource}: not a COCO file (expected "images" with "file_name" entries)`);
  const doc = imagesDoc as { images: unknown[]; categories?: unknown };
  return planCocoBoxes(
    { images: doc.images, categories: doc.categories, imagesSource, boxes: results, boxesSource: source, boxName: 'result' },
    baseDir,
    options,
  );
}
