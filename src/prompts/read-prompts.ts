import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { UsageError, oneLine } from '../errors.js';
import { looksLikeCoco, parseCocoDetections } from './coco-detections.js';
import type { DetectionReadOptions } from './detections.js';
import { parsePromptsJson, type PromptPlan } from './prompts-file.js';
import { readYoloDetectionsAt } from './yolo-detections.js';

/** The shapes `--prompts` reads: samlite's prompts JSON, a COCO detection file, YOLO labels. */
export type PromptsFormat = 'samlite' | 'coco' | 'yolo';
export const PROMPTS_FORMATS: readonly PromptsFormat[] = ['samlite', 'coco', 'yolo'];

export interface ReadPromptsOptions extends DetectionReadOptions {
  /** The file's format; default: told by its content (a folder or `.txt` file is YOLO). */
  readonly format?: PromptsFormat;
  /** Images named on the command line (YOLO folders match them to label files by stem). */
  readonly images?: readonly string[];
  readonly stdin?: NodeJS.ReadableStream;
}

async function readText(path: string, stdin: NodeJS.ReadableStream): Promise<string> {
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such prompts file' : oneLine(err)}`);
  }
}

/**
 * Read `--prompts`: a samlite prompts JSON, a COCO detection/annotation JSON or YOLO
 * detection labels (a folder or one `.txt` file), `-` for JSON on stdin. The format is
 * `options.format`, or told by the content: a folder or `.txt` file is YOLO, a JSON object
 * whose `images` entries have `file_name` is COCO, anything else samlite's own.
 */
export async function readPrompts(path: string, options: ReadPromptsOptions = {}): Promise<PromptPlan> {
  const stdin = options.stdin ?? process.stdin;
  const info = path === '-' ? undefined : await stat(path).catch(() => undefined);
  const isYolo = options.format === 'yolo' || (options.format === undefined && (info?.isDirectory() || extname(path).toLowerCase() === '.txt'));
  if (isYolo) {
    if (path === '-') throw new UsageError('YOLO labels cannot be read from stdin: give their folder or file');
    return readYoloDetectionsAt(path, info, options);
  }
  if (info?.isDirectory()) throw new UsageError(`${path} is a folder: --prompts-format ${options.format} reads a file`);
  const text = await readText(path, stdin);
  const source = path === '-' ? 'stdin prompts' : path;
  const baseDir = path === '-' ? process.cwd() : dirname(resolve(path));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${source}: not valid JSON (${oneLine(err)})`);
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
