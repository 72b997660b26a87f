/**
 * `samlite everything` and `samlite segment` over GeoTIFFs: the flags turned into the geo
 * run's settings, its reports into the UI (progress in tiles on a terminal only, JSON lines,
 * one-line errors), and the summary. The runs themselves are src/geo/run.ts.
 */
import { join } from 'node:path';
import { shardFromEnvironment, type AutoShard } from '../batch/scheduler-shard.js';
import type { InputItem } from '../batch/inputs.js';
import type { Shard } from '../batch/shard.js';
import { installInterruptHandler, interruptWording } from '../batch/interrupt.js';
import { PARTS_DIR } from '../datasets/paths.js';
import { UsageError } from '../util/errors.js';
import type { AreaLimit } from '../everything/area.js';
import type { EverythingOptionsInput } from '../everything/options.js';
import type { FastSamSettingsInput } from '../fastsam/settings.js';
import { isGeoFormat, type GeoFormat } from '../geo/outputs.js';
import { promptFromMapFlags, readPromptFile, type MapPrompt, type PromptFrame } from '../geo/prompts.js';
import { runGeoEverything, runGeoPrompts, type GeoJob, type GeoRunCommon, type GeoRunReporter, type GeoRunSummary } from '../geo/run.js';
import { resolveMaxPixels } from '../image/limits.js';
import { parseBoxFlag, parsePointFlag } from '../prompts/flags.js';
import { Segmenter } from '../segmenter/segmenter.js';
import { chooseModel } from '../store/resolve.js';
import { assertFolderUsable } from '../writers/files.js';
import { checkFlagsFitFamily, fastSamSettingsFrom } from './fastsam-options.js';
import type { GeoFlags } from './geo-options.js';
import { sessionOptions, wantsJson, type CommonRunOptions } from './options.js';
import { createBatchProgress, type BatchProgress } from './progress.js';
import { stopBatchOnStdoutGone } from './stdout.js';
import { createUi, emitJsonLine, type Ui } from './ui.js';

/** The flags both commands give a geo run. */
export interface GeoCommandFlags extends CommonRunOptions, GeoFlags, FastSamSettingsInput {
  format?: string[];
  polygonTolerance: number;
  skipExisting?: boolean;
}

/** The everything flags a geo run reads. */
export interface GeoEverythingFlags extends GeoCommandFlags {
  minArea?: AreaLimit;
  maxArea?: AreaLimit;
  concurrency: number;
  shard?: Shard | AutoShard;
}

/** The segment flags a geo run reads. */
export interface GeoSegmentFlags extends GeoCommandFlags {
  point?: string[];
  negPoint?: string[];
  box?: string;
  prompts?: string;
  promptCrs?: PromptFrame;
}

/** Flags of either command that do not apply to GeoTIFF inputs (by attribute name). */
const NOT_GEO: Readonly<Record<string, string>> = {
  order: '--order',
  cocoSegmentation: '--coco-segmentation',
  imageUrlPrefix: '--image-url-prefix',
  labelstudioMasks: '--labelstudio-masks',
  multimask: '--multimask',
  promptsFormat: '--prompts-format',
  imageRoot: '--image-root',
  minScore: '--min-score',
};

const TILES = { plural: 'tiles', rate: 'tiles/s' };

/** The run's UI: a progress bar in tiles (terminal only), JSON lines, one-line errors. */
class GeoUi implements GeoRunReporter {
  progress: BatchProgress;

  constructor(
    private readonly ui: Ui,
    private readonly json: boolean,
  ) {
    this.progress = createBatchProgress(ui, 0, TILES);
  }

  info(message: string) {
    if (!this.ui.quiet) this.progress.log(message);
  }
  warn(message: string) {
    this.progress.log(`${this.ui.color.yellow('warning:')} ${message}`);
  }
  failed(input: string, message: string) {
    this.progress.log(`${this.ui.color.red('error:')} ${input}: ${message}`);
    if (this.json) emitJsonLine({ image: input, error: message });
  }
  tilesPlanned(total: number) {
    this.progress.stop();
    this.progress = createBatchProgress(this.ui, total, TILES);
  }
  tileDone(masks: number) {
    this.progress.imageDone(masks);
  }
  rasterDone(r: { input: string; tiles: number; objects: number; outputs: readonly string[]; ms: number }) {
    if (this.json) emitJsonLine({ image: r.input, tiles: r.tiles, masks: r.objects, outputs: r.outputs, ms: r.ms });
    this.info(`${r.input}: ${r.objects} object${r.objects === 1 ? '' : 's'} from ${r.tiles} tile${r.tiles === 1 ? '' : 's'} → ${r.outputs.join(', ')}`);
  }
}

/** The formats asked for (default geojson); pixel-image formats are a UsageError. */
function geoFormats(asked: readonly string[] | undefined): GeoFormat[] {
  const formats = [...(asked ?? ['geojson'])];
  const pixel = formats.filter((f) => !isGeoFormat(f));
  if (pixel.length > 0) throw new UsageError(`--format ${pixel.join(',')}: GeoTIFF inputs write geojson, fgb or label-tif`);
  return formats as GeoFormat[];
}

/** Settings both runs share, from the flags. */
function commonSettings(flags: GeoCommandFlags, formats: readonly GeoFormat[], concurrency: number, shard: Shard | undefined, signal: AbortSignal): GeoRunCommon {
  return {
    ...(flags.tile !== undefined ? { tile: flags.tile } : {}),
    ...(flags.overlap !== undefined ? { overlap: flags.overlap } : {}),
    maxPixels: resolveMaxPixels(flags.maxPixels),
    ...(flags.bands ? { bands: flags.bands } : {}),
    stretch: flags.stretch ?? { kind: 'auto' },
    ...(flags.nodata !== undefined ? { nodata: flags.nodata === 'none' ? null : flags.nodata } : {}),
    formats,
    geojsonCrs: flags.geojsonCrs ?? 'wgs84',
    polygonTolerance: flags.polygonTolerance,
    ...(shard ? { shard } : {}),
    skipExisting: flags.skipExisting ?? false,
    overwrite: flags.overwrite ?? false,
    concurrency,
    outDir: flags.out,
    signal,
  };
}

/**
 * Run a geo run under the UI: the model chosen and opened on first need, Ctrl-C stopping
 * after the tiles in flight, the summary line and the exit code.
 */
async function runUnderUi(
  items: readonly Pick<InputItem, 'path' | 'display' | 'root'>[],
  flags: GeoCommandFlags,
  given: ReadonlySet<string>,
  gridFlags: Readonly<Record<string, string>>,
  concurrency: number,
  shard: Shard | undefined,
  problems: number,
  run: (jobs: GeoJob[], common: GeoRunCommon, model: Record<string, unknown>, open: () => Promise<Segmenter>, ui: GeoUi) => Promise<GeoRunSummary>,
): Promise<void> {
  const ui = createUi({ quiet: flags.quiet });
  const formats = geoFormats(flags.format);
  await assertFolderUsable(flags.out, '--out');
  const choice = chooseModel(flags.model);
  if (choice.notice) ui.info(choice.notice);
  checkFlagsFitFamily(choice.model, given, gridFlags);
  const fastsam = fastSamSettingsFrom(flags);
  // What identifies the model in the plans: its name and settings, not its path on this machine.
  const model = { name: choice.model.name, family: choice.model.family, ...(choice.model.family === 'fastsam' ? { fastsam } : {}) };
  const geoUi = new GeoUi(ui, wantsJson(flags));
  const interrupt = installInterruptHandler({
    onFirst: (name) => {
      const { interrupted, again } = interruptWording(name);
      geoUi.progress.log(`${interrupted}: stopping after the tiles in flight (${again} to stop at once)`);
    },
  });
  // A reader that closes the pipe stops the run as Ctrl-C does.
  const unwatchStdout = stopBatchOnStdoutGone(interrupt);
  const started = Date.now();
  let summary: GeoRunSummary;
  try {
    summary = await run(
      items.map((item) => ({ path: item.path, display: item.display, target: { input: item.path, root: item.root, outDir: flags.out } })),
      commonSettings(flags, formats, concurrency, shard, interrupt.signal),
      model,
      () => Segmenter.open(choice.model, { ...sessionOptions(flags, ui, concurrency), embeddingCache: false, fastsam }),
      geoUi,
    );
  } finally {
    geoUi.progress.stop();
    unwatchStdout();
    interrupt.dispose();
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const parts = [`${plural(summary.tilesDone, 'tile')} segmented in ${seconds} s${summary.model ? ` with ${summary.model}` : ''}`];
  if (summary.tilesSkipped) parts.push(`${plural(summary.tilesSkipped, 'tile')} already done`);
  if (summary.skipped) parts.push(`${plural(summary.skipped, 'raster')} skipped (already done)`);
  const failed = summary.failed + problems;
  if (failed) parts.push(`${failed} failed`);
  if (shard && !summary.interrupted) parts.push(`shard ${shard.index}/${shard.count}: parts in ${join(flags.out, PARTS_DIR)}; once every shard is done: samlite merge ${flags.out}`);
  if (summary.interrupted) {
    const notDone = [...(summary.tilesNotDone || !summary.rastersNotWritten ? [`${plural(summary.tilesNotDone, 'tile')} not done`] : []), ...(summary.rastersNotWritten ? [`${plural(summary.rastersNotWritten, 'raster')} not written`] : [])];
    parts.push(`${notDone.join(', ')} (${interrupt.reason?.why ?? 'interrupted'}; rerun with --skip-existing to continue)`);
    ui.info(parts.join('; '));
    process.exitCode = interrupt.exitCode;
    return;
  }
  ui.info(parts.join('; '));
  if (failed > 0) process.exitCode = 1;
}

function refuseNotGeo(given: ReadonlySet<string>): void {
  for (const [attr, flag] of Object.entries(NOT_GEO)) if (given.has(attr)) throw new UsageError(`${flag} does not apply to GeoTIFF inputs`);
}

/**
 * `samlite everything` over `items` (every one a GeoTIFF). `options` are the algorithm's
 * options from the flags; its area filters apply to whole objects, after the merge.
 * `problems`: inputs that already failed to expand (they count as failed).
 */
export async function runGeoEverythingCommand(
  items: readonly InputItem[],
  flags: GeoEverythingFlags,
  given: ReadonlySet<string>,
  options: EverythingOptionsInput,
  gridFlags: Readonly<Record<string, string>>,
  problems: number,
): Promise<void> {
  refuseNotGeo(given);
  let shard: Shard | undefined;
  if (flags.shard && 'auto' in flags.shard) {
    const found = shardFromEnvironment(flags.shard);
    shard = found.shard;
    createUi({ quiet: flags.quiet }).info(`shard ${shard.index}/${shard.count} from ${found.source}`);
  } else {
    shard = flags.shard;
  }
  const { minArea: _min, maxArea: _max, ...everything } = options;
  await runUnderUi(items, flags, given, gridFlags, flags.concurrency, shard, problems, (jobs, common, model, open, ui) =>
    runGeoEverything(jobs, { ...common, everything, minArea: flags.minArea ?? null, maxArea: flags.maxArea ?? null }, model, open, ui),
  );
}

/** `samlite segment` over `items` (every one a GeoTIFF), prompts from the flags or a vector file. */
export async function runGeoSegmentCommand(items: readonly Pick<InputItem, 'path' | 'display' | 'root'>[], flags: GeoSegmentFlags, given: ReadonlySet<string>): Promise<void> {
  refuseNotGeo(given);
  const fromFlags = flags.point || flags.negPoint || flags.box;
  if (fromFlags && flags.prompts) throw new UsageError('give prompts either as --point/--neg-point/--box or with --prompts, not both');
  let prompts: MapPrompt[];
  let frame: PromptFrame;
  if (flags.prompts) {
    const file = await readPromptFile(flags.prompts, flags.promptCrs);
    const ui = createUi({ quiet: flags.quiet });
    for (const problem of file.problems) ui.error(problem);
    prompts = file.prompts;
    frame = file.frame;
    if (prompts.length === 0) throw new UsageError(`--prompts ${flags.prompts}: no feature to prompt with`);
  } else if (fromFlags) {
    const points = (flags.point ?? []).map((t) => parsePointFlag(t, '--point'));
    const negPoints = (flags.negPoint ?? []).map((t) => parsePointFlag(t, '--neg-point'));
    if (points.length === 0 && !flags.box) throw new UsageError('--neg-point needs at least one --point or a --box: background points alone select nothing');
    prompts = [promptFromMapFlags(points, negPoints, flags.box === undefined ? undefined : parseBoxFlag(flags.box))];
    frame = flags.promptCrs ?? { kind: 'pixel' };
  } else {
    throw new UsageError('no prompt: give --point x,y, --box x1,y1,x2,y2 (with --prompt-crs for map coordinates) or --prompts file.geojson');
  }
  await runUnderUi(items, flags, given, {}, 1, undefined, 0, (jobs, common, model, open, ui) => runGeoPrompts(jobs, { ...common, prompts, frame }, model, open, ui));
}
