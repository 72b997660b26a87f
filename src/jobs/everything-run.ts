/**
 * An `everything` batch as a library job, in the order a front end calls it:
 *
 * 1. {@link prepareEverythingRun}: the inputs expanded (files, folders, globs, stdin lists),
 *    this shard's share, every output checked before any model runs, and the images left to
 *    do (`skipExisting`).
 * 2. {@link runEverythingJobs}: the images, `concurrency` at a time: every mask of each,
 *    its files and its dataset part.
 * 3. {@link finishEverythingDataset}: the run-wide dataset files from the parts (a shard
 *    leaves them to `samlite merge`).
 *
 * The CLI's `everything` command is flag parsing, progress and reporting around these.
 */
import { join } from 'node:path';
import pLimit from 'p-limit';
import { expandInputs, type InputItem, type InputProblem } from '../batch/inputs.js';
import type { Interrupt } from '../batch/interrupt.js';
import { inShard, type Shard } from '../batch/shard.js';
import { datasetPartPath, datasetRunFiles, PARTS_DIR } from '../datasets/paths.js';
import { DEFAULT_CATEGORY, type DatasetFormat } from '../datasets/types.js';
import { datasetImageFiles, writeDatasetImage, type DatasetSettings } from '../datasets/writer.js';
import type { EverythingOptionsInput } from '../everything/options.js';
import { loadImage } from '../image/load.js';
import type { ImageReadAhead } from './read-ahead.js';
import type { MaskRecord } from '../masks/record.js';
import type { EverythingRun } from '../segmenter/pipeline.js';
import type { Segmenter } from '../segmenter/segmenter.js';
import { InputError, oneLine } from '../util/errors.js';
import { writeEverythingOutputs } from '../writers/everything.js';
import { assertOutputsWritable } from '../writers/files.js';
import { assertNoOutputCollisions, everythingOutputFiles, looksLikeSamliteOutput, relativeInputName, type EverythingFormat, type OutputTarget } from '../writers/naming.js';
import { datasetRunPlan, finishDataset, planResume, stopIfOutputUnwritable, type JobReport } from './dataset-run.js';

/** What an `everything` run is asked to do and where it writes. */
export interface EverythingRequest {
  /** Images, folders, glob patterns, or `-` for one path per line on stdin. */
  readonly inputs: readonly string[];
  /** Descend into sub-folders of folder inputs. */
  readonly recursive?: boolean;
  /** Only this shard of the inputs (a deterministic split by path). */
  readonly shard?: Shard;
  readonly outDir: string;
  /** samlite's own per-image files (json, labels, masks, overlay, polygons). */
  readonly formats: readonly EverythingFormat[];
  /** Dataset formats (coco, yolo-seg, labelme, labelstudio). */
  readonly dataset: readonly DatasetFormat[];
  /** Leave out images whose outputs are all there; redo the rest. */
  readonly skipExisting?: boolean;
  /** Replace existing outputs (otherwise one is an error before any work). */
  readonly overwrite?: boolean;
}

/** The images a run still has to do, and what the writers need to know. */
export interface PreparedEverythingRun {
  readonly todo: readonly InputItem[];
  /** Inputs that named nothing usable (a missing file, a folder without images), one each. */
  readonly problems: readonly InputProblem[];
  /** Images left out as done (`skipExisting`). */
  readonly skipped: number;
  /** What the writers get: true with `overwrite` or `skipExisting`. */
  readonly overwrite: boolean;
  /** The dataset part of every image of this shard, done or not. */
  readonly partPaths: readonly string[];
}

/** Where one input's outputs go. */
function targetOf(item: InputItem, outDir: string): OutputTarget {
  return { input: item.path, root: item.root, outDir };
}

/** A run's inputs expanded into images, and the inputs that named none. */
export interface ExpandedInputs {
  readonly items: readonly InputItem[];
  readonly problems: readonly InputProblem[];
}

/**
 * Expand a run's inputs (files, folders, globs, `-` for stdin) into images, leaving out an
 * earlier run's outputs met in a folder walk. Done once per run (stdin can be read only
 * once), so a front end that must look at the images first (GeoTIFFs go to src/geo/)
 * passes the result on to {@link prepareEverythingRun}.
 */
export async function expandEverythingInputs(inputs: readonly string[], recursive?: boolean): Promise<ExpandedInputs> {
  const expanded = await expandInputs(inputs, { recursive });
  // A folder walk over an earlier run's output folder must not segment that run's own outputs.
  return { items: expanded.items.filter((i) => i.root === undefined || !looksLikeSamliteOutput(i.path)), problems: expanded.problems };
}

/**
 * Expand the inputs (unless `expandedInputs` already holds them), take this shard's share and check every output before any model work:
 * no two inputs writing one file (across all shards: two inputs in different shards writing
 * one file would otherwise go unnoticed by both processes), each planned file writable,
 * nothing overwritten unless asked. Throws a UsageError (or an OutputError naming the path)
 * when the run cannot start.
 */
export async function prepareEverythingRun(request: EverythingRequest, expandedInputs?: ExpandedInputs): Promise<PreparedEverythingRun> {
  const { outDir, formats, dataset, shard } = request;
  const expanded = expandedInputs ?? (await expandEverythingInputs(request.inputs, request.recursive));
  const items = expanded.items;
  // The dataset files count even in a shard: merge writes them there.
  const allPlans = items.map((item) => ({
    input: item.display,
    files: [...everythingOutputFiles(targetOf(item, outDir), formats), ...datasetImageFiles(targetOf(item, outDir), dataset)],
  }));
  assertNoOutputCollisions([...allPlans, datasetRunPlan(outDir, dataset)]);
  const mineAt = items.flatMap((item, i) => (shard === undefined || inShard(item.display, shard) ? [i] : []));
  const mine = mineAt.map((i) => items[i]);
  const plans = mineAt.map((i) => allPlans[i]);
  // A shard writes only its images' parts; `samlite merge` builds the dataset files.
  const runFiles = shard ? [] : datasetRunFiles(outDir, dataset);
  await assertOutputsWritable(outDir, [...plans.flatMap((p) => p.files), ...runFiles]);
  const { todo, skipped, overwrite } = await planResume(mine, plans.map((p) => p.files), runFiles, request);
  return { todo, problems: expanded.problems, skipped, overwrite, partPaths: mine.map((item) => datasetPartPath(targetOf(item, outDir))) };
}

/** How each image of an `everything` run is done. */
export interface EverythingRunSettings {
  /** The algorithm's options (grid, thresholds, crops; FastSAM's come from the model). */
  readonly options: EverythingOptionsInput;
  readonly outDir: string;
  readonly formats: readonly EverythingFormat[];
  /** The dataset writers' settings; `formats` empty for none. */
  readonly dataset: DatasetSettings;
  /** Douglas-Peucker tolerance of polygon outlines. */
  readonly polygonTolerance: number;
  readonly overwrite: boolean;
  /** Refuse images with more pixels than this. */
  readonly maxPixels?: number;
  /** Images in flight at once. */
  readonly concurrency: number;
  /** Decodes already started (the first images, while the model loaded). */
  readonly readAhead?: ImageReadAhead;
}

/** One image done: its masks, the generator's statistics, the files written, and how long it took. */
export interface EverythingImageDone {
  readonly records: readonly MaskRecord[];
  readonly stats: EverythingRun['stats'];
  readonly outputs: readonly string[];
  readonly ms: number;
}

/** What an `everything` run tells its front end as it goes. */
export interface EverythingRunEvents {
  onImage(item: InputItem, done: EverythingImageDone): void;
  /** An image that failed (its message starts with the image's name); the run goes on. */
  onFailure(item: InputItem, message: string): void;
}

/** How an `everything` run ended. */
export interface EverythingRunResult {
  readonly done: number;
  readonly failed: number;
  /** Images not started, or stopped inside the model, because the run was stopped. */
  readonly notDone: number;
  /** Masks kept over all images. */
  readonly masks: number;
}

/**
 * Run `todo`, `concurrency` images at a time: every mask of each image, its files and its
 * dataset part. A failing image is reported and the run goes on; an output disk that cannot
 * be written stops it through `control`, as the first Ctrl-C does (images in flight finish,
 * none is started).
 */
export async function runEverythingJobs(
  segmenter: Segmenter,
  todo: readonly InputItem[],
  settings: EverythingRunSettings,
  events: EverythingRunEvents,
  control: Pick<Interrupt, 'signal' | 'stop'>,
): Promise<EverythingRunResult> {
  const limit = pLimit(settings.concurrency);
  let done = 0;
  let failed = 0;
  let notDone = 0;
  let masks = 0;
  const processImage = async (item: InputItem) => {
    if (control.signal.aborted) {
      notDone++;
      return;
    }
    const t0 = Date.now();
    try {
      const read = { maxPixels: settings.maxPixels, source: item.display };
      const image = await (settings.readAhead ? settings.readAhead.take(item.path, read) : loadImage(item.path, read));
      const { records, stats } = await segmenter.everything(image, { ...settings.options, signal: control.signal });
      const target = targetOf(item, settings.outDir);
      const outputs = await writeEverythingOutputs(image, records, target, settings.formats, {
        overwrite: settings.overwrite,
        tolerance: settings.polygonTolerance,
      });
      if (settings.dataset.formats.length > 0) {
        const annotations = records.map((r) => ({ rle: r.rle, categoryId: DEFAULT_CATEGORY.id, predictedIou: r.predictedIou, stabilityScore: r.stabilityScore }));
        const info = { fileName: relativeInputName(target), path: item.path, width: image.width, height: image.height, annotations };
        outputs.push(...(await writeDatasetImage(info, target, settings.dataset)));
      }
      done++;
      masks += records.length;
      events.onImage(item, { records, stats, outputs, ms: Date.now() - t0 });
    } catch (err) {
      if (control.signal.aborted && !(err instanceof InputError)) {
        // Stopped inside the model: nothing was written for this image.
        notDone++;
        return;
      }
      if (!(err instanceof InputError)) throw err;
      failed++;
      events.onFailure(item, oneLine(err));
      stopIfOutputUnwritable(control, err, settings.outDir);
    }
  };
  await Promise.all(todo.map((item) => limit(() => processImage(item))));
  return { done, failed, notDone, masks };
}

/**
 * Build the run-wide dataset files from the parts of the images done (also after a stop:
 * they then cover the images finished so far, and a rerun with `skipExisting` rewrites them
 * whole). A shard writes none: it says where its parts are, for `samlite merge`. Returns the
 * number of problems reported.
 */
export async function finishEverythingDataset(
  report: JobReport,
  request: Pick<EverythingRequest, 'outDir' | 'dataset' | 'shard'>,
  partPaths: readonly string[],
  settings: DatasetSettings,
): Promise<number> {
  const { outDir, dataset, shard } = request;
  if (dataset.length === 0) return 0;
  if (shard) {
    // labelme alone has no run-wide file: each shard's files are final, and merge would refuse.
    if (datasetRunFiles(outDir, dataset).length > 0) {
      report.info(`shard ${shard.index}/${shard.count}: parts in ${join(outDir, PARTS_DIR)}; once every shard is done: samlite merge ${outDir}`);
    }
    return 0;
  }
  return finishDataset(report, outDir, partPaths, settings);
}
