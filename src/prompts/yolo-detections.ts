import { readFile, readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { hasImageExtension, listFiles } from '../batch/inputs.js';
import type { Category } from '../datasets/types.js';
import { UsageError, oneLine } from '../errors.js';
import { belowMinScore, clipBox, type DetectionReadOptions } from './detections.js';
import type { PlannedImage, PromptPlan, PromptSet } from './prompts-file.js';
import { imageStem } from '../writers/naming.js';

/** The file of class names, one per line, that YOLO tools keep beside their labels. */
export const YOLO_CLASSES_FILE = 'classes.txt';

/** One parsed label file: its boxes, and its lines that could not be used. */
export interface YoloLabels {
  readonly sets: PromptSet[];
  readonly problems: string[];
  /** Class numbers the boxes use. */
  readonly classes: Set<number>;
  readonly belowMinScore: number;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Parse one YOLO detection label file: a line per box, `class cx cy w h [confidence]`, the
 * centre and size in fractions of the image's width and height. Each box becomes a prompt
 * set with a relative box (clipped to the image), category id `class + 1` and detection id
 * = its line number. Malformed lines, boxes outside the image and classes beyond
 * `classCount` (when known) are reported one line each; blank lines are skipped.
 */
export function parseYoloLabels(text: string, source: string, options: DetectionReadOptions & { classCount?: number } = {}): YoloLabels {
  const sets: PromptSet[] = [];
  const problems: string[] = [];
  const classes = new Set<number>();
  let below = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `${source} line ${i + 1}`;
    const cells = line.split(/\s+/);
    if ((cells.length !== 5 && cells.length !== 6) || !cells.every((c) => NUMBER.test(c))) {
      const shown = line.length > 60 ? `${line.slice(0, 57)}...` : line;
      return problems.push(`${where}: expected "class cx cy w h [confidence]", got "${shown}"`);
    }
    const [cls, cx, cy, w, h, conf] = cells.map(Number);
    if (!Number.isInteger(cls) || cls < 0) return problems.push(`${where}: class ${cells[0]} is not a whole number >= 0`);
    if (options.classCount !== undefined && cls >= options.classCount) {
      return problems.push(`${where}: class ${cls} is not in ${YOLO_CLASSES_FILE} (${options.classCount} classes)`);
    }
    if (!(w > 0 && h > 0)) return problems.push(`${where}: box has no area (w ${cells[3]}, h ${cells[4]})`);
    if (belowMinScore(conf, options.minScore)) {
      below++;
      return;
    }
    const box = clipBox({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2 }, 1, 1);
    if (!box) return problems.push(`${where}: box (centre ${cells[1]}, ${cells[2]}) is outside the image`);
    classes.add(cls);
    sets.push({
      index: sets.length,
      prompt: {},
      relativeBox: box,
      categoryId: cls + 1,
      detectionId: i + 1,
      ...(conf !== undefined ? { detectionScore: conf } : {}),
    });
  });
  return { sets, problems, classes, belowMinScore: below };
}

/** Class names from `classes.txt` in `dir` or its parent, or undefined when there is none. */
async function readClassNames(dir: string): Promise<string[] | undefined> {
  for (const folder of [dir, dirname(dir)]) {
    const text = await readFile(join(folder, YOLO_CLASSES_FILE), 'utf8').catch(() => undefined);
    if (text !== undefined) return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  }
  return undefined;
}

/**
 * Where YOLO label files' images are by default: ultralytics' dataset layout keeps
 * `.../labels/x.txt` beside `.../images/x.jpg`; otherwise the labels' own folder.
 */
export async function defaultYoloImageRoot(labelsDir: string): Promise<string> {
  const parts = resolve(labelsDir).split(sep);
  const at = parts.lastIndexOf('labels');
  if (at >= 0) {
    const images = [...parts.slice(0, at), 'images', ...parts.slice(at + 1)].join(sep);
    if ((await stat(images).catch(() => undefined))?.isDirectory()) return images;
  }
  return resolve(labelsDir);
}

/** The image file for label `rel` (`sub/x`) under `root`: `sub/x.<image extension>`, first in sorted order. */
async function findImage(root: string, rel: string, listings: Map<string, string[]>): Promise<string | undefined> {
  const dir = join(root, dirname(rel));
  let names = listings.get(dir);
  if (!names) {
    names = (await readdir(dir).catch(() => [] as string[])).sort();
    listings.set(dir, names);
  }
  const stem = basename(rel);
  const found = names.find((n) => hasImageExtension(n) && n.slice(0, -extname(n).length) === stem);
  return found === undefined ? undefined : join(dir, found);
}

/** Every `.txt` label file under `dir` (sub-folders included) except `classes.txt`, sorted. */
function listLabelFiles(dir: string): Promise<string[]> {
  return listFiles(dir, true, (name) => extname(name).toLowerCase() === '.txt' && name !== YOLO_CLASSES_FILE);
}

/**
 * Box prompts from YOLO detection labels: a folder of `.txt` files, one per image (as
 * `yolo predict --save-txt --save-conf` writes them), or a single file.
 *
 * With `images` (named on the command line), each image takes the label file of its stem
 * in the folder, and an image without one has no boxes. Otherwise every label file finds its
 * image by the same sub-path and stem under `imageRoot` (default: see
 * {@link defaultYoloImageRoot}); a label file without an image is reported.
 *
 * Categories: ids are `class + 1` (COCO keeps 0 for no category), named from `classes.txt`
 * beside the labels or in their parent folder, else by the class number.
 */
export async function readYoloDetections(
  path: string,
  options: DetectionReadOptions & { images?: readonly string[] } = {},
): Promise<PromptPlan> {
  return readYoloDetectionsAt(path, await stat(path).catch(() => undefined), options);
}

/** {@link readYoloDetections} for a caller that has already stat'ed `path` (`info`: undefined when missing). */
export async function readYoloDetectionsAt(
  path: string,
  info: Stats | undefined,
  options: DetectionReadOptions & { images?: readonly string[] } = {},
): Promise<PromptPlan> {
  if (!info) throw new UsageError(`${path}: no such detection file or folder`);
  const labelsDir = info.isDirectory() ? resolve(path) : dirname(resolve(path));
  const names = await readClassNames(labelsDir);
  const parseOptions = { ...options, ...(names ? { classCount: names.length } : {}) };
  const problems: string[] = [];
  const classes = new Set<number>();
  let below = 0;
  const planned: PlannedImage[] = [];

  // `optional`: a label file that is not there (or not a file) means no boxes.
  const parseFile = async (file: string, shown: string, optional = false): Promise<PromptSet[]> => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (!(optional && (code === 'ENOENT' || code === 'EISDIR'))) problems.push(`${shown}: ${oneLine(err)}`);
      return [];
    }
    const labels = parseYoloLabels(text, shown, parseOptions);
    problems.push(...labels.problems);
    for (const c of labels.classes) classes.add(c);
    below += labels.belowMinScore;
    return labels.sets;
  };

  if (options.images && options.images.length > 0) {
    if (!info.isDirectory() && options.images.length > 1) {
      throw new UsageError(`${path} is one label file, but ${options.images.length} images were named; give a folder of label files`);
    }
    for (const image of options.images) {
      const file = info.isDirectory() ? join(labelsDir, `${imageStem(image)}.txt`) : resolve(path);
      planned.push({ image: resolve(image), sets: await parseFile(file, relative(process.cwd(), file) || file, true) });
    }
  } else {
    const root = resolve(options.imageRoot ?? (await defaultYoloImageRoot(labelsDir)));
    const files = info.isDirectory() ? await listLabelFiles(labelsDir) : [resolve(path)];
    const listings = new Map<string, string[]>();
    for (const file of files) {
      const shown = info.isDirectory() ? join(path, relative(labelsDir, file)) : path;
      const rel = relative(labelsDir, file).slice(0, -'.txt'.length);
      const image = await findImage(root, rel, listings);
      if (!image) {
        problems.push(`${shown}: no image ${rel}.* under ${options.imageRoot ?? (relative(process.cwd(), root) || '.')}`);
        continue;
      }
      const sets = await parseFile(file, shown);
      planned.push({ image, sets, root, fileName: relative(root, image).split(sep).join('/') });
    }
  }

  const count = names ? names.length : classes.size ? Math.max(...classes) + 1 : 0;
  const categories: Category[] = Array.from({ length: count }, (_, c) => ({ id: c + 1, name: names?.[c] ?? String(c) }));
  return { kind: 'per-image', images: planned, categories, problems, belowMinScore: below };
}
