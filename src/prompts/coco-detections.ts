import { resolve } from 'node:path';
import { UsageError } from '../util/errors.js';
import type { Category } from '../datasets/types.js';
import { pathBelow } from '../writers/naming.js';
import { belowMinScore, clipBox, type DetectionReadOptions } from './detections.js';
import type { PlannedImage, PromptPlan, PromptSet } from './prompts-file.js';

/** True when a parsed JSON document looks like a COCO file (`images` entries with `file_name`). */
export function looksLikeCoco(json: unknown): boolean {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return false;
  const images = (json as { images?: unknown }).images;
  if (!Array.isArray(images)) return false;
  // samlite's own per-image files list {image, prompts} entries (with an optional
  // categories list): those are not COCO whatever else the document holds.
  if (images.length > 0 && images.every((i) => i && typeof i === 'object' && 'image' in i && 'prompts' in i)) return false;
  return 'annotations' in json || 'categories' in json || images.some((i) => i && typeof i === 'object' && 'file_name' in i);
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Ids must survive a round trip through samlite's own files (its part files keep them as
 * safe integers): 1e300 or 1.5 is refused where it is read, naming the entry, not later.
 */
const SAFE_INTEGER = `a whole number from ${Number.MIN_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`;

/** Why `value` is not usable as a COCO id (a safe integer, or where `strings` allows, a non-empty string), or undefined. */
function idProblem(value: unknown, strings: boolean): string | undefined {
  if (Number.isSafeInteger(value)) return undefined;
  if (strings && typeof value === 'string' && value !== '') return undefined;
  if (value === undefined) return 'is missing';
  return `${JSON.stringify(value)} is not ${SAFE_INTEGER}${strings ? ' or a string' : ''}`;
}

/**
 * The parts of a COCO plan and where each was read: the images and categories of a COCO
 * file, and boxes that are either its own `annotations` or a separate results list.
 */
export interface CocoBoxSources {
  readonly images: readonly unknown[];
  readonly categories?: unknown;
  /** Where `images` and `categories` were read, for messages. */
  readonly imagesSource: string;
  readonly boxes: unknown;
  /** Where `boxes` were read, for messages. */
  readonly boxesSource: string;
  /**
   * What a box entry is called in messages: a COCO file's `annotation`, or a results list's
   * `result` (which, as pycocotools' loadRes numbers them, takes id = position + 1 when it has none).
   */
  readonly boxName: 'annotation' | 'result';
}

/**
 * Box prompts from a COCO detection or annotation file: `images` (`id`, `file_name`, and
 * optionally `width`/`height`), `annotations` (`image_id`, `bbox` [x, y, w, h] in pixels,
 * `category_id`, optionally `id` and `score`) and `categories` (`id`, `name`).
 *
 * Every box becomes one prompt set (in the file's order per image) carrying its category,
 * detection id and score. Images resolve against `options.imageRoot`, else `baseDir` (the
 * file's folder). An image listed twice (under two ids) is one entry holding the boxes of
 * both, with the first id. Images without boxes are kept, so datasets list them. A box reaching past
 * the declared image size is clipped to it. An entry that cannot be used (unknown image id or
 * category, an id that is not a safe integer, malformed box, box outside the image, a NUL in
 * a file name) is reported in `problems`, one line each, and the rest run; a document that is
 * not a COCO file at all is a UsageError.
 */
export function parseCocoDetections(json: unknown, source: string, baseDir: string, options: DetectionReadOptions = {}): PromptPlan {
  if (!looksLikeCoco(json)) throw new UsageError(`${source}: not a COCO file (expected "images" with "file_name" entries)`);
  const doc = json as { images: unknown[]; annotations?: unknown; categories?: unknown };
  return planCocoBoxes(
    { images: doc.images, categories: doc.categories, imagesSource: source, boxes: doc.annotations ?? [], boxesSource: source, boxName: 'annotation' },
    baseDir,
    options,
  );
}

/** The plan of {@link parseCocoDetections}, from images, categories and boxes that may come from two files. */
export function planCocoBoxes(from: CocoBoxSources, baseDir: string, options: DetectionReadOptions = {}): PromptPlan {
  const problems: string[] = [];
  const root = resolve(options.imageRoot ?? baseDir);
  const source = from.imagesSource;

  const categories: Category[] = [];
  if (from.categories !== undefined) {
    if (!Array.isArray(from.categories)) throw new UsageError(`${source}: "categories" is not a list`);
    from.categories.forEach((c, i) => {
      const { id, name } = (c ?? {}) as { id?: unknown; name?: unknown };
      const bad = idProblem(id, false);
      if (bad || typeof name !== 'string') problems.push(`${source}: categories[${i}]: ${bad ? `id ${bad}` : 'expected {"id": integer, "name": string}'}`);
      else if (categories.some((k) => k.id === id)) problems.push(`${source}: categories[${i}]: category id ${id} is listed twice`);
      else categories.push({ id: id as number, name });
    });
  }

  interface Entry extends PlannedImage {
    readonly sets: PromptSet[];
    readonly width?: number;
    readonly height?: number;
  }
  const byId = new Map<unknown, Entry>();
  const byPath = new Map<string, Entry>();
  const images: Entry[] = [];
  from.images.forEach((img, i) => {
    const { id, file_name: fileName, width, height } = (img ?? {}) as Record<string, unknown>;
    const where = `${source}: images[${i}]`;
    if (typeof fileName !== 'string' || fileName === '') return problems.push(`${where}: no "file_name"`);
    // No file system takes a NUL in a name; said here, it is not a raw error when outputs are named.
    if (fileName.includes('\0')) return problems.push(`${where}: "file_name" ${JSON.stringify(fileName)} holds a NUL character`);
    const badId = idProblem(id, true);
    if (badId) return problems.push(`${where} (${fileName}): "id" ${badId}`);
    if (byId.has(id)) return problems.push(`${where} (${fileName}): image id ${String(id)} is listed twice`);
    const name = fileName.split('\\').join('/');
    const path = resolve(root, name);
    // The same file under a second id (or as ./a.jpg too) gets that entry's boxes too,
    // numbered on: two entries would be two jobs writing the same outputs.
    const same = byPath.get(path);
    if (same) return void byId.set(id, same);
    const inside = pathBelow(root, path) !== undefined;
    const entry: Entry = {
      image: path,
      sets: [],
      fileName: name,
      ...(inside ? { root } : {}),
      ...(typeof id === 'number' ? { sourceId: id } : {}),
      ...(Number.isInteger(width) && Number.isInteger(height) ? { width: width as number, height: height as number } : {}),
    };
    byId.set(id, entry);
    byPath.set(path, entry);
    images.push(entry);
  });

  let below = 0;
  const boxes = from.boxes;
  if (!Array.isArray(boxes)) throw new UsageError(`${from.boxesSource}: "annotations" is not a list`);
  boxes.forEach((ann, i) => {
    const a = (ann ?? {}) as Record<string, unknown>;
    const at = `${from.boxesSource}: ${from.boxName} ${i}`;
    const badDetectionId = a.id === undefined ? undefined : idProblem(a.id, true);
    if (badDetectionId) return problems.push(`${at}: "id" ${badDetectionId}`);
    const detectionId = typeof a.id === 'number' || typeof a.id === 'string' ? a.id : from.boxName === 'result' ? i + 1 : undefined;
    const where = `${at}${a.id !== undefined ? ` (id ${String(a.id)})` : ''}`;
    const badImageId = idProblem(a.image_id, true);
    if (badImageId) return problems.push(`${where}: "image_id" ${badImageId}`);
    const entry = byId.get(a.image_id);
    if (!entry) return problems.push(`${where}: unknown image_id ${JSON.stringify(a.image_id)}${from.boxesSource !== source ? ` (not in ${source})` : ''}`);
    const bbox = a.bbox;
    if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every(isFiniteNumber)) {
      return problems.push(`${where}, image ${entry.fileName}: "bbox" must be [x, y, width, height] in pixels`);
    }
    const [x, y, w, h] = bbox as number[];
    if (!(w > 0 && h > 0)) return problems.push(`${where}, image ${entry.fileName}: bbox ${JSON.stringify(bbox)} has no area`);
    const badCategory = idProblem(a.category_id, false);
    if (badCategory) return problems.push(`${where}, image ${entry.fileName}: "category_id" ${badCategory}`);
    const categoryId = a.category_id as number;
    if (from.categories !== undefined && !categories.some((c) => c.id === categoryId)) {
      return problems.push(`${where}, image ${entry.fileName}: unknown category_id ${categoryId}`);
    }
    if (a.score !== undefined && !isFiniteNumber(a.score)) return problems.push(`${where}, image ${entry.fileName}: "score" is not a number`);
    const score = a.score as number | undefined;
    if (belowMinScore(score, options.minScore)) {
      below++;
      return;
    }
    let box = { x1: x, y1: y, x2: x + w, y2: y + h };
    if (entry.width !== undefined && entry.height !== undefined) {
      const clipped = clipBox(box, entry.width, entry.height);
      if (!clipped) return problems.push(`${where}, image ${entry.fileName}: bbox ${JSON.stringify(bbox)} is outside the ${entry.width}x${entry.height} image`);
      box = clipped;
    }
    entry.sets.push({
      index: entry.sets.length,
      prompt: { points: [], negPoints: [], box },
      categoryId,
      ...(detectionId !== undefined ? { detectionId } : {}),
      ...(score !== undefined ? { detectionScore: score } : {}),
    });
  });

  // Without a "categories" list, name each category id used by its number.
  if (from.categories === undefined) {
    const ids = [...new Set(images.flatMap((e) => e.sets.map((s) => s.categoryId!)))].sort((a, b) => a - b);
    categories.push(...ids.map((id) => ({ id, name: String(id) })));
  }
  return {
    kind: 'per-image',
    images: images.map(({ width: _w, height: _h, ...e }) => e),
    categories,
    problems,
    belowMinScore: below,
  };
}
