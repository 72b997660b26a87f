/**
 * YOLO class names: `classes.txt` (one name per line, as labelImg, CVAT and Roboflow export
 * it beside the labels), a darknet `.names` file, or an ultralytics dataset YAML whose
 * `names:` is a list or a map of class number to name. `ultralytics predict --save-txt`
 * writes no names at all, so `--classes data.yaml` takes them from the training set's YAML.
 */
import { dirname, extname, join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UsageError, oneLine } from '../util/errors.js';
import { readTextFile, readTextInput } from '../util/text.js';

/** The file of class names, one per line, that YOLO tools keep beside their labels. */
export const YOLO_CLASSES_FILE = 'classes.txt';

/**
 * The largest class number read from YOLO labels. Far more than any label set in use
 * (ImageNet-21k has 21 841 classes); a larger number is a corrupt line, refused on its own.
 */
export const MAX_YOLO_CLASS = 999_999;

/** Class names by class number, and the file they came from (for messages). */
export interface ClassNames {
  readonly names: ReadonlyMap<number, string>;
  readonly source: string;
}

/** A class number written in decimal digits, within 0..MAX_YOLO_CLASS, or undefined. */
function classNumber(key: string): number | undefined {
  if (!/^\d+$/.test(key)) return undefined;
  const n = Number(key);
  return n <= MAX_YOLO_CLASS ? n : undefined;
}

/** ultralytics turns every name into a string (`str(v)`); so does samlite, refusing only what has no text. */
function nameText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Names from an ultralytics dataset YAML's `names:` (a list, or a map of class number to name). */
function namesFromYaml(text: string, source: string): Map<number, string> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    // The parser's message goes on with a picture of the line; its first line says what and where.
    throw new UsageError(`${source}: not valid YAML (${oneLine(String((err as Error).message).split('\n')[0]).replace(/:$/, '')})`);
  }
  const names = doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Record<string, unknown>).names : undefined;
  const wanted = 'a "names:" list, or a map of class number to name, as in an ultralytics dataset YAML';
  if (!names || typeof names !== 'object') throw new UsageError(`${source}: no class names: expected ${wanted}`);
  const entries: [string, unknown][] = Array.isArray(names) ? names.map((v, i) => [String(i), v]) : Object.entries(names);
  const found = new Map<number, string>();
  for (const [key, value] of entries) {
    const n = classNumber(key);
    if (n === undefined) throw new UsageError(`${source}: names: ${JSON.stringify(key)} is not a class number from 0 to ${MAX_YOLO_CLASS}`);
    const name = nameText(value);
    if (name === undefined) throw new UsageError(`${source}: names: class ${n} has no name`);
    found.set(n, name);
  }
  if (found.size === 0) throw new UsageError(`${source}: "names:" is empty`);
  const nc = (doc as { nc?: unknown }).nc;
  // ultralytics refuses a YAML whose nc and names disagree; a mistake here would mislabel every class.
  if (nc !== undefined && nc !== found.size) throw new UsageError(`${source}: nc is ${JSON.stringify(nc)} but "names:" lists ${found.size} classes`);
  return found;
}

/** Names from a text file of one name per line (blank lines skipped), the first line class 0. */
function namesFromLines(text: string, source: string): Map<number, string> {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length > MAX_YOLO_CLASS + 1) throw new UsageError(`${source}: ${lines.length} class names, more than ${MAX_YOLO_CLASS + 1}`);
  return new Map(lines.map((name, i) => [i, name]));
}

/**
 * Parse class names: YAML (`yaml`: an ultralytics dataset YAML's `names:`) or one name per
 * line. Anything unusable is a UsageError naming `source`.
 */
export function parseClassNames(text: string, source: string, kind: 'yaml' | 'lines'): ClassNames {
  return { names: kind === 'yaml' ? namesFromYaml(text, source) : namesFromLines(text, source), source };
}

/** Read `--classes`: a `.yaml`/`.yml` dataset YAML, or any other file as one name per line. */
export async function readClassNamesFile(path: string): Promise<ClassNames> {
  const text = await readTextInput(path, 'class names file');
  const ext = extname(path).toLowerCase();
  return parseClassNames(text, path, ext === '.yaml' || ext === '.yml' ? 'yaml' : 'lines');
}

/** Names from `classes.txt` in `dir` or its parent, or undefined when there is none. */
export async function findClassesTxt(dir: string): Promise<ClassNames | undefined> {
  for (const folder of [dir, dirname(dir)]) {
    const path = join(folder, YOLO_CLASSES_FILE);
    const text = await readTextFile(path).catch(() => undefined);
    if (text !== undefined) return parseClassNames(text, relative(process.cwd(), path) || path, 'lines');
  }
  return undefined;
}
