/**
 * `samlite everything` over GeoTIFFs: the flags turned into the geo run's settings, its
 * reports into the UI (progress in tiles on a terminal, JSON lines, one-line errors). The
 * run itself is src/geo/run.ts.
 */
import { join } from 'node:path';
import { shardFromEnvironment, type AutoShard } from '../batch/scheduler-shard.js';
import type { InputItem } from '../batch/inputs.js';
import type { Shard } from '../batch/shard.js';
import { installInterruptHandler, interruptWording } from '../batch/interrupt.js';
import { UsageError } from '../errors.js';
import type { AreaLimit } from '../everything/area.js';
import type { EverythingOptionsInput } from '../everything/options.js';
import { PARTS_DIR } from '../datasets/paths.js';
import { isGeoFormat, type GeoFormat } from '../geo/outputs.js';
import { runGeoEverything, type GeoRunSettings } from '../geo/run.js';
import { Segmenter } from '../segmenter.js';
import { chooseModel } from '../store/resolve.js';
import { resolveMaxPixels } from '../image/limits.js';
import { assertFolderUsable } from '../writers/files.js';
import { checkFlagsFitFamily, fastSamSettingsFrom } from './fastsam-options.js';
import type { GeoFlags } from './geo-options.js';
import { sessionOptions, wantsJson, type CommonRunOptions } from './options.js';
import { createBatchProgress } from './progress.js';
import { createUi, emitJsonLine } from './ui.js';
import type { FastSamSettingsInput } from '../fastsam/settings.js';

/** The everything flags a geo run reads. */
export interface GeoEverythingFlags extends CommonRunOptions, GeoFlags, FastSamSettingsInput {
  format?: string[];
  polygonTolerance: number;
  minArea?: AreaLimit;
  maxArea?: AreaLimit;
  concurrency: number;
  skipExisting?: boolean;
  shard?: Shard | AutoShard;
}

/** Everything flags that do not apply to a geo run (pixel-image formats and record order). */
const NOT_GEO: Readonly<Record<string, string>> = {
  order: '--order',
  cocoSegmentation: '--coco-segmentation',
  imageUrlPrefix: '--image-url-prefix',
  labelstudioMasks: '--labelstudio-masks',
};

/**
 * Run `items` (every one a GeoTIFF) with the everything flags. `options` are the
 * algorithm's options from the flags (area filters included: applied after merging).
 */
export async function runGeoEverythingCommand(
  items: readonly InputItem[],
  flags: GeoEverythingFlags,
  given: ReadonlySet<string>,
  options: EverythingOptionsInput,
  gridFlags: Readonly<Record<string, string>>,
  problems: number,
): Promise<void> {
  const ui = createUi({ quiet: flags.quiet });
  const json = wantsJson(flags);
  for (const [attr, flag] of Object.entries(NOT_GEO)) if (given.has(attr)) throw new UsageError(`${flag} does not apply to GeoTIFF inputs`);
  const asked = flags.format ?? ['geojson'];
  const pixel = asked.filter((f) => !isGeoFormat(f));
  if (pixel.length > 0) throw new UsageError(`--format ${pixel.join(',')}: GeoTIFF inputs write geojson, fgb or label-tif`);
  const formats = asked as GeoFormat[];
  let shard: Shard | undefined;
  if (flags.shard && 'auto' in flags.shard) {
    const found = shardFromEnvironment(flags.shard);
    shard = found.shard;
    ui.info(`shard ${shard.index}/${shard.count} from ${found.source}`);
  } else {
    shard = flags.shard;
  }
  await assertFolderUsable(flags.out, '--out');
  // The area filters apply to whole objects, after the merge, not to each tile's masks.
  const { minArea: _min, maxArea: _max, ...everything } = options;

  const choice = chooseModel(flags.model);
  if (choice.notice) ui.info(choice.notice);
  checkFlagsFitFamily(choice.model, given, gridFlags);
  const fastsam = fastSamSettingsFrom(flags);
  const model = { name: choice.model.name, family: choice.model.family, ...(choice.model.family === 'fastsam' ? { fastsam } : {}) };

  let progress = createBatchProgress(ui, 0, { plural: 'tiles', rate: 'tiles/s' });
  const interrupt = installInterruptHandler({
    onFirst: (name) => {
      const { interrupted, again } = interruptWording(name);
      progress.log(`${interrupted}: stopping after the tiles in flight (${again} to stop at once)`);
    },
  });
  const settings: GeoRunSettings = {
    ...(flags.tile !== undefined ? { tile: flags.tile } : {}),
    ...(flags.overlap !== undefined ? { overlap: flags.overlap } : {}),
    maxPixels: resolveMaxPixels(flags.maxPixels),
    ...(flags.bands ? { bands: flags.bands } : {}),
    stretch: flags.stretch ?? { kind: 'auto' },
    ...(flags.nodata !== undefined ? { nodata: flags.nodata === 'none' ? null : flags.nodata } : {}),
    formats,
    geojsonCrs: flags.geojsonCrs ?? 'wgs84',
    polygonTolerance: flags.polygonTolerance,
    everything,
    minArea: flags.minArea ?? null,
    maxArea: flags.maxArea ?? null,
    ...(shard ? { shard } : {}),
    skipExisting: flags.skipExisting ?? false,
    overwrite: flags.overwrite ?? false,
    concurrency: flags.concurrency,
    outDir: flags.out,
    signal: interrupt.signal,
  };
  const started = Date.now();
  let summary;
  try {
    summary = await runGeoEverything(
      items.map((item) => ({ path: item.path, display: item.display, target: { input: item.path, root: item.root, outDir: flags.out } })),
      settings,
      model,
      () => Segmenter.open(choice.model, { ...sessionOptions(flags, ui, flags.concurrency), embeddingCache: false, fastsam }),
      {
        info: (message) => {
          if (!ui.quiet) progress.log(message);
        },
        warn: (message) => progress.log(`${ui.color.yellow('warning:')} ${message}`),
        failed: (input, message) => {
          progress.log(`${ui.color.red('error:')} ${input}: ${message}`);
          if (json) emitJsonLine({ image: input, error: message });
        },
        tilesPlanned: (total) => {
          progress.stop();
          progress = createBatchProgress(ui, total, { plural: 'tiles', rate: 'tiles/s' });
        },
        tileDone: (masks) => progress.imageDone(masks),
        rasterDone: (r) => {
          if (json) emitJsonLine({ image: r.input, tiles: r.tiles, masks: r.objects, outputs: r.outputs, ms: r.ms });
          if (!ui.quiet) progress.log(`${r.input}: ${r.objects} objects from ${r.tiles} tile${r.tiles === 1 ? '' : 's'} → ${r.outputs.join(', ')}`);
        },
      },
    );
  } finally {
    progress.stop();
    interrupt.dispose();
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const parts = [`${summary.tilesDone} tile${summary.tilesDone === 1 ? '' : 's'} segmented in ${seconds} s${summary.model ? ` with ${summary.model}` : ''}`];
  if (summary.tilesSkipped) parts.push(`${summary.tilesSkipped} tile${summary.tilesSkipped === 1 ? '' : 's'} already done`);
  if (summary.skipped) parts.push(`${summary.skipped} raster${summary.skipped === 1 ? '' : 's'} skipped (already done)`);
  const failed = summary.failed + problems;
  if (failed) parts.push(`${failed} failed`);
  if (shard && !summary.interrupted) parts.push(`shard ${shard.index}/${shard.count}: parts in ${join(flags.out, PARTS_DIR)}; once every shard is done: samlite merge ${flags.out}`);
  if (summary.interrupted) {
    parts.push(`${summary.tilesNotDone} tile${summary.tilesNotDone === 1 ? '' : 's'} not done (interrupted; rerun with --skip-existing to continue)`);
    ui.info(parts.join('; '));
    process.exitCode = interrupt.exitCode;
    return;
  }
  ui.info(parts.join('; '));
  if (failed > 0) process.exitCode = 1;
}
