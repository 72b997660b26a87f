import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
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
 * Box prompts from a COCO detection or annotation file: `images` (`id`, `file_name`, and
 * optionally `width`/`height`), `annotations` (`image_id`, `bbox` [x, y, w, h] in pixels,
 * `category_id`, optionally `id` and `score`) and `categories` (`id`, `name`).
 *
 * Every box becomes one prompt set (in the file's order per image) carrying its category,
 * detection id and score. Images resolve against `options.imageRoot`, else `baseDir` (the
 * file's folder). An image listed twice (under two ids) is one entry holding the boxes of
 * both, with the first id. Images without boxes are kept, so datasets list them. A box reaching past
 * the declared image size is clipped to it. An entry that cannot be used (unknown image id or
 * category, malformed box, box outside the image) is reported in `problems`, one line each,
 * and the rest run; a document that is not a COCO file at all is a UsageError.
 */
export function parseCocoDetections(json: unknown, source: string, baseDir: string, options: DetectionReadOptions = {}): PromptPlan {
  if (!looksLikeCoco(json)) throw new UsageError(`${source}: not a COCO file (expected "images" with "file_name" entries)`);
  const doc = json as { images: unknown[]; annotations?: unknown; categories?: unknown };
  const problems: string[] = [];
  const root = resolve(options.imageRoot ?? baseDir);

  const categories: Category[] = [];
  if (doc.categories !== undefined) {
    if (!Array.isArray(doc.categories)) throw new UsageError(`${source}: "categories" is not a list`);
    doc.categories.forEach((c, i) => {
      const { id, name } = (c ?? {}) as { id?: unknown; name?: unknown };
      if (!Number.isInteger(id) || typeof name !== 'string') problems.push(`${source}: categories[${i}]: expected {"id": integer, "name": string}`);
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
  doc.images.forEach((img, i) => {
    const { id, file_name: fileName, width, height } = (img ?? {}) as Record<string, unknown>;
    const where = `${source}: images[${i}]`;
    if (typeof fileName !== 'string' || fileName === '') return problems.push(`${where}: no "file_name"`);
    if (typeof id !== 'number' && typeof id !== 'string') return problems.push(`${where} (${fileName}): no "id"`);
    if (byId.has(id)) return problems.push(`${where} (${fileName}): image id ${id} is listed twice`);
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
  const annotations = doc.annotations ?? [];
  if (!Array.isArray(annotations)) throw new UsageError(`${source}: "annotations" is not a list`);
  annotations.forEach((ann, i) => {
    const a = (ann ?? {}) as Record<string, unknown>;
    const where = `${source}: annotation ${i}${a.id !== undefined ? ` (id ${String(a.id)})` : ''}`;
    const entry = byId.get(a.image_id);
    if (!entry) return problems.push(`${where}: unknown image_id ${JSON.stringify(a.image_id)}`);
    const bbox = a.bbox;
    if (!Array.isArray(bbox) || bbox.length !== 4 || !bbox.every(isFiniteNumber)) {
      return problems.push(`${where}, image ${entry.fileName}: "bbox" must be [x, y, width, height] in pixels`);
    }
    const [x, y, w, h] = bbox as number[];
    if (!(w > 0 && h > 0)) return problems.push(`${where}, image ${entry.fileName}: bbox ${JSON.stringify(bbox)} has no area`);
    if (!Number.isInteger(a.category_id)) return problems.push(`${where}, image ${entry.fileName}: no integer "category_id"`);
    const categoryId = a.category_id as number;
    if (doc.categories !== undefined && !categories.some((c) => c.id === categoryId)) {
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
      ...(typeof a.id === 'number' || typeof a.id === 'string' ? { detectionId: a.id } : {}),
      ...(score !== undefined ? { detectionScore: score } : {}),
    });
  });

  // Without a "categories" list, name each category id used by its number.
  if (doc.categories === undefined) {
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
