import { join, resolve } from 'node:path';
import { InputError, UsageError, oneLine } from '../util/errors.js';
import { writeOutputFile, type WriteOptions } from '../writers/files.js';
import type { OutputTarget } from '../writers/naming.js';
import { writeCocoDataset } from './coco.js';
import { writeLabelme } from './labelme.js';
import { writeLabelStudioTasks } from './labelstudio.js';
import { readPart, serializePart } from './part.js';
import { DATASET_RUN_FILES, datasetPartPath, imageAlreadyInDataset, labelmePath, yoloImagePath, yoloLabelPath } from './paths.js';
import { categoriesInOrder, compareImages, type DatasetImageInfo, type DatasetSource } from './source.js';
import { DATASET_FORMATS, type Category, type DatasetFormat, type DatasetImage, type DatasetOptions } from './types.js';
import { linkDatasetImage, writeYoloSegLabels, yoloDataYaml } from './yolo-seg.js';

/** What a run asks of the dataset writers. */
export interface DatasetSettings extends DatasetOptions, WriteOptions {
  readonly formats: readonly DatasetFormat[];
  /** Every category of the run. */
  readonly categories: readonly Category[];
  readonly model?: string;
}

/** One file a dataset format writes per image: where, and how. */
interface ImageFile {
  readonly format: DatasetFormat;
  /** Its path for `target`, or undefined when there is nothing to write there. */
  readonly path: (target: OutputTarget) => string | undefined;
  readonly write: (path: string, image: DatasetImage, settings: DatasetSettings) => Promise<void>;
}

/** The per-image files of the dataset formats, in the order they are written (the part comes after them). */
const IMAGE_FILES: readonly ImageFile[] = [
  { format: 'labelme', path: labelmePath, write: (path, image, s) => writeLabelme(path, image, s.categories, s) },
  { format: 'yolo-seg', path: yoloLabelPath, write: (path, image, s) => writeYoloSegLabels(path, image, s.categories, s) },
  {
    format: 'yolo-seg',
    // An input already under the dataset's images/ needs no link.
    path: (target) => (imageAlreadyInDataset(target) ? undefined : yoloImagePath(target)),
    write: (path, image, s) => linkDatasetImage(path, image.path, s),
  },
];

/**
 * Every file the dataset formats write for one image, part last: its presence means the
 * image is done (`--skip-existing`).
 */
export function datasetImageFiles(target: OutputTarget, formats: readonly DatasetFormat[]): string[] {
  const files = IMAGE_FILES.filter((f) => formats.includes(f.format)).flatMap((f) => f.path(target) ?? []);
  if (formats.length > 0) files.push(datasetPartPath(target));
  return files;
}

/**
 * Write one image's share of the dataset under `target.outDir`: its labelme JSON, its
 * YOLO-seg labels and image link, and last its part (`samlite-parts/<sub-path>/<stem>.part.json`),
 * whose presence marks the image done. The files for the whole run are built from the
 * parts afterwards ({@link writeDatasetFiles}). Returns the files written.
 */
export async function writeDatasetImage(image: DatasetImage, target: OutputTarget, settings: DatasetSettings): Promise<string[]> {
  const { formats, categories } = settings;
  const files: string[] = [];
  for (const file of IMAGE_FILES) {
    const path = formats.includes(file.format) ? file.path(target) : undefined;
    if (path === undefined) continue;
    await file.write(path, image, settings);
    files.push(path);
  }
  if (formats.length > 0) {
    const part = serializePart({
      ...(settings.model !== undefined ? { model: settings.model } : {}),
      formats,
      options: pickDatasetOptions(settings),
      categories,
      image,
    });
    await writeOutputFile(datasetPartPath(target), part, settings);
    files.push(datasetPartPath(target));
  }
  return files;
}

/** The dataset options `o` sets (keys left undefined are left out), and nothing else of it. */
export function pickDatasetOptions(o: DatasetOptions): DatasetOptions {
  return {
    ...(o.cocoSegmentation !== undefined ? { cocoSegmentation: o.cocoSegmentation } : {}),
    ...(o.polygonTolerance !== undefined ? { polygonTolerance: o.polygonTolerance } : {}),
    ...(o.imageUrlPrefix !== undefined ? { imageUrlPrefix: o.imageUrlPrefix } : {}),
    ...(o.labelStudioMasks !== undefined ? { labelStudioMasks: o.labelStudioMasks } : {}),
  };
}

/** Parts read back as a dataset, with what their runs were asked for. */
export interface PartsDataset {
  readonly source: DatasetSource;
  /** Union of the dataset formats the parts' runs asked for. */
  readonly formats: readonly DatasetFormat[];
  /**
   * For each dataset format, a part whose run did not ask for it (so that image has none of
   * its per-image files: no YOLO-seg labels, no labelme file); absent when every part's did.
   */
  readonly notAskedBy: Readonly<Partial<Record<DatasetFormat, string>>>;
  /** The runs' options; an option is absent when the parts disagree on it. */
  readonly options: DatasetOptions;
  /** Options on which the parts disagree, each with two parts that do. */
  readonly conflicts: readonly { readonly option: keyof DatasetOptions; readonly parts: readonly [string, string] }[];
  /** Part files that could not be read, one line each; they are left out. */
  readonly problems: readonly string[];
  /**
   * Two parts whose runs had different category lists, so their YOLO class numbers (a
   * category's position in its run's list) differ; undefined when all agree.
   */
  readonly classesDiffer?: readonly [string, string];
}

/**
 * Why YOLO-seg's `data.yaml` cannot be written for these parts, or undefined when it can:
 * parts that number their classes differently (each run wrote its labels with its own
 * category list, and one `names` list cannot fit both).
 */
export function classesDisagree(dataset: PartsDataset, formats: readonly DatasetFormat[]): string | undefined {
  if (!formats.includes('yolo-seg') || !dataset.classesDiffer) return undefined;
  const [a, b] = dataset.classesDiffer;
  return `--format yolo-seg: ${a} and ${b} come from runs with different categories, so their labels number classes differently; leave yolo-seg out, or rerun them with one category list`;
}

/** Refuse, as a UsageError, what {@link classesDisagree} finds. */
export function assertClassesAgree(dataset: PartsDataset, formats: readonly DatasetFormat[]): void {
  const problem = classesDisagree(dataset, formats);
  if (problem) throw new UsageError(problem);
}

/**
 * Read part files as one dataset. Each part is read once here for its image entry and again
 * when a writer asks for its masks, so only one image's masks are in memory at a time.
 * Unreadable parts are reported in `problems` and left out; with `skipMissing`, parts that
 * do not exist (images a run has not done) are left out quietly. Two parts for the same
 * file name, or one category id with two names, are a UsageError naming both.
 */
export async function readPartsDataset(partPaths: readonly string[], read: { readonly skipMissing?: boolean } = {}): Promise<PartsDataset> {
  const problems: string[] = [];
  const entries: { path: string; info: DatasetImageInfo }[] = [];
  const categories = new Map<number, { name: string; from: string }>();
  const formats = new Set<DatasetFormat>();
  const partFormats: { path: string; formats: readonly DatasetFormat[] }[] = [];
  const seen = new Map<string, string>();
  const optionValues = new Map<keyof DatasetOptions, { value: unknown; from: string }>();
  const conflicts = new Map<keyof DatasetOptions, [string, string]>();
  let model: string | undefined;
  let classes: { ids: string; from: string } | undefined;
  let classesDiffer: [string, string] | undefined;
  for (const path of partPaths) {
    let part;
    try {
      part = await readPart(path);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      if (!(read.skipMissing && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')) problems.push(oneLine(err));
      continue;
    }
    const { annotations: _, ...info } = part.image;
    const earlier = seen.get(info.fileName);
    if (earlier !== undefined) throw new UsageError(`${earlier} and ${path} are both parts for the image ${info.fileName}; keep one`);
    seen.set(info.fileName, path);
    entries.push({ path, info });
    for (const c of part.categories) {
      const known = categories.get(c.id);
      if (known && known.name !== c.name) {
        throw new UsageError(`category ${c.id} is "${known.name}" in ${known.from} but "${c.name}" in ${path}`);
      }
      if (!known) categories.set(c.id, { name: c.name, from: path });
    }
    const ids = categoriesInOrder(part.categories).map((c) => c.id).join(',');
    classes ??= { ids, from: path };
    if (ids !== classes.ids) classesDiffer ??= [classes.from, path];
    for (const f of part.formats) formats.add(f);
    partFormats.push({ path, formats: part.formats });
    for (const [key, value] of Object.entries(part.options) as [keyof DatasetOptions, unknown][]) {
      const had = optionValues.get(key);
      if (!had) optionValues.set(key, { value, from: path });
      else if (had.value !== value && !conflicts.has(key)) conflicts.set(key, [had.from, path]);
    }
    model ??= part.model;
  }
  entries.sort((a, b) => compareImages(a.info, b.info));
  const options: Record<string, unknown> = {};
  for (const [key, { value }] of optionValues) if (!conflicts.has(key)) options[key] = value;
  const source: DatasetSource = {
    categories: [...categories].map(([id, { name }]) => ({ id, name })),
    images: entries.map((e) => e.info),
    annotations: async (index) => (await readPart(entries[index].path)).image.annotations,
    ...(model !== undefined ? { model } : {}),
  };
  const notAskedBy: Partial<Record<DatasetFormat, string>> = {};
  for (const f of DATASET_FORMATS) {
    const without = partFormats.find((p) => !p.formats.includes(f));
    if (without) notAskedBy[f] = without.path;
  }
  return {
    source,
    formats: [...formats],
    notAskedBy,
    options: options as DatasetOptions,
    conflicts: [...conflicts].map(([option, parts]) => ({ option, parts })),
    problems,
    ...(classesDiffer ? { classesDiffer } : {}),
  };
}

/**
 * Write the files of the whole dataset into `outDir` for the formats that have one:
 * `coco.json`, `labelstudio.json`, and YOLO-seg's `data.yaml`. Each is written to a
 * temporary file and renamed, so a dataset file under its final name is always complete.
 * labelme has no such file (its files are per image). Returns the files written.
 */
export async function writeDatasetFiles(
  outDir: string,
  source: DatasetSource,
  settings: DatasetOptions & WriteOptions & { readonly formats: readonly DatasetFormat[] },
): Promise<string[]> {
  const files: string[] = [];
  for (const format of settings.formats) {
    const name = DATASET_RUN_FILES[format];
    if (!name) continue;
    const path = join(outDir, name);
    if (format === 'coco') await writeCocoDataset(path, source, settings);
    else if (format === 'labelstudio') await writeLabelStudioTasks(path, source, settings);
    else await writeOutputFile(path, yoloDataYaml(resolve(outDir), source.categories), settings);
    files.push(path);
  }
  return files;
}
