import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { installInterruptHandler, interruptWording } from '../../batch/interrupt.js';
import { DiskEmbeddingCache, DEFAULT_DISK_CACHE_BYTES } from '../../cache/disk-embedding-cache.js';
import { MemoryEmbeddingCache, TieredEmbeddingCache, type EmbeddingCache } from '../../cache/embedding-cache.js';
import { DEFAULT_CATEGORY, type DatasetFormat } from '../../datasets/types.js';
import type { FastSamSettingsInput } from '../../fastsam/settings.js';
import { datasetSettings, finishDataset } from '../../jobs/dataset-run.js';
import { ImageReadAhead } from '../../jobs/read-ahead.js';
import { checkSharedPrompt, planSegmentJobs, prepareSegmentRun, runSegmentJobs, type SegmentRequest } from '../../jobs/segment-run.js';
import { isGeoFormat, type GeoFormat } from '../../geo/outputs.js';
import { DEFAULT_POLYGON_TOLERANCE } from '../../masks/polygons.js';
import { PROMPTS_FORMATS, promptFromFlags, type PromptsFormat } from '../../prompts/index.js';
import { Segmenter } from '../../segmenter/segmenter.js';
import { embeddingCacheDir, storeDir } from '../../store/paths.js';
import { chooseModel } from '../../store/resolve.js';
import { UsageError } from '../../util/errors.js';
import { assertFolderUsable } from '../../writers/files.js';
import type { SegmentFormat } from '../../writers/naming.js';
import { checkFlagsFitFamily, fastSamOptions, fastSamSettingsFrom, givenFlags } from '../fastsam-options.js';
import { runGeoSegmentCommand } from '../geo-commands.js';
import { geoOptions, splitGeoInputs, type GeoFlags } from '../geo-options.js';
import { commonRunOptions, datasetOptions, sessionOptions, splitFormats, wantsJson, type CommonRunOptions, type DatasetFlags } from '../options.js';
import { stopBatchOnStdoutGone } from '../stdout.js';
import { createUi, emitJsonLine, jobReport, type Ui } from '../ui.js';

interface SegmentFlags extends CommonRunOptions, DatasetFlags, FastSamSettingsInput, GeoFlags {
  point?: string[];
  negPoint?: string[];
  box?: string;
  prompts?: string;
  promptsFormat?: PromptsFormat;
  imageRoot?: string;
  minScore?: number;
  cocoImages?: string;
  classes?: string;
  format?: (SegmentFormat | DatasetFormat | GeoFormat)[];
  polygonTolerance: number;
  multimask?: boolean;
  skipExisting?: boolean;
  /** commander's --no-cache sets this to false. */
  cache: boolean;
  cacheDir?: string;
  /** Bytes, parsed by the --cache-size entry of ranges.ts. */
  cacheSize: number;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** The job layer's request from the flags. */
function segmentRequest(images: string[], flags: SegmentFlags): SegmentRequest {
  const prompt = promptFromFlags({ point: flags.point, negPoint: flags.negPoint, box: flags.box });
  return {
    images,
    ...(prompt ? { prompt } : {}),
    prompts: flags.prompts,
    promptsFormat: flags.promptsFormat,
    imageRoot: flags.imageRoot,
    minScore: flags.minScore,
    cocoImages: flags.cocoImages,
    classes: flags.classes,
  };
}

/** The embedding cache the flags ask for; its notices (a damaged entry, an unwritable folder) are warnings. */
function embeddingCacheFor(flags: SegmentFlags, ui: Ui): EmbeddingCache {
  // Embeddings (FastSAM: its detections) outlive the process, so prompting the same image
  // again skips the encoder; --no-cache keeps them in memory only, so prompt sets on one
  // image still share a run.
  if (!flags.cache) return new MemoryEmbeddingCache();
  const dir = flags.cacheDir ?? embeddingCacheDir(storeDir());
  return new TieredEmbeddingCache(new MemoryEmbeddingCache(), new DiskEmbeddingCache(dir, { maxBytes: flags.cacheSize, onNotice: (message) => ui.warn(message) }));
}

async function runSegment(images: string[], flags: SegmentFlags, given: ReadonlySet<string>): Promise<void> {
  const ui = createUi({ quiet: flags.quiet });
  const json = wantsJson(flags);
  // GeoTIFFs take prompts on the map and write georeferenced outputs (src/geo/).
  const geoFormats = (flags.format ?? []).filter(isGeoFormat);
  if (images.length > 0) {
    const named = images.map((image) => ({ path: resolve(image), display: image }));
    if (await splitGeoInputs(named, given, geoFormats)) return runGeoSegmentCommand(named, flags, given);
  } else if (geoFormats.length > 0) {
    throw new UsageError(`--format ${geoFormats.join(',')} applies to GeoTIFF inputs; name the GeoTIFF`);
  }
  const { own: formats, dataset } = splitFormats<SegmentFormat>((flags.format ?? ['mask']) as (SegmentFormat | DatasetFormat)[]);
  const request = segmentRequest(images, flags);
  const plan = await planSegmentJobs(request);
  const categories = plan.categories ?? [DEFAULT_CATEGORY];
  // Every output is checked before any model work: a clash, an existing file or an
  // unwritable --out stops the run up front rather than after minutes of encoding.
  const { todo, skipped, overwrite, partPaths } = await prepareSegmentRun(plan, {
    outDir: flags.out,
    formats,
    dataset,
    multimask: flags.multimask,
    skipExisting: flags.skipExisting,
    overwrite: flags.overwrite,
  });
  if (flags.cache && flags.cacheDir !== undefined) await assertFolderUsable(flags.cacheDir, '--cache-dir');

  let failed = 0;
  // Entries of a detection file that cannot be used fail alone, before any model work.
  for (const problem of plan.problems) {
    failed++;
    ui.error(problem);
    if (json) emitJsonLine({ prompts: flags.prompts, error: problem.startsWith(`${flags.prompts}: `) ? problem.slice(flags.prompts!.length + 2) : problem });
  }
  if (plan.belowMinScore > 0) ui.info(`${plan.belowMinScore} detection${plan.belowMinScore === 1 ? '' : 's'} below --min-score ${flags.minScore} left out`);
  if (todo.length === 0) {
    ui.info(`nothing to do: ${skipped} image${skipped === 1 ? '' : 's'} already done${failed ? `; ${failed} failed` : ''}`);
    // Nothing new is written, so no model is needed: the parts say which made them.
    if (dataset.length > 0) failed += await finishDataset(jobReport(ui, json), flags.out, partPaths, datasetSettings({ ...flags, overwrite }, dataset, categories, ''));
    if (failed > 0) process.exitCode = 1;
    return;
  }

  const choice = chooseModel(flags.model);
  if (choice.notice) ui.info(choice.notice);
  checkFlagsFitFamily(choice.model, given);
  // The first image decodes while the model loads.
  const readAhead = new ImageReadAhead();
  readAhead.start(todo[0].image, { maxPixels: flags.maxPixels, source: todo[0].display });
  await readAhead.decodesRunning();
  const segmenter = await Segmenter.open(choice.model, { ...sessionOptions(flags, ui), embeddingCache: embeddingCacheFor(flags, ui), fastsam: fastSamSettingsFrom(flags) });
  try {
    checkSharedPrompt(segmenter, request);
  } catch (err) {
    await segmenter.close();
    throw err;
  }
  const settings = datasetSettings({ ...flags, overwrite }, dataset, categories, segmenter.modelName);

  // First Ctrl-C (or SIGTERM): finish the image in flight, build the dataset files from what is done.
  const interrupt = installInterruptHandler({
    onFirst: (name) => {
      const { interrupted, again } = interruptWording(name);
      ui.info(`${interrupted}: finishing the image in flight (${again} to stop at once)`);
    },
  });
  // A reader that closes the pipe stops the batch as Ctrl-C does.
  const unwatchStdout = stopBatchOnStdoutGone(interrupt);
  let result;
  try {
    result = await runSegmentJobs(
      segmenter,
      todo,
      { outDir: flags.out, formats, dataset: settings, multimask: flags.multimask, overwrite, maxPixels: flags.maxPixels, readAhead },
      {
        onMask(job, record, set, category) {
          if (json) emitJsonLine(record);
          const where = Object.values(record.files).join(', ');
          const label = category ? ` (${category.name})` : '';
          const k = record.candidate;
          ui.info(`${job.display} prompt ${set.index}${label}${k !== undefined ? ` mask ${k}` : ''}: ${record.area} px, ${segmenter.pipeline.scoreName} ${record.predicted_iou.toFixed(3)}${where ? ` → ${where}` : ''}`);
        },
        onFailure(job, message, { promptIndex }) {
          ui.error(`${promptIndex === undefined ? job.display : `${job.display} prompt ${promptIndex}`}: ${message}`);
          if (json) emitJsonLine({ image: job.display, ...(promptIndex === undefined ? {} : { prompt_index: promptIndex }), error: message });
        },
      },
      interrupt,
    );
  } finally {
    unwatchStdout();
    interrupt.dispose();
    await segmenter.close();
  }
  failed += result.failed;
  if (dataset.length > 0) failed += await finishDataset(jobReport(ui, json), flags.out, partPaths, settings);
  const parts = [`${result.written} mask${result.written === 1 ? '' : 's'} written with ${segmenter.modelName}`];
  if (skipped) parts.push(`${skipped} image${skipped === 1 ? '' : 's'} skipped (already done)`);
  if (failed) parts.push(`${failed} failed`);
  if (interrupt.signal.aborted) parts.push(`${result.notDone} image${result.notDone === 1 ? '' : 's'} not done (${interrupt.reason?.why ?? 'interrupted'}; rerun with --skip-existing to continue)`);
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
    .option('--coco-images <file>', 'COCO results lists ([{image_id, category_id, bbox, score}]): the COCO file they belong to, for image names and categories')
    .option('--classes <file>', 'YOLO labels: class names, from a dataset YAML (names:) or one name per line (default: classes.txt beside the labels)')
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
  $ samlite segment --prompts results.json --coco-images instances_val.json --image-root val/ --format coco --out masks/
  $ samlite segment photos/*.jpg --prompts runs/detect/predict/labels/ --classes data.yaml --format yolo-seg --out dataset/`,
  );
  cmd.action((images: string[], flags: SegmentFlags) => runSegment(images, flags, givenFlags(cmd)));
}
