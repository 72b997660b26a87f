import { readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { hasImageExtension, listFiles } from '../batch/inputs.js';
import type { Category } from '../datasets/types.js';
import { UsageError, oneLine } from '../util/errors.js';
import { readTextFile, readTextInput, stripBom } from '../util/text.js';
import { MAX_YOLO_CLASS, YOLO_CLASSES_FILE, findClassesTxt, readClassNamesFile, type ClassNames } from './class-names.js';
import { belowMinScore, clipBox, type DetectionReadOptions } from './detections.js';
import type { PlannedImage, PromptPlan, PromptSet } from './prompts-file.js';
import { imageStem } from '../writers/naming.js';

/** One parsed label file: its boxes, and its lines that could not be used. */
export interface YoloLabels {
  readonly sets: PromptSet[];
  readonly problems: string[];
  /** Class numbers the boxes use. */
  readonly classes: Set<number>;
  readonly belowMinScore: number;
  /** True when the text has lines and none is shaped like a YOLO detection line: not YOLO labels at all. */
  readonly notLabels: boolean;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const LINE_SHAPE = '"class cx cy w h [confidence]"';

/** A line for a message: at most 60 characters. */
const shown = (line: string) => (line.length > 60 ? `${line.slice(0, 57)}...` : line);

/** YOLO label options: those of every detection file, and the class names when known. */
export interface YoloLabelOptions extends DetectionReadOptions {
  /** Known class names: a class without one is reported (not boxed) on its line. */
  readonly classNames?: ClassNames;
}

/**
 * Parse one YOLO detection label file: a line per box, `class cx cy w h [confidence]`, the
 * centre and size in fractions of the image's width and height. Each box becomes a prompt
 * set with a relative box (clipped to the image), category id `class + 1` and detection id
 * = its line number. Malformed lines, boxes outside the image, classes past
 * {@link MAX_YOLO_CLASS} and classes without a name (when names are known) are reported one
 * line each; blank lines and a leading byte-order mark are skipped.
 */
export function parseYoloLabels(text: string, source: string, options: YoloLabelOptions = {}): YoloLabels {
  const sets: PromptSet[] = [];
  const problems: string[] = [];
  const classes = new Set<number>();
  let below = 0;
  let lines = 0;
  let shapeless = 0;
  const names = options.classNames;
  stripBom(text).split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    lines++;
    const where = `${source} line ${i + 1}`;
    const cells = line.split(/\s+/);
    if ((cells.length !== 5 && cells.length !== 6) || !cells.every((c) => NUMBER.test(c))) {
      shapeless++;
      // ultralytics' segmentation labels (and predict --save-txt of a -seg model) hold outlines.
      const polygon = cells.length > 6 && cells.every((c) => NUMBER.test(c)) ? ' (an outline of YOLO segmentation labels? --prompts reads detection boxes)' : '';
      return problems.push(`${where}: expected ${LINE_SHAPE}, got "${shown(line)}"${polygon}`);
    }
    const [cls, cx, cy, w, h, conf] = cells.map(Number);
    if (!Number.isInteger(cls) || cls < 0) return problems.push(`${where}: class ${cells[0]} is not a whole number >= 0`);
    // An absurd class is a corrupt line: refused here, it cannot reach the dataset's categories.
    if (cls > MAX_YOLO_CLASS) return problems.push(`${where}: class ${cells[0]} is past ${MAX_YOLO_CLASS}, the largest class number samlite reads`);
    if (names && !names.names.has(cls)) {
      return problems.push(`${where}: class ${cls} is not in ${names.source} (${names.names.size} class${names.names.size === 1 ? '' : 'es'})`);
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
  return { sets, problems, classes, belowMinScore: below, notLabels: lines > 0 && shapeless === lines };
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

/** `sub/x` of `sub/x.txt` (a file named without --prompts-format yolo may have another extension, or none). */
const withoutExtension = (path: string) => path.slice(0, path.length - extname(path).length);

/** Every `.txt` label file under `dir` (sub-folders included) except `classes.txt`, sorted. */
function listLabelFiles(dir: string): Promise<string[]> {
  return listFiles(dir, true, (name) => extname(name).toLowerCase() === '.txt' && name !== YOLO_CLASSES_FILE);
}

/** Options of {@link readYoloDetections}. */
export interface YoloReadOptions extends DetectionReadOptions {
  /** Images named on the command line: each takes the label file of its stem. */
  readonly images?: readonly string[];
  /**
   * A class names file (`--classes`): an ultralytics dataset YAML (`names:`) or one name per
   * line. Default: `classes.txt` beside the labels or in their parent folder.
   */
  readonly classes?: string;
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
 * Categories: ids are `class + 1` (COCO keeps 0 for no category). With class names
 * (`options.classes`, else `classes.txt` beside the labels or in their parent folder) every
 * named class is a category, and a class without a name is reported on its line; without
 * names, each class the boxes use is one, named by its number. A single file that is not
 * YOLO labels at all, and a folder without label files, are UsageErrors.
 */
export async function readYoloDetections(path: string, options: YoloReadOptions = {}): Promise<PromptPlan> {
  return readYoloDetectionsAt(path, await stat(path).catch(() => undefined), options);
}

/** {@link readYoloDetections} for a caller that has already stat'ed `path` (`info`: undefined when missing). */
export async function readYoloDetectionsAt(path: string, info: Stats | undefined, options: YoloReadOptions = {}): Promise<PromptPlan> {
  if (!info) throw new UsageError(`${path}: no such detection file or folder`);
  const labelsDir = info.isDirectory() ? resolve(path) : dirname(resolve(path));
  const classNames = options.classes !== undefined ? await readClassNamesFile(options.classes) : await findClassesTxt(labelsDir);
  const parseOptions: YoloLabelOptions = { ...options, ...(classNames ? { classNames } : {}) };
  const problems: string[] = [];
  const classes = new Set<number>();
  let below = 0;
  const planned: PlannedImage[] = [];

  const collect = (labels: YoloLabels): PromptSet[] => {
    problems.push(...labels.problems);
    for (const c of labels.classes) classes.add(c);
    below += labels.belowMinScore;
    return labels.sets;
  };
  // One file named as the labels: read it before matching images, so a file that is not
  // YOLO labels (a JSON file under --prompts-format yolo) is said to be that, not "no image".
  let single: YoloLabels | undefined;
  if (!info.isDirectory()) {
    const text = await readTextInput(path, 'label file');
    single = parseYoloLabels(text, path, parseOptions);
    if (single.notLabels) {
      const first = stripBom(text).trim().split(/\r?\n/)[0].trim();
      const json = /^[[{]/.test(first) ? '; a JSON file is read without --prompts-format yolo' : '';
      throw new UsageError(`${path}: not YOLO labels: no line is ${LINE_SHAPE} (line 1: "${shown(first)}")${json}`);
    }
  }

  // `optional`: a label file that is not there (or not a file) means no boxes.
  const parseFile = async (file: string, shownAs: string, optional = false): Promise<PromptSet[]> => {
    if (single) return collect(single);
    let text: string;
    try {
      text = await readTextFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (!(optional && (code === 'ENOENT' || code === 'EISDIR'))) problems.push(`${shownAs}: ${oneLine(err)}`);
      return [];
    }
    return collect(parseYoloLabels(text, shownAs, parseOptions));
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
    if (files.length === 0) throw new UsageError(`${path}: not YOLO labels: no .txt label file in this folder or below it`);
    const listings = new Map<string, string[]>();
    for (const file of files) {
      const shownAs = info.isDirectory() ? join(path, relative(labelsDir, file)) : path;
      const rel = withoutExtension(relative(labelsDir, file));
      const image = await findImage(root, rel, listings);
      if (!image) {
        problems.push(`${shownAs}: no image ${rel}.* under ${options.imageRoot ?? (relative(process.cwd(), root) || '.')}`);
        continue;
      }
      const sets = await parseFile(file, shownAs);
      planned.push({ image, sets, root, fileName: relative(root, image).split(sep).join('/') });
    }
  }

  return { kind: 'per-image', images: planned, categories: yoloCategories(classNames, classes), problems, belowMinScore: below };
}

/**
 * The categories of YOLO labels: every named class when names are known (a used class
 * without a name was refused on its line), else the classes used, named by number. Never
 * a range up to the largest class: one stray class number must not make a million categories.
 */
function yoloCategories(classNames: ClassNames | undefined, used: ReadonlySet<number>): Category[] {
  const numbers = classNames ? [...classNames.names.keys()] : [...used];
  return numbers.sort((a, b) => a - b).map((c) => ({ id: c + 1, name: classNames?.names.get(c) ?? String(c) }));
}
