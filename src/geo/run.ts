/**
 * A segment-everything run over GeoTIFFs: per raster, plan the tiles, decide the stretch,
 * segment the tiles (a part per tile, resumable and shardable), then merge the parts into
 * georeferenced outputs. The CLI's `everything` hands GeoTIFF inputs to
 * {@link runGeoEverything}; its UI is the reporter.
 */
import pLimit from 'p-limit';
import { InputError, UsageError, oneLine } from '../errors.js';
import type { AreaLimit } from '../everything/area.js';
import type { EverythingOptionsInput } from '../everything/options.js';
import { maskToRle, rleArea, rleToMask } from '../masks/rle.js';
import { inShard, type Shard } from '../batch/shard.js';
import type { Segmenter } from '../segmenter.js';
import { pathExists } from '../writers/files.js';
import { assertNoExistingOutputs, outputPrefix, relativeInputName, type OutputTarget } from '../writers/naming.js';
import { join, relative } from 'node:path';
import { mergeTileParts, type MergeSettings } from './merge-run.js';
import { geoOutputFiles, type GeoFormat } from './outputs.js';
import { PLAN_NAME, readPlan, readTilePart, settingsKey, tilePartPath, tilesDir, writePlan, writeTilePart, type GeoPlan, type PartMask } from './parts.js';
import { openGeoRaster, type GeoRaster } from './raster.js';
import { SEAM_MERGE_DEFAULTS, type SeamMergeOptions } from './seam-merge.js';
import { computeStretch, defaultBands, readRgbWindow, type PixelRecipe, type StretchSpec } from './stretch.js';
import { allTiles, planTiles, tileKey, type Tile, type TilePlan } from './tiling.js';

/** Tile side and overlap used when a raster over the pixel limit is tiled without --tile. */
export const DEFAULT_TILE = 1024;
export const DEFAULT_OVERLAP = 128;

/** Settings of a geo everything run. */
export interface GeoRunSettings {
  /** Tile side; undefined: the whole raster as one tile, unless it is over `maxPixels`. */
  readonly tile?: number;
  /** Overlap of neighbouring tiles. Default {@link DEFAULT_OVERLAP}, at most half the tile. */
  readonly overlap?: number;
  readonly maxPixels: number;
  /** 0-based bands to read as grey or RGB; default {@link defaultBands}. */
  readonly bands?: readonly number[];
  readonly stretch: StretchSpec;
  /** No-data value overriding the file's; null: ignore the file's. */
  readonly nodata?: number | null;
  readonly formats: readonly GeoFormat[];
  readonly geojsonCrs: 'wgs84' | 'raster';
  readonly polygonTolerance: number;
  /** The algorithm's options for each tile (its area filters are applied after merging). */
  readonly everything: EverythingOptionsInput;
  readonly minArea: AreaLimit | null;
  readonly maxArea: AreaLimit | null;
  readonly seam?: SeamMergeOptions;
  readonly shard?: Shard;
  readonly skipExisting: boolean;
  readonly overwrite: boolean;
  /** Tiles in flight at once. */
  readonly concurrency: number;
  readonly outDir: string;
  readonly signal?: AbortSignal;
}

/** One raster to run. */
export interface GeoJob {
  readonly path: string;
  /** Its name in messages. */
  readonly display: string;
  readonly target: OutputTarget;
}

/** What the run tells its user. */
export interface GeoRunReporter {
  info(message: string): void;
  warn(message: string): void;
  /** A raster failed (one line). */
  failed(input: string, message: string): void;
  /** The tiles this process will segment, once known (for the progress bar). */
  tilesPlanned(total: number): void;
  /** One tile done with `masks` masks. */
  tileDone(masks: number): void;
  /** A raster's outputs written. */
  rasterDone(result: GeoRasterResult): void;
}

/** One raster's outcome. */
export interface GeoRasterResult {
  readonly input: string;
  readonly tiles: number;
  readonly objects: number;
  readonly outputs: readonly string[];
  readonly ms: number;
}

/** The run's totals. */
export interface GeoRunSummary {
  readonly rasters: number;
  readonly tilesDone: number;
  readonly tilesSkipped: number;
  readonly tilesNotDone: number;
  readonly objects: number;
  readonly failed: number;
  readonly skipped: number;
  readonly interrupted: boolean;
  readonly model?: string;
}

interface Prepared {
  readonly job: GeoJob;
  readonly raster: GeoRaster;
  readonly plan: GeoPlan;
  readonly tiles: TilePlan;
  readonly recipe: PixelRecipe;
  readonly dir: string;
  readonly key: string;
  readonly todo: Tile[];
  readonly skippedTiles: number;
  failed: boolean;
  started: number;
}

/** The tile plan of a raster under `settings` (a note when it was tiled for being over the limit). */
export function tilingFor(width: number, height: number, settings: Pick<GeoRunSettings, 'tile' | 'overlap' | 'maxPixels'>): { plan: TilePlan; note?: string } {
  if (settings.tile !== undefined) {
    const overlap = settings.overlap ?? Math.min(DEFAULT_OVERLAP, Math.floor(settings.tile / 4));
    if (overlap * 2 > settings.tile) throw new UsageError(`--overlap ${overlap}: at most half of --tile ${settings.tile}`);
    return { plan: planTiles(width, height, settings.tile, overlap) };
  }
  if (settings.overlap !== undefined) throw new UsageError('--overlap needs --tile');
  if (width * height > settings.maxPixels) {
    return {
      plan: planTiles(width, height, DEFAULT_TILE, DEFAULT_OVERLAP),
      note: `${width}x${height} is over --max-pixels: tiles of ${DEFAULT_TILE} px overlapping by ${DEFAULT_OVERLAP} (--tile, --overlap to choose)`,
    };
  }
  const side = Math.max(width, height, 16);
  return { plan: planTiles(width, height, side, 0) };
}

/** The merge settings a run records in its plans. */
export function mergeSettingsFrom(settings: GeoRunSettings): MergeSettings {
  return {
    seam: { ...SEAM_MERGE_DEFAULTS, ...settings.seam },
    minArea: settings.minArea,
    maxArea: settings.maxArea,
    geojsonCrs: settings.geojsonCrs,
    polygonTolerance: settings.polygonTolerance,
  };
}

async function prepare(job: GeoJob, settings: GeoRunSettings, model: Readonly<Record<string, unknown>>, reporter: GeoRunReporter): Promise<Prepared> {
  const raster = await openGeoRaster(job.path, job.display);
  try {
    const { plan: tiles, note } = tilingFor(raster.width, raster.height, settings);
    if (note) reporter.info(`${job.display}: ${note}`);
    const bands = settings.bands ? [...settings.bands] : defaultBands(raster);
    for (const b of bands) if (b >= raster.bands) throw new InputError(`${job.display}: --bands ${b + 1}: the raster has ${raster.bands} band${raster.bands === 1 ? '' : 's'}`);
    const nodata = settings.nodata === null ? undefined : (settings.nodata ?? raster.nodata);
    const stretch = await computeStretch(raster, bands, settings.stretch, nodata);
    const recipe: PixelRecipe = { bands, stretch, ...(nodata !== undefined ? { nodata } : {}), ...(raster.alphaBand !== undefined ? { alphaBand: raster.alphaBand } : {}) };
    const dir = tilesDir(job.target);
    const plan: GeoPlan = {
      name: relativeInputName(job.target),
      outputPrefix: relative(job.target.outDir, outputPrefix(job.target)).split('\\').join('/'),
      width: raster.width,
      height: raster.height,
      tile: tiles.tile,
      overlap: tiles.overlap,
      transform: raster.transform,
      crs: raster.crs ?? null,
      geoTags: raster.geoTags,
      formats: [...settings.formats],
      tileSettings: { model, everything: settings.everything, recipe: { ...recipe, nodata: recipe.nodata ?? null } },
      mergeSettings: mergeSettingsFrom(settings) as unknown as Record<string, unknown>,
    };
    const key = settingsKey(plan);
    const mine = allTiles(tiles).filter((t) => !settings.shard || inShard(`${plan.name}#${tileKey(t)}`, settings.shard));
    let todo = mine;
    if (settings.skipExisting) {
      if (await pathExists(join(dir, PLAN_NAME))) {
        const old = await readPlan(dir);
        if (settingsKey(old) !== key) {
          throw new InputError(`${job.display}: the tile parts in ${dir} were made with other settings (model, tiles, bands or options); run with --overwrite to redo them`);
        }
      }
      todo = [];
      for (const t of mine) if (!(await partDone(tilePartPath(dir, t), key))) todo.push(t);
    }
    return { job, raster, plan, tiles, recipe, dir, key, todo, skippedTiles: mine.length - todo.length, failed: false, started: Date.now() };
  } catch (err) {
    await raster.close();
    throw err;
  }
}

/** Whether a tile's part is there and made with these settings. */
async function partDone(path: string, key: string): Promise<boolean> {
  if (!(await pathExists(path))) return false;
  try {
    return (await readTilePart(path)).settings === key;
  } catch {
    return false;
  }
}

/** Segment one tile: its masks, cut to the data pixels, and how many pixels were data. */
async function segmentTile(segmenter: () => Promise<Segmenter>, p: Prepared, tile: Tile, settings: GeoRunSettings): Promise<{ masks: PartMask[]; valid: number }> {
  const rgb = await readRgbWindow(p.raster, tile.window, p.recipe, settings.signal);
  if (rgb.validCount === 0) return { masks: [], valid: 0 };
  const { records } = await (await segmenter()).everything({ width: rgb.width, height: rgb.height, data: rgb.data }, { ...settings.everything, signal: settings.signal });
  const masks: PartMask[] = [];
  for (const r of records) {
    let rle = r.rle;
    if (rgb.valid) {
      // No masks from no data: cut each mask to the data pixels, and drop one that was mostly no data.
      const mask = rleToMask(rle);
      const before = rleArea(rle);
      let after = 0;
      for (let i = 0; i < mask.data.length; i++) {
        if (mask.data[i] && !rgb.valid[i]) mask.data[i] = 0;
        else if (mask.data[i]) after++;
      }
      if (after * 2 < before || after === 0) continue;
      rle = maskToRle(mask);
    }
    masks.push({ rle, score: r.predictedIou, stability: r.stabilityScore });
  }
  return { masks, valid: rgb.validCount };
}

/**
 * Run `jobs` (GeoTIFFs): see the module comment. `model` identifies the model and its
 * settings in the plans (parts of another model are never mixed in); `openSegmenter` is
 * called once, when the first tile needs the model. Throws a UsageError before any work
 * for existing outputs that stop the run; a raster that fails is reported and the others go on.
 */
export async function runGeoEverything(
  jobs: readonly GeoJob[],
  settings: GeoRunSettings,
  model: Readonly<Record<string, unknown>>,
  openSegmenter: () => Promise<Segmenter>,
  reporter: GeoRunReporter,
): Promise<GeoRunSummary> {
  let failed = 0;
  const fail = (input: string, err: unknown) => {
    failed++;
    const message = oneLine(err);
    reporter.failed(input, message.startsWith(`${input}: `) ? message.slice(input.length + 2) : message);
  };

  // Existing outputs stop the run up front unless --overwrite or --skip-existing.
  const finals = jobs.map((job) => geoOutputFiles(job.target, settings.formats));
  if (!settings.skipExisting) {
    const plans = jobs.map((job) => join(tilesDir(job.target), PLAN_NAME));
    await assertNoExistingOutputs([...finals.flat(), ...(settings.shard ? [] : plans)], settings.overwrite, ['--overwrite to replace it', '--skip-existing to keep finished tiles']);
  }

  const prepared: Prepared[] = [];
  let skipped = 0;
  for (const [i, job] of jobs.entries()) {
    if (settings.skipExisting && !settings.shard && (await allExist(finals[i]))) {
      skipped++;
      continue;
    }
    try {
      prepared.push(await prepare(job, settings, model, reporter));
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      fail(job.display, err);
    }
  }

  let opened: Promise<Segmenter> | undefined;
  const segmenter = () => (opened ??= openSegmenter());
  const total = prepared.reduce((n, p) => n + p.todo.length, 0);
  reporter.tilesPlanned(total);
  let tilesDone = 0;
  let tilesNotDone = 0;
  let objects = 0;
  const limit = pLimit(Math.max(1, settings.concurrency));
  try {
    for (const p of prepared) await writePlan(p.dir, p.plan);
    const work = prepared.flatMap((p) =>
      p.todo.map((tile) =>
        limit(async () => {
          if (p.failed || settings.signal?.aborted) {
            tilesNotDone++;
            return;
          }
          try {
            const { masks, valid } = await segmentTile(segmenter, p, tile, settings);
            await writeTilePart(tilePartPath(p.dir, tile), { settings: p.key, window: tile.window, validPixels: valid, masks });
            tilesDone++;
            reporter.tileDone(masks.length);
          } catch (err) {
            if (settings.signal?.aborted && !(err instanceof InputError)) {
              tilesNotDone++;
              return;
            }
            if (!(err instanceof InputError)) throw err;
            if (!p.failed) {
              p.failed = true;
              fail(p.job.display, err);
            }
          }
        }),
      ),
    );
    await Promise.all(work);

    if (!settings.signal?.aborted && !settings.shard) {
      for (const p of prepared) {
        if (p.failed) continue;
        try {
          const result = await mergeTileParts(p.dir, p.plan, settings.outDir);
          for (const w of result.warnings) reporter.warn(w);
          objects += result.objects;
          reporter.rasterDone({ input: p.job.display, tiles: p.tiles.rows * p.tiles.cols, objects: result.objects, outputs: result.files, ms: Date.now() - p.started });
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          fail(p.job.display, err);
        }
      }
    }
  } finally {
    for (const p of prepared) await p.raster.close();
    if (opened) await (await opened).close();
  }
  return {
    rasters: prepared.length,
    tilesDone,
    tilesSkipped: prepared.reduce((n, p) => n + p.skippedTiles, 0),
    tilesNotDone,
    objects,
    failed,
    skipped,
    interrupted: settings.signal?.aborted ?? false,
    ...(opened ? { model: (await opened).modelName } : {}),
  };
}

async function allExist(files: readonly string[]): Promise<boolean> {
  for (const f of files) if (!(await pathExists(f))) return false;
  return true;
}
