import { Option, type Command } from 'commander';
import { installInterruptHandler, interruptWording } from '../../batch/interrupt.js';
import { shardFromEnvironment, type AutoShard } from '../../batch/scheduler-shard.js';
import type { Shard } from '../../batch/shard.js';
import { DEFAULT_CATEGORY, type DatasetFormat } from '../../datasets/types.js';
import type { AreaLimit } from '../../everything/area.js';
import { EVERYTHING_DEFAULTS, SAM2_EVERYTHING_DEFAULTS, resolveEverythingOptions, type EverythingMode, type EverythingOptionsInput } from '../../everything/options.js';
import type { FastSamSettingsInput } from '../../fastsam/settings.js';
import { GEO_FORMATS, isGeoFormat } from '../../geo/outputs.js';
import { datasetSettings } from '../../jobs/dataset-run.js';
import { ImageReadAhead } from '../../jobs/read-ahead.js';
import { expandEverythingInputs, finishEverythingDataset, prepareEverythingRun, runEverythingJobs } from '../../jobs/everything-run.js';
import { DEFAULT_POLYGON_TOLERANCE } from '../../masks/polygons.js';
import { Segmenter } from '../../segmenter/segmenter.js';
import { chooseModel } from '../../store/resolve.js';
import { UsageError } from '../../util/errors.js';
import type { EverythingFormat } from '../../writers/naming.js';
import { EverythingFunnel } from '../everything-funnel.js';
import { checkFlagsFitFamily, fastSamOptions, fastSamSettingsFrom, givenFlags } from '../fastsam-options.js';
import { runGeoEverythingCommand } from '../geo-commands.js';
import { geoOptions, splitGeoInputs, type GeoFlags } from '../geo-options.js';
import { commonRunOptions, datasetOptions, sessionOptions, splitFormats, wantsJson, type CommonRunOptions, type DatasetFlags } from '../options.js';
import { createBatchProgress, withSpinner } from '../progress.js';
import { stopBatchOnStdoutGone } from '../stdout.js';
import { createUi, emitJsonLine, jobReport } from '../ui.js';

interface EverythingFlags extends CommonRunOptions, DatasetFlags, FastSamSettingsInput, GeoFlags {
  grid: number;
  mode: EverythingMode;
  fast?: boolean;
  predIouThresh: number;
  stabilityThresh: number;
  stabilityOffset: number;
  nmsThresh: number;
  cropLayers: number;
  cropOverlap: number;
  cropPointsDownscale: number;
  cropNmsThresh: number;
  minRegionArea: number;
  /** Parsed by its OPTION_RANGES entry (src/cli/ranges.ts). */
  minArea?: AreaLimit;
  maxArea?: AreaLimit;
  lowRes: number | 'full';
  /** commander's --no-multimask sets this to false. */
  multimask: boolean;
  m2m?: boolean;
  order: 'reference' | 'area';
  format?: (EverythingFormat | DatasetFormat | (typeof GEO_FORMATS)[number])[];
  polygonTolerance: number;
  recursive?: boolean;
  concurrency: number;
  skipExisting?: boolean;
  /** Parsed by the --shard entry of ranges.ts: k/n, or auto[/n] resolved in runEverything. */
  shard?: Shard | AutoShard;
}

/** The grid algorithm's flags, which a FastSAM model has no use for. */
const GRID_FLAGS: Readonly<Record<string, string>> = {
  grid: '--grid',
  mode: '--mode',
  fast: '--fast',
  predIouThresh: '--pred-iou-thresh',
  stabilityThresh: '--stability-thresh',
  stabilityOffset: '--stability-offset',
  nmsThresh: '--nms-thresh',
  cropLayers: '--crop-layers',
  cropOverlap: '--crop-overlap',
  cropPointsDownscale: '--crop-points-downscale',
  cropNmsThresh: '--crop-nms-thresh',
  lowRes: '--low-res',
  multimask: '--no-multimask',
  m2m: '--m2m',
};

/**
 * The algorithm options the flags given on the command line ask for, validated before any
 * image is read. Flags left out are left out here too, so the library's defaults apply
 * (the commander defaults shown in --help are those same EVERYTHING_DEFAULTS), and a
 * FastSAM model receives no grid option it would refuse.
 */
function algorithmOptions(flags: EverythingFlags, given: ReadonlySet<string>): EverythingOptionsInput {
  if (flags.fast && given.has('mode') && flags.mode !== 'fast') throw new UsageError(`--fast contradicts --mode ${flags.mode}`);
  // [flag attribute, option, value]; --fast after --mode, which it agrees with if both are given.
  const byFlag: readonly [keyof EverythingFlags, keyof EverythingOptionsInput, unknown][] = [
    ['mode', 'mode', flags.mode],
    ['fast', 'mode', 'fast'],
    ['grid', 'pointsPerSide', flags.grid],
    ['predIouThresh', 'predIouThresh', flags.predIouThresh],
    ['stabilityThresh', 'stabilityThresh', flags.stabilityThresh],
    ['stabilityOffset', 'stabilityOffset', flags.stabilityOffset],
    ['nmsThresh', 'boxNmsThresh', flags.nmsThresh],
    ['cropLayers', 'cropLayers', flags.cropLayers],
    ['cropOverlap', 'cropOverlapRatio', flags.cropOverlap],
    ['cropPointsDownscale', 'cropPointsDownscale', flags.cropPointsDownscale],
    ['cropNmsThresh', 'cropNmsThresh', flags.cropNmsThresh],
    ['minRegionArea', 'minRegionArea', flags.minRegionArea],
    ['minArea', 'minArea', flags.minArea ?? null],
    ['maxArea', 'maxArea', flags.maxArea ?? null],
    ['lowRes', 'lowResSize', flags.lowRes],
    ['order', 'order', flags.order],
    ['multimask', 'multimask', flags.multimask],
    ['m2m', 'useM2m', flags.m2m === true],
  ];
  const options: EverythingOptionsInput = Object.fromEntries(byFlag.filter(([flag]) => given.has(flag)).map(([, option, value]) => [option, value]));
  resolveEverythingOptions(options);
  return options;
}

async function runEverything(inputs: string[], flags: EverythingFlags, given: ReadonlySet<string>): Promise<void> {
  const ui = createUi({ quiet: flags.quiet });
  const json = wantsJson(flags);
  const options = algorithmOptions(flags, given);
  const expanded = await expandEverythingInputs(inputs, flags.recursive);
  // GeoTIFFs are segmented tile by tile into georeferenced outputs (src/geo/).
  if (await splitGeoInputs(expanded.items, given, (flags.format ?? []).filter(isGeoFormat))) {
    for (const problem of expanded.problems) {
      ui.error(`${problem.input}: ${problem.error}`);
      if (json) emitJsonLine({ image: problem.input, error: problem.error });
    }
    return runGeoEverythingCommand(expanded.items, flags, given, options, GRID_FLAGS, expanded.problems.length);
  }
  const { own: formats, dataset } = splitFormats<EverythingFormat>((flags.format ?? ['json']) as (EverythingFormat | DatasetFormat)[]);
  let shard: Shard | undefined;
  if (flags.shard && 'auto' in flags.shard) {
    const found = shardFromEnvironment(flags.shard);
    shard = found.shard;
    ui.info(`shard ${shard.index}/${shard.count} from ${found.source}`);
  } else {
    shard = flags.shard;
  }
  // Faithful runs keep the documented line and summary unchanged; only a fast run says so.
  const fast = options.mode === 'fast';
  const request = { inputs, recursive: flags.recursive, shard, outDir: flags.out, formats, dataset, skipExisting: flags.skipExisting, overwrite: flags.overwrite };
  const { todo, problems, skipped, overwrite, partPaths } = await prepareEverythingRun(request, expanded);

  let failed = 0;
  for (const problem of problems) {
    failed++;
    ui.error(`${problem.input}: ${problem.error}`);
    if (json) emitJsonLine({ image: problem.input, error: problem.error });
  }
  if (todo.length === 0) {
    ui.info(`nothing to do: ${skipped} image${skipped === 1 ? '' : 's'} already done${failed ? `; ${failed} failed` : ''}`);
    // Nothing new is written, so no model is needed: the parts say which made them.
    failed += await finishEverythingDataset(jobReport(ui, json), request, partPaths, datasetSettings({ ...flags, overwrite }, dataset, [DEFAULT_CATEGORY], ''));
    if (failed > 0) process.exitCode = 1;
    return;
  }

  const choice = chooseModel(flags.model);
  if (choice.notice) ui.info(choice.notice);
  checkFlagsFitFamily(choice.model, given, GRID_FLAGS);
  // The first images decode while the model loads.
  const readAhead = new ImageReadAhead();
  for (const item of todo.slice(0, flags.concurrency)) readAhead.start(item.path, { maxPixels: flags.maxPixels, source: item.display });
  await readAhead.decodesRunning();
  const segmenter = await withSpinner(ui, `loading ${choice.model.name}`, () =>
    Segmenter.open(choice.model, { ...sessionOptions(flags, ui, flags.concurrency), embeddingCache: false, fastsam: fastSamSettingsFrom(flags) }),
  );

  const settings = datasetSettings({ ...flags, overwrite }, dataset, [DEFAULT_CATEGORY], segmenter.modelName);
  const progress = createBatchProgress(ui, todo.length);
  const interrupt = installInterruptHandler({
    onFirst: (name) => {
      const { interrupted, again } = interruptWording(name);
      progress.log(`${interrupted}: finishing images in flight (${again} to stop at once)`);
    },
  });
  // A reader that closes the pipe stops the batch as Ctrl-C does.
  const unwatchStdout = stopBatchOnStdoutGone(interrupt);
  const funnel = new EverythingFunnel();
  const started = Date.now();
  let result;
  try {
    result = await runEverythingJobs(
      segmenter,
      todo,
      { options, outDir: flags.out, formats, dataset: settings, polygonTolerance: flags.polygonTolerance, overwrite, maxPixels: flags.maxPixels, concurrency: flags.concurrency, readAhead },
      {
        onImage(item, { records, stats, outputs, ms }) {
          funnel.add(stats);
          if (json) emitJsonLine({ image: item.display, model: segmenter.modelName, ...(fast ? { mode: 'fast' } : {}), masks: records.length, outputs, ms });
          progress.imageDone(records.length);
        },
        onFailure(item, message) {
          progress.clear();
          ui.error(message);
          if (json) emitJsonLine({ image: item.display, error: message.startsWith(`${item.display}: `) ? message.slice(item.display.length + 2) : message });
          progress.imageDone(0);
        },
      },
      interrupt,
    );
  } finally {
    progress.stop();
    unwatchStdout();
    interrupt.dispose();
    await segmenter.close();
  }
  failed += result.failed;
  failed += await finishEverythingDataset(jobReport(ui, json), request, partPaths, settings);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const parts = [`${result.done} image${result.done === 1 ? '' : 's'} done (${result.masks} masks) in ${seconds} s with ${segmenter.modelName}${fast ? ' (fast mode)' : ''}`];
  if (skipped) parts.push(`${skipped} skipped (already done)`);
  if (failed) parts.push(`${failed} failed`);
  if (interrupt.signal.aborted) {
    parts.push(`${result.notDone} not done (${interrupt.reason?.why ?? 'interrupted'}; rerun with --skip-existing to continue)`);
    ui.info(parts.join('; '));
    process.exitCode = interrupt.exitCode;
    return;
  }
  ui.info(parts.join('; '));
  // Not under --quiet: a run that kept nothing needs saying even then.
  const empty = funnel.hint();
  if (empty) ui.warn(empty);
  if (failed > 0) process.exitCode = 1;
}

export function registerEverythingCommand(program: Command): void {
  const d = EVERYTHING_DEFAULTS;
  const cmd = program
    .command('everything')
    .description("every mask of every image, by SAM's automatic mask generator (grid prompts, filters, NMS)")
    .argument('<input...>', 'images, folders, glob patterns, or - for one path per line on stdin')
    .addOption(new Option('-g, --grid <n>', 'points per side of the prompt grid (presets 16, 32, 64)').default(d.pointsPerSide))
    .addOption(
      new Option('--mode <mode>', "faithful: the reference algorithm; fast: skip grid points already inside another point's finest confident mask")
        .choices(['faithful', 'fast'])
        .default(d.mode),
    )
    .option('--fast', 'same as --mode fast')
    .addOption(new Option('--pred-iou-thresh <x>', 'keep masks whose predicted IoU is above this').default(d.predIouThresh, `${d.predIouThresh}; ${SAM2_EVERYTHING_DEFAULTS.predIouThresh} for SAM 2 models, as its generator`))
    .addOption(new Option('--stability-thresh <x>', 'keep masks whose stability score is at least this').default(d.stabilityThresh))
    .addOption(new Option('--stability-offset <x>', 'logit offset of the stability score').default(d.stabilityOffset))
    .addOption(new Option('--nms-thresh <x>', 'box IoU above which NMS drops the lower-scored mask').default(d.boxNmsThresh))
    .addOption(new Option('--crop-layers <n>', 'extra layers of image crops, each encoded on its own').default(d.cropLayers))
    .addOption(new Option('--crop-overlap <x>', 'overlap of neighbouring crops, as a fraction of the short side').default(d.cropOverlapRatio, '512/1500'))
    .addOption(new Option('--crop-points-downscale <n>', 'divide the grid by this per crop layer').default(d.cropPointsDownscale))
    .addOption(new Option('--crop-nms-thresh <x>', 'box IoU for NMS across crops').default(d.cropNmsThresh))
    .addOption(new Option('--min-region-area <px>', 'fill holes and remove islands smaller than this (SA-1B used 100; 0 = off)').default(d.minRegionArea))
    .option('--min-area <px|fraction>', 'drop masks smaller than this')
    .option('--max-area <px|fraction>', 'drop masks larger than this')
    .addOption(
      new Option('--low-res <px|full>', "longest side at which candidates are rendered and filtered; 'full' = the reference's full resolution")
        .default(d.lowResSize),
    )
    .option('--no-multimask', "each grid point gives its one single-mask answer, not three candidates (SAM 2's multimask_output=False)")
    .option('--m2m', "SAM 2: decode every candidate once more with its own low-resolution logits as mask input (SAM 2's use_m2m)")
    .addOption(new Option('--order <how>', 'record order').choices(['reference', 'area']).default(d.order))
    .addOption(
      new Option('-f, --format <list>', 'outputs to write, comma-separated')
        .default(undefined, 'json'),
    )
    .addOption(new Option('--polygon-tolerance <px>', 'Douglas-Peucker tolerance of polygon outlines (0 = exact)').default(DEFAULT_POLYGON_TOLERANCE))
    .option('-r, --recursive', 'descend into sub-folders of folder inputs')
    .addOption(new Option('-c, --concurrency <n>', 'images in flight at once').default(2))
    .option('--skip-existing', 'skip images whose outputs are all there (resume an interrupted run)')
    .addOption(new Option('--shard <k/n|auto>', 'process only shard k of n (a deterministic split by path); auto: k and n from a Kubernetes, Slurm, AWS Batch or GNU parallel task'));
  for (const option of [...datasetOptions(), ...fastSamOptions(), ...geoOptions('everything'), ...commonRunOptions()]) cmd.addOption(option);
  cmd.addHelpText(
    'after',
    `
FastSAM models (--model fastsam-s, builtin-fastsam) run one forward pass per image: the grid
flags do not apply to them and the --conf/--iou/--max-det/--imgsz flags apply only to them.

Outputs per image under --out (sub-folders of a walked folder are kept):
  json      <stem>.json           SA-1B layout, COCO compressed RLE
  labels    <stem>.labels.png     label map, 0 = background (8-bit, 16-bit past 255 masks)
  masks     <stem>.masks/         one PNG per mask + metadata.csv
  overlay   <stem>.overlay.png    every mask in its own colour
  polygons  <stem>.geojson, <stem>.coco-polygons.json
Datasets, one for the whole run (parts per image in samlite-parts/ until merged):
  coco         coco.json          COCO instance segmentation (RLE or --coco-segmentation polygon)
  yolo-seg     data.yaml, labels/<stem>.txt, images/ (links to the inputs)
  labelme      <stem>.json        one labelme file per image
  labelstudio  labelstudio.json   Label Studio tasks with polygon pre-annotations

Examples:
  $ samlite everything photos/ --grid 32 --out masks/
  $ samlite everything photos/ --fast --out masks/            # far fewer decoder runs; see docs/fast-mode.md
  $ samlite everything 'shots/**/*.jpg' --format json,labels,overlay --out out/ --skip-existing
  $ samlite everything big/ -r --shard 2/4 --out out/          # machine 2 of 4
  $ samlite everything photos/ --format yolo-seg --out dataset/  # then: yolo train data=dataset/data.yaml
  $ samlite everything /data/in -r --shard auto --skip-existing --out /data/out   # one task of a Slurm or AWS Batch array
  $ samlite everything /data/in -r --shard auto/16 --skip-existing --out /data/out   # a Kubernetes Indexed Job of 16
  $ find shots -name '*.jpg' | samlite everything - --json | jq .masks`,
  );
  cmd.action((inputs: string[], flags: EverythingFlags) => runEverything(inputs, flags, givenFlags(cmd)));
}
