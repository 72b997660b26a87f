import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../util/errors.js';
import { pathExists as exists } from './files.js';

/** Output formats of `samlite segment`. */
export type SegmentFormat = 'mask' | 'overlay' | 'cutout' | 'json';
export const SEGMENT_FORMATS: readonly SegmentFormat[] = ['mask', 'overlay', 'cutout', 'json'];

/** Output formats of `samlite everything`. */
export type EverythingFormat = 'json' | 'labels' | 'masks' | 'overlay' | 'polygons';
export const EVERYTHING_FORMATS: readonly EverythingFormat[] = ['json', 'labels', 'masks', 'overlay', 'polygons'];

/** Where one input image's outputs go. */
export interface OutputTarget {
  /** The input image path, as given or as found by walking a folder. */
  readonly input: string;
  /**
   * The folder the input was found under when a folder was walked. Its sub-path is kept
   * under `outDir`, so `shots/a/x.jpg` and `shots/b/x.jpg` do not both write `out/x.*`.
   */
  readonly root?: string;
  /** The output folder (`--out`; the CLI passes the input's own folder without it). */
  readonly outDir: string;
}

const SEGMENT_SUFFIX: Record<SegmentFormat, string> = {
  mask: '.mask.png',
  overlay: '.overlay.png',
  cutout: '.cutout.png',
  json: '.json',
};

/** File name of the index written last into a `<stem>.masks/` folder. */
export const MASKS_INDEX_NAME = 'metadata.csv';

/** The input's file name without its last extension: `photo.v2.jpg` → `photo.v2`. */
export function imageStem(input: string): string {
  const name = basename(input);
  return basename(name, extname(name));
}

/**
 * The input's path relative to `root` (when walking a folder), else its file name. Used as
 * `file_name` in JSON outputs. Throws a UsageError when the input is not inside `root`.
 */
export function relativeInputName(target: Pick<OutputTarget, 'input' | 'root'>): string {
  if (target.root === undefined) return basename(target.input);
  const rel = pathBelow(target.root, target.input);
  if (rel === undefined) throw new UsageError(`${target.input} is not inside the folder ${target.root}`);
  return rel.split(sep).join('/');
}

/** `path` relative to the folder `root` (native separators), or undefined when it is not inside it. */
export function pathBelow(root: string, path: string): string | undefined {
  const rel = relative(resolve(root), resolve(path));
  return rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? undefined : rel;
}

/**
 * The common prefix of every output path of one input: `<outDir>/<sub-path>/<stem>`.
 * Every output name is this prefix plus a suffix, which is what makes names predictable.
 */
export function outputPrefix(target: OutputTarget): string {
  const rel = target.root === undefined ? '' : dirname(relativeInputName(target));
  return join(target.outDir, rel === '.' ? '' : rel, imageStem(target.input));
}

/**
 * Path of one `samlite segment` output: `<stem>.<i>.<format suffix>`, or with
 * `--multimask` `<stem>.<i>.m<k>.<format suffix>`. `promptIndex` is the 0-based position of
 * the prompt set for this image; `candidate` the 0-based rank among the model's candidates.
 */
export function segmentOutputPath(
  target: OutputTarget,
  format: SegmentFormat,
  promptIndex: number,
  candidate?: number,
): string {
  checkIndex(promptIndex, 'prompt index');
  if (candidate !== undefined) checkIndex(candidate, 'candidate index');
  const k = candidate === undefined ? '' : `.m${candidate}`;
  return `${outputPrefix(target)}.${promptIndex}${k}${SEGMENT_SUFFIX[format]}`;
}

/**
 * Every file `samlite segment` writes for one image: `promptCount` prompt sets in the given
 * formats, each with `candidates` masks under `--multimask` (omit for one mask per prompt).
 */
export function segmentOutputFiles(
  target: OutputTarget,
  formats: readonly SegmentFormat[],
  promptCount: number,
  candidates?: number,
): string[] {
  const files: string[] = [];
  for (let i = 0; i < promptCount; i++) {
    const ks = candidates === undefined ? [undefined] : Array.from({ length: candidates }, (_, k) => k);
    for (const k of ks) for (const f of unique(formats)) files.push(segmentOutputPath(target, f, i, k));
  }
  return files;
}

/** Paths of every `samlite everything` output of one image. */
export interface EverythingPaths {
  /** SA-1B style JSON: `<stem>.json`. */
  readonly json: string;
  /** Label map: `<stem>.labels.png`. */
  readonly labels: string;
  /** Colour overlay: `<stem>.overlay.png`. */
  readonly overlay: string;
  /** One PNG per mask: `<stem>.masks/<id>.png`. */
  readonly masksDir: string;
  /** `<stem>.masks/metadata.csv`, written last: its presence means the folder is complete. */
  readonly masksIndex: string;
  /** Polygons as GeoJSON: `<stem>.geojson`. */
  readonly geojson: string;
  /** Polygons as COCO polygon segmentation: `<stem>.coco-polygons.json`. */
  readonly cocoPolygons: string;
}

/** Paths of every `samlite everything` output of one image (see {@link EverythingPaths}). */
export function everythingOutputPaths(target: OutputTarget): EverythingPaths {
  const p = outputPrefix(target);
  const masksDir = `${p}.masks`;
  return {
    json: `${p}.json`,
    labels: `${p}.labels.png`,
    overlay: `${p}.overlay.png`,
    masksDir,
    masksIndex: join(masksDir, MASKS_INDEX_NAME),
    geojson: `${p}.geojson`,
    cocoPolygons: `${p}.coco-polygons.json`,
  };
}

/**
 * The files whose presence means `samlite everything` finished `formats` for one image.
 * For `masks` that is the folder's index, written after every mask PNG.
 */
export function everythingOutputFiles(target: OutputTarget, formats: readonly EverythingFormat[]): string[] {
  const p = everythingOutputPaths(target);
  const files: string[] = [];
  for (const f of unique(formats)) {
    if (f === 'json') files.push(p.json);
    else if (f === 'labels') files.push(p.labels);
    else if (f === 'overlay') files.push(p.overlay);
    else if (f === 'masks') files.push(p.masksIndex);
    else files.push(p.geojson, p.cocoPolygons);
  }
  return files;
}

/** Name of mask `id`'s PNG inside a `<stem>.masks/` folder (ids as in the JSON and label map). */
export function maskFileName(id: number): string {
  return `${id}.png`;
}

/** The outputs one input plans to write, for {@link assertNoOutputCollisions}. */
export interface PlannedOutputs {
  /** The input, or with `runWide` a label for the files (never compared with outputs). */
  readonly input: string;
  readonly files: readonly string[];
  /** Files the run writes once, for no one input (its dataset files). */
  readonly runWide?: boolean;
}

/** Two inputs that would write the same file, or an output that would replace an input. */
export interface OutputCollision {
  readonly path: string;
  readonly first: string;
  readonly second: string;
  /**
   * `output`: both inputs write `path`; `input`: `second` would write over input `first`;
   * `twice`: input `first` (= `second`) plans `path` twice (two of its formats share a name);
   * `run`: input `second` would write `path`, one of the run-wide files labelled `first`.
   */
  readonly kind: 'output' | 'input' | 'twice' | 'run';
}

export interface CollisionOptions {
  /**
   * Compare paths ignoring case, as macOS and Windows file systems do. Default: true on
   * darwin and win32, false elsewhere.
   */
  readonly caseInsensitive?: boolean;
}

/**
 * Every pair of planned inputs that would write the same output file, every file one input
 * plans twice, every input's output that is one of the run-wide files, and every output that
 * is itself one of the inputs. Paths are compared after resolving them, so `out/x.json` and
 * `./out/../out/x.json` match. The same input listed twice is not a collision (it writes
 * identical files); the CLI should de-duplicate inputs anyway.
 */
export function findOutputCollisions(
  plans: readonly PlannedOutputs[],
  options: CollisionOptions = {},
): OutputCollision[] {
  const fold = options.caseInsensitive ?? (process.platform === 'darwin' || process.platform === 'win32');
  const key = (p: string) => (fold ? resolve(p).toLowerCase() : resolve(p));
  const owners = new Map<string, PlannedOutputs>();
  const inputs = new Map<string, string>();
  for (const plan of plans) if (!plan.runWide) inputs.set(key(plan.input), plan.input);
  const found: OutputCollision[] = [];
  for (const plan of plans) {
    const self = key(plan.input);
    // The output lists hold each format once, so a file listed twice is two formats' file.
    const mine = new Set<string>();
    for (const file of plan.files) {
      const k = key(file);
      const asInput = inputs.get(k);
      if (asInput !== undefined) found.push({ path: file, first: asInput, second: plan.input, kind: 'input' });
      if (mine.has(k)) {
        found.push({ path: file, first: plan.input, second: plan.input, kind: 'twice' });
        continue;
      }
      mine.add(k);
      const owner = owners.get(k);
      if (owner === undefined) owners.set(k, plan);
      else if (owner.runWide || plan.runWide) {
        const [run, other] = owner.runWide ? [owner, plan] : [plan, owner];
        found.push({ path: file, first: run.input, second: other.input, kind: 'run' });
      } else if (key(owner.input) !== self) found.push({ path: file, first: owner.input, second: plan.input, kind: 'output' });
    }
  }
  return found;
}

/**
 * Throw a UsageError naming both inputs and the file when two planned inputs would write
 * the same output, one input would write a file twice or over a run-wide file, or an
 * output would replace an input. Call it on the whole plan before
 * any image is processed.
 */
export function assertNoOutputCollisions(plans: readonly PlannedOutputs[], options: CollisionOptions = {}): void {
  const found = findOutputCollisions(plans, options);
  if (found.length === 0) return;
  const c = found[0];
  const more = found.length > 1 ? ` (and ${found.length - 1} more clashes)` : '';
  if (c.kind === 'input') {
    throw new UsageError(`output ${c.path} of ${c.second} would overwrite the input ${c.first}; choose another --out${more}`);
  }
  if (c.kind === 'twice') {
    throw new UsageError(`${c.first}: two --format outputs would both write ${c.path}; write them to different --out folders${more}`);
  }
  if (c.kind === 'run') throw new UsageError(`${c.second} would write ${c.path}, one of ${c.first}; rename the input${more}`);
  throw new UsageError(
    `${c.first} and ${c.second} would both write ${c.path}; rename one, or walk their common folder so sub-folders are kept${more}`,
  );
}

/** The subset of `files` that already exist (as anything: file, folder or link). */
export async function findExistingOutputs(files: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const file of files) if (await exists(file)) found.push(file);
  return found;
}

/**
 * Unless `overwrite`, throw a UsageError naming the first of `files` that already exists.
 * The CLI calls it on every planned output before starting, so a run never stops half-way
 * because of an old file. `remedies` are the flags the calling command offers.
 */
export async function assertNoExistingOutputs(
  files: readonly string[],
  overwrite: boolean,
  remedies: readonly string[] = ['--overwrite to replace it'],
): Promise<void> {
  if (overwrite) return;
  const found = await findExistingOutputs(files);
  if (found.length === 0) return;
  const more = found.length > 1 ? ` (and ${found.length - 1} more)` : '';
  throw new UsageError(`${found[0]} already exists${more}; pass ${remedies.join(' or ')}`);
}

/**
 * True when every one of `files` exists: the image's outputs are complete (`--skip-existing`).
 * Outputs are written atomically, so an existing file is a finished one.
 */
export async function outputsComplete(files: readonly string[]): Promise<boolean> {
  for (const file of files) if (!(await exists(file))) return false;
  return true;
}

const OUTPUT_NAME =
  /\.\d+(\.m\d+)?\.(mask|overlay|cutout)\.png$|\.(labels|overlay)\.png$|\.coco-polygons\.json$|\.geojson$|\.labels\.tif$|\.fgb$/i;

/**
 * True for paths that look like samlite outputs (`x.0.mask.png`, `x.labels.png`, anything in
 * an `x.masks/` folder, ...), so a folder walk over a previous run's `--out` can skip them
 * instead of segmenting its own outputs.
 */
export function looksLikeSamliteOutput(path: string): boolean {
  const parts = path.split(/[\\/]/);
  if (parts.slice(0, -1).some((p) => p.endsWith('.masks'))) return true;
  return OUTPUT_NAME.test(parts[parts.length - 1]);
}

function checkIndex(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative integer, got ${n}`);
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
