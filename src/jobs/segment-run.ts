/**
 * A `segment` batch as a library job, in three steps a front end calls in order:
 *
 * 1. {@link planSegmentJobs}: which images, each with its prompt sets (from one prompt for
 *    every image, a prompts file or a detection file), and the entries that cannot be used.
 * 2. {@link prepareSegmentRun}: what must hold of the outputs before any model runs (no two
 *    inputs writing one file, every planned file writable, nothing overwritten unasked) and
 *    which images are left to do (`skipExisting`).
 * 3. {@link runSegmentJobs}: the images, one by one, through {@link segmentImage}; then
 *    `finishDataset` (dataset-run.ts) builds the run-wide dataset files.
 *
 * The CLI's `segment` command is flag parsing and reporting around these; the server runs
 * the same per-image step, so both write the same files.
 */
import { resolve } from 'node:path';
import type { Interrupt } from '../batch/interrupt.js';
import { datasetPartPath, datasetRunFiles } from '../datasets/paths.js';
import type { Category, DatasetFormat } from '../datasets/types.js';
import { datasetImageFiles } from '../datasets/writer.js';
import { loadImage } from '../image/load.js';
import type { ImageReadAhead } from './read-ahead.js';
import type { PromptSet } from '../prompts/prompts-file.js';
import { readPrompts, type PromptsFormat } from '../prompts/read-prompts.js';
import type { Prompt } from '../prompts/types.js';
import { MULTIMASK_CANDIDATES } from '../segmenter/pipeline.js';
import type { Segmenter } from '../segmenter/segmenter.js';
import { InputError, UsageError, oneLine } from '../util/errors.js';
import { assertOutputsWritable } from '../writers/files.js';
import { assertNoOutputCollisions, segmentOutputFiles, type SegmentFormat } from '../writers/naming.js';
import type { SegmentOutputLine } from '../writers/segment.js';
import { datasetRunPlan, planResume, stopIfOutputUnwritable } from './dataset-run.js';
import { segmentImage, segmentTarget, type SegmentImageJob, type SegmentImageSettings } from './segment-image.js';

/** What a `segment` run is asked to answer: images and where their prompts come from. */
export interface SegmentRequest {
  /** Images named by the user; with a per-image prompts file they select its entries. */
  readonly images: readonly string[];
  /** One prompt set for every image (the CLI's `--point`/`--neg-point`/`--box`). */
  readonly prompt?: Prompt;
  /** A prompts file: samlite's JSON, a COCO file or results list, YOLO labels, or `-` for stdin. */
  readonly prompts?: string;
  readonly promptsFormat?: PromptsFormat;
  /** Detection files: the folder their image names are relative to. */
  readonly imageRoot?: string;
  /** Detection files: leave out boxes scored below this. */
  readonly minScore?: number;
  /** COCO results lists: the COCO file they belong to. */
  readonly cocoImages?: string;
  /** YOLO labels: their class names (a dataset YAML or one name per line). */
  readonly classes?: string;
}

/** What the prompts ask for: one job per image, and from a detection file its categories and problems. */
export interface SegmentPlan {
  readonly jobs: readonly SegmentImageJob[];
  /** The categories of a detection file or of a prompts file that names them. */
  readonly categories?: readonly Category[];
  /** Entries that cannot be used, one line each: each fails alone, before any model work. */
  readonly problems: readonly string[];
  /** Detection files: boxes left out by `minScore`. */
  readonly belowMinScore: number;
}

/** The images named, each once: `a.png a.png ./a.png` is one image (first spelling kept). */
function uniqueImages(images: readonly string[]): string[] {
  const seen = new Set<string>();
  return images.filter((image) => !seen.has(resolve(image)) && seen.add(resolve(image)));
}

/**
 * Images × prompt sets, from one prompt for every image, a prompts file or a detection
 * file. Each image appears once: named twice it is the same job, and listed twice in a
 * prompts file its prompt sets are merged, so no two jobs write the same outputs. Throws a
 * UsageError when the request cannot run at all (messages name the CLI's flags).
 */
export async function planSegmentJobs(request: SegmentRequest): Promise<SegmentPlan> {
  const images = uniqueImages(request.images);
  const { prompt, prompts } = request;
  if (prompt && prompts) throw new UsageError('give prompts either as --point/--neg-point/--box or with --prompts, not both');
  if (!prompts) {
    const fileOptions = [
      ['--prompts-format', request.promptsFormat],
      ['--image-root', request.imageRoot],
      ['--min-score', request.minScore],
      ['--coco-images', request.cocoImages],
      ['--classes', request.classes],
    ] as const;
    for (const [flag, value] of fileOptions) {
      if (value !== undefined) throw new UsageError(`${flag} applies to --prompts files`);
    }
  }
  const none = { problems: [], belowMinScore: 0 };
  if (prompt) {
    if (images.length === 0) throw new UsageError('no image given');
    return { ...none, jobs: images.map((image) => ({ image: resolve(image), display: image, sets: [{ index: 0, prompt }] })) };
  }
  if (!prompts) {
    throw new UsageError('no prompt: give --point x,y, --box x1,y1,x2,y2 or --prompts file.json (see samlite segment --help)');
  }
  const plan = await readPrompts(prompts, {
    format: request.promptsFormat,
    imageRoot: request.imageRoot,
    minScore: request.minScore,
    cocoImages: request.cocoImages,
    classes: request.classes,
    images,
  });
  if (plan.kind === 'shared') {
    if (images.length === 0) throw new UsageError(`${prompts} gives prompts for every image, but no image was named`);
    return { ...none, categories: plan.categories, jobs: images.map((image) => ({ image: resolve(image), display: image, sets: plan.sets })) };
  }
  // Detection files (COCO, YOLO) count the boxes they leave out; samlite's own files do not.
  const detections = plan.belowMinScore !== undefined;
  const problems = [...(plan.problems ?? [])];
  const toJob = (e: (typeof plan.images)[number], display: string): SegmentImageJob => ({
    image: e.image,
    display,
    sets: e.sets,
    ...(e.root !== undefined ? { root: e.root } : {}),
    ...(e.fileName !== undefined ? { fileName: e.fileName } : {}),
    ...(e.sourceId !== undefined ? { sourceId: e.sourceId } : {}),
  });
  const result = { categories: plan.categories, problems, belowMinScore: plan.belowMinScore ?? 0 };
  if (images.length === 0) return { ...result, jobs: plan.images.map((e) => toJob(e, e.fileName ?? e.image)) };
  // Images named on the command line select entries from the file.
  const byPath = new Map(plan.images.map((e) => [e.image, e] as const));
  const jobs: SegmentImageJob[] = [];
  for (const image of images) {
    const entry = byPath.get(resolve(image));
    if (entry) jobs.push(toJob(entry, image));
    // A detection file that does not list an image fails that image alone.
    else if (detections) problems.push(`${image}: not in ${prompts}`);
    else throw new UsageError(`${image}: no prompts for this image in ${prompts}`);
  }
  return { ...result, jobs };
}

/** Where a `segment` run writes, and how it treats what is already there. */
export interface SegmentOutputs {
  readonly outDir: string;
  /** samlite's own per-prompt files (mask, overlay, cutout, json). */
  readonly formats: readonly SegmentFormat[];
  /** Dataset formats (coco, yolo-seg, labelme, labelstudio). */
  readonly dataset: readonly DatasetFormat[];
  /** Every candidate mask per prompt set (never with dataset formats). */
  readonly multimask?: boolean;
  /** Leave out images whose outputs are all there; redo the rest. */
  readonly skipExisting?: boolean;
  /** Replace existing outputs (otherwise one is an error before any work). */
  readonly overwrite?: boolean;
}

/** The images a run still has to do, and what the writers need to know. */
export interface PreparedSegmentRun {
  readonly todo: readonly SegmentImageJob[];
  /** Images left out as done (`skipExisting`). */
  readonly skipped: number;
  /** What the writers get: true with `overwrite` or `skipExisting`. */
  readonly overwrite: boolean;
  /** Every planned image's dataset part, done or not: `finishDataset` reads those that exist. */
  readonly partPaths: readonly string[];
}

/**
 * Check the outputs of `plan` before any model work — no two inputs writing one file, each
 * planned file writable (a read-only or full disk, a folder where a file goes), nothing
 * overwritten unless asked — and say which images are left to do. Throws a UsageError (or
 * an OutputError naming the path) when the run cannot start.
 */
export async function prepareSegmentRun(plan: SegmentPlan, outputs: SegmentOutputs): Promise<PreparedSegmentRun> {
  const { outDir, formats, dataset, multimask } = outputs;
  if (dataset.length > 0 && multimask) throw new UsageError(`--multimask writes several masks per prompt; --format ${dataset.join(',')} holds one`);
  const targetOf = (job: SegmentImageJob) => segmentTarget(job, outDir);
  // Every file a run may write: with multimask up to MULTIMASK_CANDIDATES per prompt set.
  const plans = plan.jobs.map((job) => ({
    input: job.display,
    files: [
      ...segmentOutputFiles(targetOf(job), formats, job.sets.length, multimask ? MULTIMASK_CANDIDATES : undefined),
      ...datasetImageFiles(targetOf(job), dataset),
    ],
  }));
  assertNoOutputCollisions([...plans, datasetRunPlan(outDir, dataset)]);
  // Under multimask an image is done when each prompt set's answer (.m0) exists: FastSAM
  // and a single-mask SAM export write fewer than MULTIMASK_CANDIDATES candidates.
  // (multimask refuses dataset formats, so the answers are the per-image files alone.)
  const answerFiles = multimask ? plan.jobs.map((job) => segmentOutputFiles(targetOf(job), formats, job.sets.length, 1)) : undefined;
  await assertOutputsWritable(outDir, [...plans.flatMap((p) => p.files), ...datasetRunFiles(outDir, dataset)]);
  const { todo, skipped, overwrite } = await planResume(plan.jobs, plans.map((p) => p.files), datasetRunFiles(outDir, dataset), outputs, answerFiles);
  return { todo, skipped, overwrite, partPaths: plan.jobs.map((job) => datasetPartPath(targetOf(job))) };
}

/**
 * Refuse, before any image is read, a prompt for every image that the model's family
 * cannot honour (EfficientSAM and background points): the family rule does not depend on
 * the image, so every image would fail the same way. (A prompts file's sets are inputs of
 * their own: one the model refuses fails alone, the others run.)
 */
export function checkSharedPrompt(segmenter: Segmenter, request: SegmentRequest): void {
  if (request.prompt === undefined) return;
  try {
    segmenter.pipeline.checkPrompt(request.prompt);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw new UsageError(oneLine(err));
  }
}

/** What a `segment` run tells its front end as it goes. */
export interface SegmentRunEvents {
  /** A mask was written: the image's job, its output line, its prompt set and category. */
  onMask?(job: SegmentImageJob, line: SegmentOutputLine, set: PromptSet, category: Category | undefined): void;
  /**
   * A failure of one input: an image that cannot be read (`promptIndex` undefined and
   * `stage` 'image'), a prompt set, or an image's dataset files. `message` does not repeat
   * the image's name.
   */
  onFailure(job: SegmentImageJob, message: string, where: { readonly promptIndex?: number; readonly stage: 'image' | 'prompt' | 'dataset' }): void;
}

/** How a `segment` run ended. */
export interface SegmentRunResult {
  /** Masks written. */
  readonly written: number;
  /** Failures (images, prompt sets, dataset files), each reported through the events. */
  readonly failed: number;
  /** Images not started because the run was stopped (`control.signal`). */
  readonly notDone: number;
}

/**
 * Run `todo` image by image: load it (within `maxPixels`), answer and write every prompt
 * set, write its dataset part. An input that fails is reported and the run goes on; an
 * output disk that cannot be written (full, read-only) stops it through `control`, as the
 * first Ctrl-C does: no new image is started.
 */
export async function runSegmentJobs(
  segmenter: Segmenter,
  todo: readonly SegmentImageJob[],
  settings: SegmentImageSettings & { readonly maxPixels?: number; readonly readAhead?: ImageReadAhead },
  events: SegmentRunEvents,
  control: Pick<Interrupt, 'signal' | 'stop'>,
): Promise<SegmentRunResult> {
  let written = 0;
  let failed = 0;
  for (const [n, job] of todo.entries()) {
    if (control.signal.aborted) return { written, failed, notDone: todo.length - n };
    let image;
    try {
      const read = { maxPixels: settings.maxPixels, source: job.display };
      image = await (settings.readAhead ? settings.readAhead.take(job.image, read) : loadImage(job.image, read));
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      failed++;
      // loadImage's message starts with the image's name.
      events.onFailure(job, oneLine(err).replace(`${job.display}: `, ''), { stage: 'image' });
      continue;
    }
    const done = await segmentImage(segmenter, image, job, settings, {
      onMask: (line, set, category) => events.onMask?.(job, line, set, category),
      onFailure: (message, promptIndex, err) => {
        events.onFailure(job, message, promptIndex === undefined ? { stage: 'dataset' } : { promptIndex, stage: 'prompt' });
        // The rest of this image's files would meet the same full or read-only disk.
        return stopIfOutputUnwritable(control, err, settings.outDir);
      },
    });
    written += done.written;
    failed += done.failed;
  }
  return { written, failed, notDone: 0 };
}
