import { stat } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { UsageError, oneLine } from '../util/errors.js';
import { readStreamText, readTextInput } from '../util/text.js';
import { looksLikeCoco, parseCocoDetections } from './coco-detections.js';
import { COCO_IMAGES_FLAG, looksLikeCocoResults, parseCocoResults, resultsNeedImages } from './coco-results.js';
import type { DetectionReadOptions } from './detections.js';
import { parsePromptsJson, type PromptPlan } from './prompts-file.js';
import { readYoloDetectionsAt } from './yolo-detections.js';

/** The shapes `--prompts` reads: samlite's prompts JSON, a COCO detection file or results list, YOLO labels. */
export type PromptsFormat = 'samlite' | 'coco' | 'yolo';
export const PROMPTS_FORMATS: readonly PromptsFormat[] = ['samlite', 'coco', 'yolo'];

export interface ReadPromptsOptions extends DetectionReadOptions {
  /** The file's format; default: told by its content (a folder or `.txt` file is YOLO). */
  readonly format?: PromptsFormat;
  /** Images named on the command line (YOLO folders match them to label files by stem). */
  readonly images?: readonly string[];
  /** A COCO results list's COCO file (`--coco-images`): its images and categories. */
  readonly cocoImages?: string;
  /** YOLO labels' class names file (`--classes`): a dataset YAML or one name per line. */
  readonly classes?: string;
  readonly stdin?: NodeJS.ReadableStream;
}

/** A text input, BOM dropped: `path`, or for `-` the `stdin` stream; `what` names it when it cannot be read. */
async function readText(path: string, stdin: NodeJS.ReadableStream, what: string): Promise<string> {
  return path === '-' ? readStreamText(stdin) : readTextInput(path, what);
}

/** Parse JSON text, or a UsageError naming `source`. */
function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${source}: not valid JSON (${oneLine(err)})`);
  }
}

/**
 * Read `--prompts`: a samlite prompts JSON, a COCO detection/annotation JSON, a COCO results
 * list (with `options.cocoImages`, the COCO file it belongs to) or YOLO detection labels (a
 * folder or one `.txt` file, class names from `options.classes`), `-` for JSON on stdin. The
 * format is `options.format`, or told by the content: a folder or `.txt` file is YOLO, a
 * JSON object whose `images` entries have `file_name` is COCO, a list whose entries have
 * `image_id` is a COCO results list, anything else samlite's own. A file that is not of the
 * format asked for, and an option that does not apply to the format read, are UsageErrors.
 */
export async function readPrompts(path: string, options: ReadPromptsOptions = {}): Promise<PromptPlan> {
  const stdin = options.stdin ?? process.stdin;
  const info = path === '-' ? undefined : await stat(path).catch(() => undefined);
  const isYolo = options.format === 'yolo' || (options.format === undefined && (info?.isDirectory() || extname(path).toLowerCase() === '.txt'));
  if (isYolo) {
    if (path === '-') throw new UsageError('YOLO labels cannot be read from stdin: give their folder or file');
    if (options.cocoImages !== undefined) throw new UsageError(`${COCO_IMAGES_FLAG} pairs with a COCO results list; ${path} is read as YOLO labels`);
    return readYoloDetectionsAt(path, info, options);
  }
  if (info?.isDirectory()) throw new UsageError(`${path} is a folder: --prompts-format ${options.format} reads a file`);
  const source = path === '-' ? 'stdin prompts' : path;
  if (options.classes !== undefined) throw new UsageError(`--classes names the classes of YOLO labels; ${source} is read as JSON, whose COCO categories carry their names`);
  const text = await readText(path, stdin, 'prompts file');
  const baseDir = path === '-' ? process.cwd() : dirname(resolve(path));
  const json = parseJson(text, source);
  const results = looksLikeCocoResults(json) || (options.cocoImages !== undefined && Array.isArray(json) && json.length === 0);
  if (options.format === 'samlite' && (results || looksLikeCoco(json))) {
    throw new UsageError(`${source}: a COCO ${results ? 'results list' : 'file'}, not samlite prompts: give --prompts-format coco, or leave the format out`);
  }
  if (options.cocoImages !== undefined && !results) {
    throw new UsageError(`${source}: ${COCO_IMAGES_FLAG} pairs with a COCO results list ([{"image_id", "category_id", "bbox", "score"}, ...]), and this is not one`);
  }
  if (results) {
    if (options.cocoImages === undefined) throw resultsNeedImages(source);
    // Read as a file even when named `-`: stdin, if used, holds the results list.
    const imagesText = await readTextInput(options.cocoImages, 'COCO file');
    const imagesDoc = parseJson(imagesText, options.cocoImages);
    return parseCocoResults(json, source, imagesDoc, options.cocoImages, dirname(resolve(options.cocoImages)), options);
  }
  if (options.format === 'coco' || (options.format === undefined && looksLikeCoco(json))) {
    return parseCocoDetections(json, source, baseDir, options);
  }
  if (options.minScore !== undefined || options.imageRoot !== undefined) {
    throw new UsageError(`${source}: --min-score and --image-root apply to detection files (COCO, YOLO), not to samlite prompts`);
  }
  return parsePromptsJson(text, source, baseDir);
}

/**
 * Read a samlite prompts file, or stdin for `-` (kept for the public API: it is
 * {@link readPrompts} with the format fixed to samlite's own).
 */
export async function readPromptsFile(path: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<PromptPlan> {
  return readPrompts(path, { format: 'samlite', stdin });
}
