import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { installInterruptHandler, interruptWording } from '../../batch/interrupt.js';
import { InputError, UsageError, oneLine } from '../../errors.js';
import { loadImage } from '../../image/load.js';
import { datasetPartPath, datasetRunFiles } from '../../datasets/paths.js';
import { DEFAULT_CATEGORY, type Category, type DatasetAnnotation, type DatasetFormat } from '../../datasets/types.js';
import { datasetImageFiles, writeDatasetImage } from '../../datasets/writer.js';
import { DEFAULT_POLYGON_TOLERANCE } from '../../masks/polygons.js';
import type { PromptSet } from '../../prompts/prompts-file.js';
import { PROMPTS_FORMATS, promptForImage, promptFromFlags, readPrompts, type PromptsFormat } from '../../prompts/index.js';
import { DEFAULT_DISK_CACHE_BYTES, DiskEmbeddingCache } from '../../disk-embedding-cache.js';
import { MemoryEmbeddingCache, TieredEmbeddingCache } from '../../embedding-cache.js';
import { MULTIMASK_CANDIDATES, Segmenter } from '../../segmenter.js';
import { embeddingCacheDir, storeDir } from '../../store/paths.js';
import { chooseModel } from '../../store/resolve.js';
import {
  assertNoOutputCollisions,
  relativeInputName,
  segmentOutputFiles,
  type OutputTarget,
  type SegmentFormat,
} from '../../writers/naming.js';
import { assertFolderUsable } from '../../writers/files.js';
import { writeSegmentOutputs } from '../../writers/segment.js';
import { datasetRunPlan, datasetSettings, finishDataset, planResume } from '../dataset-run.js';
import {
  commonRunOptions,
  datasetOptions,
  sessionOptions,
  splitFormats,
  wantsJson,
  type CommonRunOptions,
  type DatasetFlags,
} from '../options.js';
import { createUi, emitJsonLine } from '../ui.js';
import { checkFlagsFitFamily, fastSamOptions, fastSamSettingsFrom, givenFlags } from '../fastsam-options.js';
import type { FastSamSettingsInput } from '../../fastsam/settings.js';
import { isGeoFormat } from '../../geo/outputs.js';
import { runGeoSegmentCommand } from '../geo-commands.js';
import { geoOptions, splitGeoInputs, type GeoFlags } from '../geo-options.js';

interface SegmentFlags extends CommonRunOptions, DatasetFlags, FastSamSettingsInput, GeoFlags {
  point?: string[];
  negPoint?: string[];
  box?: string;
  prompts?: string;
  promptsFormat?: PromptsFormat;
  imageRoot?: string;
  minScore?: number;
  format?: string[];
  polygonTolerance: number;
  multimask?: boolean;
  skipExisting?: boolean;
  /** commander's --no-cache sets this to false. */
  cache: boolean;
  cacheDir?: string;
  /** Bytes, parsed by the --cache-size entry of ranges.ts. */
  cacheSize: number;
}

/** One image and the prompt sets to run on it. */
interface SegmentJob {
  readonly image: string;
  readonly display: string;
  readonly sets: readonly PromptSet[];
  /** Detection files: the folder the image's name is relative to, and that name. */
  readonly root?: string;
  readonly fileName?: string;
  /** COCO detection files: the image's id there. */
  readonly sourceId?: number;
}

/** What the prompts ask for: the jobs, and from a detection file its categories and problems. */
interface SegmentPlan {
  readonly jobs: SegmentJob[];
  readonly categories?: readonly Category[];
  readonly problems: readonly string[];
  readonly belowMinScore: number;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** The images named, each once: `a.png a.png ./a.png` is one image (first spelling kept). */
function uniqueImages(images: readonly string[]): string[] {
  const seen = new Set<string>();
  return images.filter((image) => !seen.has(resolve(image)) && seen.add(resolve(image)));
}

/**
 * Images × prompt sets, from the flags, a prompts file or a detection file. Each image
 * appears once: named twice it is the same job, and listed twice in a prompts file its
 * prompt sets are merged (parsePromptsJson), so no two jobs write the same outputs.
 */
async function planJobs(named: string[], flags: SegmentFlags): Promise<SegmentPlan> {
  const images = uniqueImages(named);
  const fromFlags = promptFromFlags({ point: flags.point, negPoint: flags.negPoint, box: flags.box });
  if (fromFlags && flags.prompts) throw new UsageError('give prompts either as --point/--neg-point/--box or with --prompts, not both');
  if (!flags.prompts) {
    for (const [flag, value] of [['--prompts-format', flags.promptsFormat], ['--image-root', flags.imageRoot], ['--min-score', flags.minScore]] as const) {
      if (value !== undefined) throw new UsageError(`${flag} applies to --prompts files`);
    }
  }
  const none = { problems: [], belowMinScore: 0 };
  if (fromFlags) {
    if (images.length === 0) throw new UsageError('no image given');
    return { ...none, jobs: images.map((image) => ({ image: resolve(image), display: image, sets: [{ index: 0, prompt: fromFlags }] })) };
  }
  if (!flags.prompts) {
    throw new UsageError('no prompt: give --point x,y, --box x1,y1,x2,y2 or --prompts file.json (see samlite segment --help)');
  }
  const plan = await readPrompts(flags.prompts, {
    format: flags.promptsFormat,
    imageRoot: flags.imageRoot,
    minScore: flags.minScore,
    images,
  });
  if (plan.kind === 'shared') {
    if (images.length === 0) throw new UsageError(`${flags.prompts} gives prompts for every image, but no image was named`);
    return { ...none, jobs: images.map((image) => ({ image: resolve(image), display: image, sets: plan.sets })) };
  }
  const detections = plan.categories !== undefined;
  const problems = [...(plan.problems ?? [])];
  const toJob = (e: (typeof plan.images)[number], display: string): SegmentJob => ({
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
  const jobs: SegmentJob[] = [];
  for (const image of images) {
    const entry = byPath.get(resolve(image));
    if (entry) jobs.push(toJob(entry, image));
    // A detection file that does not list an image fails that image alone.
    else if (detections) problems.push(`${image}: not in ${flags.prompts}`);
    else throw new UsageError(`${image}: no prompts for this image in ${flags.prompts}`);
  }
  return { ...result, jobs };
}

async function runSegment(images: string[], flags: SegmentFlags, given: ReadonlySet<string>): Promise<void> {
  const ui = createUi({ quiet: flags.quiet });
  const json = wantsJson(flags);
  // GeoTIFFs take prompts on the map and write georeferenced outputs (src/geo/).
  if (images.length > 0) {
    const named = images.map((image) => ({ path: resolve(image), display: image }));
    if (await splitGeoInputs(named, given, (flags.format ?? []).filter(isGeoFormat))) return runGeoSegmentCommand(named, flags, given);
  } else if ((flags.format ?? []).some(isGeoFormat)) {
    throw new UsageError(`--format ${(flags.format ?? []).filter(isGeoFormat).join(',')} applies to GeoTIFF inputs; name the GeoTIFF`);
  }
  const { own: formats, dataset } = splitFormats<SegmentFormat>((flags.format ?? ['mask']) as (SegmentFormat | DatasetFormat)[]);
  if (dataset.length > 0 && flags.multimask) throw new UsageError(`--multimask writes several masks per prompt; --format ${dataset.join(',')} holds one`);
  const { jobs, categories: planCategories, problems, belowMinScore } = await planJobs(images, flags);
  const categories = planCategories ?? [DEFAULT_CATEGORY];

  // Output names are checked before any model work: a clash or an existing file stops the
  // run up front rather than after minutes of encoding.
  const targetOf = (job: SegmentJob): OutputTarget => ({ input: job.image, ...(job.root !== undefined ? { root: job.root } : {}), outDir: flags.out });
  // Every file a run may write: with --multimask up to MULTIMASK_CANDIDATES per prompt set.
  const plans = jobs.map((job) => ({
    input: job.display,
    files: [
      ...segmentOutputFiles(targetOf(job), formats, job.sets.length, flags.multimask ? MULTIMASK_CANDIDATES : undefined),
      ...datasetImageFiles(targetOf(job), dataset),
    ],
  }));
  assertNoOutputCollisions([...plans, datasetRunPlan(flags.out, dataset)]);
  // Under --multimask an image is done when each prompt set's answer (.m0) exists: FastSAM
  // and a single-mask SAM export write fewer than MULTIMASK_CANDIDATES candidates.
  // (--multimask refuses dataset formats, so the answers are the per-image files alone.)
  const answerFiles = flags.multimask ? jobs.map((job) => segmentOutputFiles(targetOf(job), formats, job.sets.length, 1)) : undefined;
  const { todo, skipped, overwrite } = await planResume(
    jobs,
    plans.map((p) => p.files),
    datasetRunFiles(flags.out, dataset),
    flags,
    answerFiles,
  );
  await assertFolderUsable(flags.out, '--out');
  if (flags.cache && flags.cacheDir !== undefined) await assertFolderUsable(flags.cacheDir, '--cache-dir');

  let written = 0;
  let failed = 0;
  const fail = (image: string, message: string, promptIndex?: number) => {
    failed++;
    const where = promptIndex === undefined ? image : `${image} prompt ${promptIndex}`;
    ui.error(`${where}: ${message}`);
    if (json) emitJsonLine({ image, ...(promptIndex === undefined ? {} : { prompt_index: promptIndex }), error: message });
  };
  // Entries of a detection file that cannot be used fail alone, before any model work.
  for (const problem of problems) {
    failed++;
    ui.error(problem);
    if (json) emitJsonLine({ prompts: flags.prompts, error: problem.startsWith(`${flags.prompts}: `) ? problem.slice(flags.prompts!.length + 2) : problem });
  }
  if (belowMinScore > 0) ui.info(`${belowMinScore} detection${belowMinScore === 1 ? '' : 's'} below --min-score ${flags.minScore} left out`);
  const partPaths = jobs.map((job) => datasetPartPath(targetOf(job)));
  if (todo.length === 0) {
    ui.info(`nothing to do: ${skipped} image${skipped === 1 ? '' : 's'} already done${failed ? `; ${failed} failed` : ''}`);
    // Nothing new is written, so no model is needed: the parts say which made them.
    if (dataset.length > 0) failed += await finishDataset(ui, json, flags.out, partPaths, datasetSettings({ ...flags, overwrite }, dataset, categories, ''));
    if (failed > 0) process.exitCode = 1;
    return;
  }

  const choice = chooseModel(flags.model);
  if (choice.notice) ui.info(choice.notice);
  checkFlagsFitFamily(choice.model, given);
  // Embeddings (FastSAM: its detections) outlive the process, so prompting the same image again skips the encoder;
  // --no-cache keeps them in memory only, so prompt sets on one image still share a run.
  const embeddingCache = flags.cache
    ? new TieredEmbeddingCache(new MemoryEmbeddingCache(), new DiskEmbeddingCache(flags.cacheDir ?? embeddingCacheDir(storeDir()), flags.cacheSize))
    : new MemoryEmbeddingCache();
  const segmenter = await Segmenter.open(choice.model, { ...sessionOptions(flags, ui), embeddingCache, fastsam: fastSamSettingsFrom(flags) });
  const settings = datasetSettings({ ...flags, overwrite }, dataset, categories, segmenter.modelName);
  const categoryOf = (set: PromptSet) => (set.categoryId === undefined ? undefined : categories.find((c) => c.id === set.categoryId));

  // First Ctrl-C (or SIGTERM): finish the image in flight, build the dataset files from what is done.
  const interrupt = installInterruptHandler({
    onFirst: (name) => {
      const { interrupted, again } = interruptWording(name);
      ui.info(`${interrupted}: finishing the image in flight (${again} to stop at once)`);
    },
  });
  let notDone = 0;
  try {
    for (const [n, job] of todo.entries()) {
      if (interrupt.signal.aborted) {
        notDone = todo.length - n;
        break;
      }
      let image;
      try {
        image = await loadImage(job.image, { maxPixels: flags.maxPixels, source: job.display });
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        // loadImage's message already starts with the file name.
        failed++;
        ui.error(oneLine(err));
        if (json) emitJsonLine({ image: job.display, error: oneLine(err).replace(`${job.display}: `, '') });
        continue;
      }
      const annotations: DatasetAnnotation[] = [];
      for (const set of job.sets) {
        try {
          const prompt = promptForImage(set, image);
          const result = await segmenter.segment(image, prompt, { multimask: flags.multimask });
          const masks = flags.multimask ? result.masks : [result.best];
          const category = categoryOf(set);
          // Carried into both the record and the dataset annotation.
          const detection = {
            ...(set.detectionId !== undefined ? { detectionId: set.detectionId } : {}),
            ...(set.detectionScore !== undefined ? { detectionScore: set.detectionScore } : {}),
          };
          // Candidates are written last to first: --skip-existing counts a prompt done when
          // its answer (candidate 0) exists, so that must be the prompt's last file.
          const outputs: Awaited<ReturnType<typeof writeSegmentOutputs>>[] = [];
          for (let k = masks.length - 1; k >= 0; k--) {
            const m = masks[k];
            outputs[k] = await writeSegmentOutputs(
              image,
              {
                promptIndex: set.index,
                ...(set.id !== undefined ? { promptId: set.id } : {}),
                prompt,
                ...(category ? { category } : {}),
                ...detection,
                ...(flags.multimask ? { candidate: k } : {}),
                mask: m.mask,
                predictedIou: m.predictedIou,
              },
              targetOf(job),
              formats,
              { overwrite, imageName: job.display },
            );
          }
          for (const [k, { record, rle }] of outputs.entries()) {
            const m = masks[k];
            written++;
            if (dataset.length > 0) {
              annotations.push({
                rle,
                categoryId: (category ?? DEFAULT_CATEGORY).id,
                predictedIou: m.predictedIou,
                ...detection,
              });
            }
            if (json) emitJsonLine(record);
            const where = Object.values(record.files).join(', ');
            const label = category ? ` (${category.name})` : '';
            ui.info(`${job.display} prompt ${set.index}${label}${flags.multimask ? ` mask ${k}` : ''}: ${record.area} px, ${segmenter.pipeline.scoreName} ${record.predicted_iou.toFixed(3)}${where ? ` → ${where}` : ''}`);
          }
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          fail(job.display, oneLine(err), set.index);
        }
      }
      if (dataset.length > 0) {
        const target = targetOf(job);
        // An image whose dataset files cannot be written fails alone, as in everything: the
        // run goes on and still builds the dataset files from the images done.
        try {
          await writeDatasetImage(
            {
              fileName: job.fileName ?? relativeInputName(target),
              path: job.image,
              width: image.width,
              height: image.height,
              ...(job.sourceId !== undefined ? { sourceId: job.sourceId } : {}),
              annotations,
            },
            target,
            settings,
          );
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          fail(job.display, oneLine(err));
        }
      }
    }
  } finally {
    interrupt.dispose();
    await segmenter.close();
  }
  if (dataset.length > 0) failed += await finishDataset(ui, json, flags.out, partPaths, settings);
  const parts = [`${written} mask${written === 1 ? '' : 's'} written with ${segmenter.modelName}`];
  if (skipped) parts.push(`${skipped} image${skipped === 1 ? '' : 's'} skipped (already done)`);
  if (failed) parts.push(`${failed} failed`);
  if (interrupt.signal.aborted) parts.push(`${notDone} image${notDone === 1 ? '' : 's'} not done (interrupted; rerun with --skip-existing to continue)`);
  ui.info(parts.join('; '));
  if (interrupt.signal.aborted) process.exitCode = interrupt.exitCode;
  else if (failed > 0) process.exitCode = 1;
}

export function registerSegmentCommand(program: Command): void {
  const cmd = program
    .command('segment')
    .description('mask the object under point or box prompts, one mask per prompt set')
    .argument('[image...]', 'image files (optional with a per-image --prompts file)')
    .option('-p, --point <x,y>', 'foreground point in image pixels (repeatable)', collect)
    .option('-n, --neg-point <x,y>', 'background point (repeatable; not EfficientSAM; FastSAM: removes the masks holding it)', collect)
    .option('-b, --box <x1,y1,x2,y2>', 'box around the object, top-left and bottom-right corners')
    .option('--prompts <file|->', 'prompt sets from a JSON file (samlite or COCO), a YOLO labels folder or file, or - for stdin')
    .addOption(new Option('--prompts-format <format>', 'format of --prompts (default: told by its content)').choices(PROMPTS_FORMATS))
    .option('--image-root <dir>', "detection files: folder their image names are relative to (default: the COCO file's folder; YOLO: images/ beside labels/)")
    .addOption(new Option('--min-score <x>', 'detection files: leave out boxes scored below this'))
    .addOption(
      new Option('-f, --format <list>', 'outputs to write, comma-separated')
        .default(undefined, 'mask'),
    )
    .addOption(new Option('--polygon-tolerance <px>', 'Douglas-Peucker tolerance of polygon outlines in dataset formats (0 = exact)').default(DEFAULT_POLYGON_TOLERANCE))
    .option('--multimask', "write every candidate mask with its score, not only the family's choice")
    .option('--skip-existing', 'skip images whose outputs are all there (resume an interrupted run)')
    .option('--cache-dir <dir>', 'where image embeddings are kept between runs (default: <store>/embeddings)')
    .addOption(new Option('--cache-size <bytes>', 'most disk the embedding cache may use, least recently used dropped first').default(DEFAULT_DISK_CACHE_BYTES, '1Gi'))
    .option('--no-cache', 'keep no embedding on disk (prompt sets on one image still share one encoder run)');
  for (const option of [...datasetOptions(), ...fastSamOptions(), ...geoOptions('segment'), ...commonRunOptions()]) cmd.addOption(option);
  cmd.addHelpText(
    'after',
    `
Coordinates are pixels of the image as displayed (EXIF orientation applied).
FastSAM models select among the masks of one forward pass: a box takes the mask with the
highest box IoU, points merge the masks holding them (see docs/fastsam.md).
Outputs: <out>/<stem>.<i>.mask.png (i = prompt set index from 0), .overlay.png, .cutout.png, .json.
Datasets: <out>/coco.json, labelstudio.json, data.yaml + labels/ + images/ (yolo-seg), <stem>.json (labelme).

Examples:
  $ samlite segment photo.jpg --point 120,80
  $ samlite segment photo.jpg --point 120,80 --point 140,95 --neg-point 30,40 --format mask,overlay
  $ samlite segment photo.jpg --box 50,40,300,260 --format cutout --out cutouts/
  $ samlite segment *.png --prompts prompts.json --json | jq .predicted_iou
  $ echo '[{"points": [[120, 80]]}]' | samlite segment photo.jpg --prompts -
  $ samlite segment --prompts detections.json --min-score 0.5 --format coco --out masks/
  $ samlite segment photos/*.jpg --prompts runs/detect/predict/labels/ --format yolo-seg --out dataset/`,
  );
  cmd.action((images: string[], flags: SegmentFlags) => runSegment(images, flags, givenFlags(cmd)));
}
