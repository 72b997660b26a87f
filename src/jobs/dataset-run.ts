import type { Interrupt } from '../batch/interrupt.js';
import { DATASET_RUN_FILES, datasetRunFiles } from '../datasets/paths.js';
import { EXIT_INPUT_FAILED, InputError, OutputError, oneLine } from '../util/errors.js';
import type { Category, DatasetFormat, DatasetOptions } from '../datasets/types.js';
import { DATASET_OPTION_DEFAULTS } from '../datasets/types.js';
import { classesDisagree, readPartsDataset, writeDatasetFiles, type DatasetSettings } from '../datasets/writer.js';
import { pickDatasetOptions } from '../datasets/writer.js';
import { assertNoExistingOutputs, outputsComplete, type PlannedOutputs } from '../writers/naming.js';

/**
 * Where a job says what happened: one line per problem or fact for people, and (when the
 * front end wants them) records as data. The CLI prints to stderr and stdout; the server
 * collects them for its answer.
 */
export interface JobReport {
  error(message: string): void;
  info(message: string): void;
  /** A warning (shown even under --quiet); reported as info where left out. */
  readonly warn?: (message: string) => void;
  /** A record for machines (the CLI's JSON line); left out where nobody reads them. */
  readonly record?: (record: unknown) => void;
}

/** The dataset formats' options as the command-line flags name them. */
export interface DatasetFlags {
  cocoSegmentation?: 'rle' | 'polygon';
  imageUrlPrefix?: string;
  labelstudioMasks?: 'polygon' | 'brush';
}

/** Each dataset option's command-line flag, for messages. */
export const DATASET_OPTION_FLAGS: Readonly<Record<keyof DatasetOptions, string>> = {
  cocoSegmentation: '--coco-segmentation',
  polygonTolerance: '--polygon-tolerance',
  imageUrlPrefix: '--image-url-prefix',
  labelStudioMasks: '--labelstudio-masks',
};

/**
 * The dataset options the flags give, and only those (commander names the Label Studio flag
 * `labelstudioMasks`; the option is `labelStudioMasks`).
 */
export function datasetOptionsFromFlags(flags: DatasetFlags & { polygonTolerance?: number }): DatasetOptions {
  return pickDatasetOptions({ ...flags, labelStudioMasks: flags.labelstudioMasks });
}

/** The dataset writers' settings for a run, from its flags. */
export function datasetSettings(
  flags: DatasetFlags & { polygonTolerance?: number; overwrite?: boolean },
  formats: readonly DatasetFormat[],
  categories: readonly Category[],
  model: string,
): DatasetSettings {
  return {
    formats,
    categories,
    model,
    ...DATASET_OPTION_DEFAULTS,
    ...datasetOptionsFromFlags(flags),
    overwrite: flags.overwrite,
  };
}

/**
 * Which planned images a run does, for `segment` and `everything`. With `skipExisting` an
 * image whose `doneFiles` (by default its planned files) all exist is done (one that plans
 * none never is) and the rest are (re)written, replacing what an interrupted earlier run
 * finished; without it, any existing planned file or run-wide file stops the run before any
 * work unless `overwrite`. `overwrite` in the result is what the writers get.
 */
export async function planResume<T>(
  items: readonly T[],
  files: readonly (readonly string[])[],
  runFiles: readonly string[],
  flags: { readonly skipExisting?: boolean; readonly overwrite?: boolean },
  doneFiles: readonly (readonly string[])[] = files,
): Promise<{ todo: T[]; skipped: number; overwrite: boolean }> {
  const todo: T[] = [];
  for (const [i, item] of items.entries()) {
    if (!flags.skipExisting || files[i].length === 0 || !(await outputsComplete(doneFiles[i]))) todo.push(item);
  }
  if (!flags.skipExisting) {
    await assertNoExistingOutputs([...files.flat(), ...runFiles], flags.overwrite ?? false, [
      '--overwrite to replace it',
      '--skip-existing to keep finished images',
    ]);
  }
  return { todo, skipped: items.length - todo.length, overwrite: (flags.overwrite ?? false) || (flags.skipExisting ?? false) };
}

/**
 * The run-wide dataset files as a plan for {@link assertNoOutputCollisions}, so an input's
 * own file of the same name (`coco.png`'s labelme `coco.json`) is refused up front.
 */
export function datasetRunPlan(outDir: string, formats: readonly DatasetFormat[]): PlannedOutputs {
  return { input: "the run's dataset files", files: datasetRunFiles(outDir, formats), runWide: true };
}

/**
 * Build the run's dataset files (`coco.json`, `labelstudio.json`, `data.yaml`) from the
 * parts of the images it covers, and say so: a line, and the record
 * `{"dataset": [files], "images": n}`. Parts that cannot be read are reported one line each
 * and left out. Returns the number of problems.
 */
export async function finishDataset(
  report: JobReport,
  outDir: string,
  partPaths: readonly string[],
  settings: DatasetSettings,
): Promise<number> {
  if (!settings.formats.some((f) => DATASET_RUN_FILES[f])) return 0;
  // Images not done (failed, interrupted, other shards) have no part.
  const dataset = await readPartsDataset(partPaths, { skipMissing: true });
  const problems = [...dataset.problems];
  let formats = settings.formats;
  // Found only now (parts an earlier run left, kept by --skip-existing): the other files are
  // still built, and data.yaml alone fails.
  const classes = classesDisagree(dataset, formats);
  if (classes) {
    problems.push(`${classes}; ${datasetRunFiles(outDir, ['yolo-seg']).join('')} not written`);
    formats = formats.filter((f) => f !== 'yolo-seg');
  }
  const problem = (message: string) => {
    report.error(message);
    report.record?.({ error: message });
  };
  for (const message of problems) problem(message);
  // The source's categories are those of the parts; a run with no image done still lists its own.
  const source = dataset.source.images.length > 0 ? dataset.source : { ...dataset.source, categories: settings.categories };
  let files: string[];
  try {
    files = await writeDatasetFiles(outDir, source, { ...settings, formats, overwrite: true });
  } catch (err) {
    // A dataset file that cannot be written (a full disk, a folder in its place) is one more
    // failure of the run, said in one line; the images' own files are done.
    if (!(err instanceof InputError)) throw err;
    problems.push(oneLine(err));
    problem(oneLine(err));
    return problems.length;
  }
  const n = source.images.length;
  if (files.length > 0) {
    report.info(`dataset: ${files.join(', ')} (${n} image${n === 1 ? '' : 's'})`);
    report.record?.({ dataset: files, images: n });
  }
  return problems.length;
}

/**
 * Stop the batch when `err` is an output error every later write would meet too (the disk is
 * full or read-only): the image that met it has failed, and running the model for the others
 * would only fail them one by one. True when it stopped the batch.
 */
export function stopIfOutputUnwritable(interrupt: Pick<Interrupt, 'stop'>, err: unknown, outDir: string): boolean {
  if (!(err instanceof OutputError && err.everyWrite)) return false;
  interrupt.stop({ why: `cannot write to ${outDir}: ${err.reason}`, exitCode: EXIT_INPUT_FAILED });
  return true;
}
