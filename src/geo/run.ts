/**
 * Runs over GeoTIFFs, segment-everything ({@link runGeoEverything}) or prompts
 * ({@link runGeoPrompts}): per raster, plan the tiles, decide the stretch, segment the
 * windows (a part per window, resumable, and for everything shardable), then write the
 * georeferenced outputs from the parts. The CLI hands GeoTIFF inputs here; its UI is the
 * reporter.
 */
import { join, relative } from 'node:path';
import pLimit from 'p-limit';
import { inShard, type Shard } from '../batch/shard.js';
import { InputError, UsageError, oneLine } from '../util/errors.js';
import type { AreaLimit } from '../everything/area.js';
import type { EverythingOptionsInput } from '../everything/options.js';
import { maskToRle, rleToMask } from '../masks/rle.js';
import type { BinaryMask } from '../masks/types.js';
import type { Segmenter } from '../segmenter/segmenter.js';
import { pathExists } from '../writers/files.js';
import { assertNoExistingOutputs, outputPrefix, relativeInputName } from '../writers/naming.js';
import { mergeTileParts, type MergeSettings } from './merge-run.js';
import { geoOutputFiles, type GeoFormat } from './outputs.js';
import { PLAN_NAME, readPlan, readTilePart, settingsKey, tilePartPath, tilesDir, writePlan, writeTilePart, type GeoPlan, type PartMask } from './parts.js';
import { placePrompt, type MapPrompt, type PromptFrame } from './prompts.js';
import { writePromptObjects, promptUnits, type PromptUnit } from './prompt-run.js';
import type { GeoJob, OpenedRaster, WorkUnit } from './work.js';
import { openGeoRaster } from './raster.js';
import { SEAM_MERGE_DEFAULTS, type SeamMergeOptions } from './seam-merge.js';
import { computeStretch, defaultBands, readRgbWindow, type PixelRecipe, type RgbWindow, type StretchSpec } from './stretch.js';
import { allTiles, planTiles, tileKey, type TilePlan } from './tiling.js';

export type { GeoJob, OpenedRaster, WorkUnit } from './work.js';

/** Tile side and overlap used when a raster over the pixel limit is tiled without --tile. */
export const DEFAULT_TILE = 1024;
export const DEFAULT_OVERLAP = 128;

/** Settings every geo run shares. */
export interface GeoRunCommon {
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
  readonly shard?: Shard;
  readonly skipExisting: boolean;
  readonly overwrite: boolean;
  /** Windows in flight at once. */
  readonly concurrency: number;
  readonly outDir: string;
  readonly signal?: AbortSignal;
}

/** Settings of a segment-everything run over GeoTIFFs. */
export interface GeoRunSettings extends GeoRunCommon {
  /** The algorithm's options for each tile (its area filters are applied after merging). */
  readonly everything: EverythingOptionsInput;
  readonly minArea: AreaLimit | null;
  readonly maxArea: AreaLimit | null;
  readonly seam?: SeamMergeOptions;
}

/** Settings of a prompt run over GeoTIFFs. */
export interface GeoPromptSettings extends GeoRunCommon {
  readonly prompts: readonly MapPrompt[];
  readonly frame: PromptFrame;
}

/** What the run tells its user. */
export interface GeoRunReporter {
  info(message: string): void;
  warn(message: string): void;
  /** A raster (or one prompt) failed: one line. */
  failed(input: string, message: string): void;
  /** The windows this process will segment, once known (for the progress bar). */
  tilesPlanned(total: number): void;
  /** One window done with `masks` masks. */
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
  /** Rasters whose tiles were done but whose outputs were not written (interrupted first). */
  readonly rastersNotWritten: number;
  readonly objects: number;
  readonly failed: number;
  readonly skipped: number;
  readonly interrupted: boolean;
  readonly model?: string;
}

/** What differs between everything and prompt runs. */
interface RunKind<U extends WorkUnit> {
  /** The windows of one raster, the settings its parts depend on, and prompts that cannot run. */
  units(opened: OpenedRaster): { units: U[]; tileSettings: Record<string, unknown>; problems: string[] };
  /** Which units this process does (a shard's share). */
  mine(plan: GeoPlan, units: readonly U[]): U[];
  mergeSettings: Record<string, unknown>;
  /** The masks of one unit, cut to the data pixels. */
  segment(segmenter: Segmenter, rgb: RgbWindow, unit: U, signal: AbortSignal | undefined): Promise<PartMask[]>;
  /** Write the raster's outputs from its parts. */
  write(dir: string, plan: GeoPlan, units: readonly U[], outDir: string): Promise<{ objects: number; files: string[]; warnings: string[] }>;
}

interface Prepared<U extends WorkUnit> extends OpenedRaster {
  readonly plan: GeoPlan;
  readonly dir: string;
  readonly key: string;
  readonly units: U[];
  readonly todo: U[];
  readonly skippedTiles: number;
  failed: boolean;
  readonly started: number;
}

/** The tile plan of a raster under `settings` (a note when it was tiled for being over the limit). */
export function tilingFor(width: number, height: number, settings: Pick<GeoRunCommon, 'tile' | 'overlap' | 'maxPixels'>): { plan: TilePlan; note?: string } {
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
  return { plan: planTiles(width, height, Math.max(width, height, 16), 0) };
}

/**
 * `mask` (a window's) without its no-data pixels; undefined when it was mostly no data (so
 * no mask comes from no data) or when nothing is left.
 */
export function cutToData(mask: BinaryMask, valid: Uint8Array | undefined): BinaryMask | undefined {
  if (!valid) return mask;
  let before = 0;
  let after = 0;
  const data = new Uint8Array(mask.data.length);
  for (let i = 0; i < data.length; i++) {
    if (!mask.data[i]) continue;
    before++;
    if (valid[i]) {
      data[i] = 1;
      after++;
    }
  }
  return after === 0 || after * 2 < before ? undefined : { width: mask.width, height: mask.height, data };
}

async function openRaster<U extends WorkUnit>(job: GeoJob, settings: GeoRunCommon, kind: RunKind<U>, model: Readonly<Record<string, unknown>>, reporter: GeoRunReporter): Promise<{ prepared: Prepared<U>; problems: string[] }> {
  const raster = await openGeoRaster(job.path, job.display);
  try {
    const { plan: tiles, note } = tilingFor(raster.width, raster.height, settings);
    if (note) reporter.info(`${job.display}: ${note}`);
    const bands = settings.bands ? [...settings.bands] : defaultBands(raster);
    for (const b of bands) if (b >= raster.bands) throw new InputError(`${job.display}: --bands ${b + 1}: the raster has ${raster.bands} band${raster.bands === 1 ? '' : 's'}`);
    const nodata = settings.nodata === null ? undefined : (settings.nodata ?? raster.nodata);
    const stretch = await computeStretch(raster, bands, settings.stretch, nodata);
    const recipe: PixelRecipe = { bands, stretch, ...(nodata !== undefined ? { nodata } : {}), ...(raster.alphaBand !== undefined ? { alphaBand: raster.alphaBand } : {}) };
    const opened: OpenedRaster = { job, raster, tiles, recipe };
    const { units, tileSettings, problems } = kind.units(opened);
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
      tileSettings: { model, recipe: { ...recipe, nodata: recipe.nodata ?? null }, ...tileSettings },
      mergeSettings: kind.mergeSettings,
    };
    const key = settingsKey(plan);
    const mine = kind.mine(plan, units);
    let todo = mine;
    if (settings.skipExisting) {
      if (await pathExists(join(dir, PLAN_NAME))) {
        const old = await readPlan(dir);
        if (settingsKey(old) !== key) {
          throw new InputError(`${job.display}: the tile parts in ${dir} were made with other settings (model, tiles, bands, prompts or options); run with --overwrite to redo them`);
        }
      }
      todo = [];
      for (const u of mine) if (!(await partDone(tilePartPath(dir, u.key), key))) todo.push(u);
    }
    return { prepared: { ...opened, plan, dir, key, units, todo, skippedTiles: mine.length - todo.length, failed: false, started: Date.now() }, problems };
  } catch (err) {
    await raster.close();
    throw err;
  }
}

/** Whether a part is there and made with these settings. */
async function partDone(path: string, key: string): Promise<boolean> {
  if (!(await pathExists(path))) return false;
  try {
    return (await readTilePart(path)).settings === key;
  } catch {
    return false;
  }
}

/** The engine both runs share (see the module comment). */
async function runGeo<U extends WorkUnit>(
  jobs: readonly GeoJob[],
  settings: GeoRunCommon,
  kind: RunKind<U>,
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

  // Existing outputs stop the run up front unless --overwrite or --skip-existing. Shards
  // share their rasters' plans and write no outputs: they check nothing here.
  const finals = jobs.map((job) => geoOutputFiles(job.target, settings.formats));
  if (!settings.skipExisting && !settings.shard) {
    const plans = jobs.map((job) => join(tilesDir(job.target), PLAN_NAME));
    await assertNoExistingOutputs([...finals.flat(), ...plans], settings.overwrite, ['--overwrite to replace it', '--skip-existing to keep finished tiles']);
  }

  const prepared: Prepared<U>[] = [];
  let skipped = 0;
  for (const [i, job] of jobs.entries()) {
    if (settings.skipExisting && !settings.shard && (await allExist(finals[i]))) {
      skipped++;
      continue;
    }
    try {
      const { prepared: p, problems } = await openRaster(job, settings, kind, model, reporter);
      for (const problem of problems) fail(job.display, problem);
      prepared.push(p);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      fail(job.display, err);
    }
  }

  let opened: Promise<Segmenter> | undefined;
  const segmenter = () => (opened ??= openSegmenter());
  reporter.tilesPlanned(prepared.reduce((n, p) => n + p.todo.length, 0));
  let tilesDone = 0;
  let tilesNotDone = 0;
  let rastersNotWritten = 0;
  let objects = 0;
  const limit = pLimit(Math.max(1, settings.concurrency));
  try {
    for (const p of prepared) await writePlan(p.dir, p.plan);
    const work = prepared.flatMap((p) =>
      p.todo.map((unit) =>
        limit(async () => {
          if (p.failed || settings.signal?.aborted) {
            tilesNotDone++;
            return;
          }
          try {
            const rgb = await readRgbWindow(p.raster, unit.window, p.recipe, settings.signal);
            const masks = rgb.validCount === 0 ? [] : await kind.segment(await segmenter(), rgb, unit, settings.signal);
            await writeTilePart(tilePartPath(p.dir, unit.key), { settings: p.key, window: unit.window, validPixels: rgb.validCount, masks });
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
        // An interrupt (or a reader that closed stdout) during the writes stops before the
        // next raster: its parts stay, and --skip-existing writes it without segmenting.
        if (settings.signal?.aborted) {
          rastersNotWritten++;
          continue;
        }
        try {
          const result = await kind.write(p.dir, p.plan, p.units, settings.outDir);
          for (const w of result.warnings) reporter.warn(w);
          objects += result.objects;
          reporter.rasterDone({ input: p.job.display, tiles: p.units.length, objects: result.objects, outputs: result.files, ms: Date.now() - p.started });
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
    rastersNotWritten,
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

/** The merge settings an everything run records in its plans. */
export function mergeSettingsFrom(settings: GeoRunSettings): MergeSettings {
  return {
    seam: { ...SEAM_MERGE_DEFAULTS, ...settings.seam },
    minArea: settings.minArea,
    maxArea: settings.maxArea,
    geojsonCrs: settings.geojsonCrs,
    polygonTolerance: settings.polygonTolerance,
  };
}

/**
 * Segment-everything over `jobs` (GeoTIFFs): every tile (this shard's, with `shard`), its
 * masks merged across seams into objects. `model` identifies the model and its settings in
 * the plans (parts of another model are never mixed in); `openSegmenter` is called once,
 * when the first tile needs the model. Throws a UsageError before any work for existing
 * outputs that stop the run; a raster that fails is reported and the others go on.
 */
export function runGeoEverything(
  jobs: readonly GeoJob[],
  settings: GeoRunSettings,
  model: Readonly<Record<string, unknown>>,
  openSegmenter: () => Promise<Segmenter>,
  reporter: GeoRunReporter,
): Promise<GeoRunSummary> {
  type TileUnit = WorkUnit & { readonly row: number; readonly col: number };
  const kind: RunKind<TileUnit> = {
    units: ({ tiles }) => ({ units: allTiles(tiles).map((t) => ({ ...t, key: tileKey(t) })), tileSettings: { everything: settings.everything }, problems: [] }),
    mine: (plan, units) => units.filter((u) => !settings.shard || inShard(`${plan.name}#${u.key}`, settings.shard)),
    mergeSettings: mergeSettingsFrom(settings) as unknown as Record<string, unknown>,
    async segment(segmenter, rgb, _unit, signal) {
      const { records } = await segmenter.everything({ width: rgb.width, height: rgb.height, data: rgb.data }, { ...settings.everything, signal });
      const masks: PartMask[] = [];
      for (const r of records) {
        const cut = rgb.valid ? cutToData(rleToMask(r.rle), rgb.valid) : undefined;
        if (rgb.valid && !cut) continue;
        masks.push({ rle: cut ? maskToRle(cut) : r.rle, score: r.predictedIou, stability: r.stabilityScore });
      }
      return masks;
    },
    write: (dir, plan, _units, outDir) => mergeTileParts(dir, plan, outDir),
  };
  return runGeo(jobs, settings, kind, model, openSegmenter, reporter);
}

/**
 * Prompts over `jobs` (GeoTIFFs): each prompt placed on the raster and answered in the tile
 * whose core holds it (a large box in a window of its own), one object per prompt, carrying
 * the prompt's source properties. A prompt that cannot be placed is reported (one line
 * naming it) and the others run.
 */
export function runGeoPrompts(
  jobs: readonly GeoJob[],
  settings: GeoPromptSettings,
  model: Readonly<Record<string, unknown>>,
  openSegmenter: () => Promise<Segmenter>,
  reporter: GeoRunReporter,
): Promise<GeoRunSummary> {
  const kind: RunKind<PromptUnit> = {
    units: (opened) => promptUnits(opened, settings.prompts, settings.frame, placePrompt),
    mine: (_plan, units) => [...units],
    mergeSettings: { geojsonCrs: settings.geojsonCrs, polygonTolerance: settings.polygonTolerance },
    async segment(segmenter, rgb, unit) {
      const image = { width: rgb.width, height: rgb.height, data: rgb.data };
      const masks: PartMask[] = [];
      for (const { index, prompt } of unit.prompts) {
        const { best } = await segmenter.segment(image, prompt);
        const cut = cutToData(best.mask, rgb.valid);
        if (!cut) continue;
        masks.push({ rle: maskToRle(cut), score: best.predictedIou, stability: 0, prompt: index });
      }
      return masks;
    },
    write: (dir, plan, units, outDir) => writePromptObjects(dir, plan, units, settings.prompts, outDir),
  };
  return runGeo(jobs, settings, kind, model, openSegmenter, reporter);
}
