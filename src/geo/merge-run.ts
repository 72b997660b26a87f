/**
 * The merge of one raster's tile parts into its outputs: read the parts in tile order,
 * join masks across seams, filter by area, and stream each object to every output. The
 * run itself ends with it, and `samlite merge` runs it after the shards: both read the same
 * parts with the same code, so both write the same bytes.
 */
import { join, relative } from 'node:path';
import { PARTS_DIR } from '../datasets/paths.js';
import { InputError, oneLine } from '../util/errors.js';
import { resolveAreaLimit, type AreaLimit } from '../everything/area.js';
import { assertNoExistingOutputs } from '../writers/naming.js';
import { geoOutputPathFromPrefix, isGeoFormat, type GeoFormat } from './outputs.js';
import { PLAN_NAME, listTileDirs, partMasks, readPlan, readPlannedPart, serializePlan, type GeoPlan } from './parts.js';
import { SeamMerger, type MergedObject, type SeamMergeOptions, type TileMask } from './seam-merge.js';
import { allTiles, planTiles, tileKey } from './tiling.js';
import type { PropertyColumn } from './vector.js';
import { GeoOutputs } from './writers.js';

/** The merge settings a plan records (its `mergeSettings`). */
export interface MergeSettings {
  readonly seam: Required<SeamMergeOptions>;
  readonly minArea: AreaLimit | null;
  readonly maxArea: AreaLimit | null;
  /** CRS of the GeoJSON: WGS 84 (RFC 7946) or the raster's own. */
  readonly geojsonCrs: 'wgs84' | 'raster';
  readonly polygonTolerance: number;
}

/** What a merge wrote. */
export interface MergeResult {
  readonly objects: number;
  readonly files: string[];
  /** Notes for the user (a datum shift samlite does not know). */
  readonly warnings: string[];
}

function mergeSettingsOf(plan: GeoPlan): MergeSettings {
  return plan.mergeSettings as unknown as MergeSettings;
}

/** The properties every merged object carries, in this order (the FlatGeobuf columns). */
export const OBJECT_PROPERTIES: readonly PropertyColumn[] = [
  { name: 'score', type: 'double' },
  { name: 'stability', type: 'double' },
  { name: 'area', type: 'double' },
  { name: 'area_px', type: 'int' },
  { name: 'tile', type: 'string' },
  { name: 'tiles', type: 'int' },
];

/**
 * Merge the tile parts in `dirs` (a raster's `.tiles` folder, or the same folder in several
 * output folders) by its plan and write the outputs under `outDir`. Every tile must have
 * its part; one missing (a shard not done) is an InputError naming it. `beforeWrite` sees
 * the output paths before any is opened (an existence check).
 */
export async function mergeTileParts(dirs: string | readonly string[], plan: GeoPlan, outDir: string, beforeWrite?: (files: string[]) => Promise<void>): Promise<MergeResult> {
  const settings = mergeSettingsOf(plan);
  const tiles = planTiles(plan.width, plan.height, plan.tile, plan.overlap);
  const outputs = await GeoOutputs.open(plan, outDir, OBJECT_PROPERTIES, beforeWrite);
  try {
    const imageArea = plan.width * plan.height;
    const min = settings.minArea ? resolveAreaLimit(settings.minArea, imageArea) : undefined;
    const max = settings.maxArea ? resolveAreaLimit(settings.maxArea, imageArea) : undefined;
    const emit = async (o: MergedObject) => {
      if ((min !== undefined && o.area < min) || (max !== undefined && o.area > max)) return;
      await outputs.write(o.mask, o.area, {
        score: round6(o.score),
        stability: round6(o.stability),
        area: o.area * outputs.pixelArea,
        area_px: o.area,
        tile: tileKey(o.tile),
        tiles: o.tiles,
      });
    };
    const merger = new SeamMerger(tiles, emit, settings.seam);
    for (const tile of allTiles(tiles)) {
      const part = await readPlannedPart(dirs, plan, tileKey(tile));
      const masks: TileMask[] = partMasks(part).map(({ mask, m }) => ({ mask, score: m.score, stability: m.stability }));
      await merger.add(tile, masks);
    }
    await merger.finish();
    const objects = await outputs.close();
    return { objects, files: outputs.files, warnings: outputs.warnings };
  } finally {
    await outputs.abort();
  }
}

/** Scores to six decimals: enough for any use, and the files stay short. */
function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/** One raster a folder merge wrote, or why it could not. */
export type GeoMergeOutcome =
  | { readonly name: string; readonly objects: number; readonly files: string[]; readonly warnings: string[] }
  | { readonly name: string; readonly error: string };

/**
 * `samlite merge` for tiled runs: every raster's tile folder under `<folder>/samlite-parts/`
 * of each of `folders` (the same raster's folders from several machines are one), merged
 * into its outputs under `outDir`. Existing outputs are an error unless `overwrite` (a
 * UsageError before any is written); a raster that cannot be merged is an outcome with its
 * error, and the others go on.
 */
export async function mergeGeoFolders(folders: readonly string[], outDir: string, overwrite: boolean): Promise<GeoMergeOutcome[]> {
  const groups = new Map<string, string[]>();
  for (const folder of folders) {
    const root = join(folder, PARTS_DIR);
    for (const dir of await listTileDirs(folder)) {
      const name = relative(root, dir);
      groups.set(name, [...(groups.get(name) ?? []), dir]);
    }
  }
  const jobs: { dirs: string[]; plan: GeoPlan }[] = [];
  const outcomes: GeoMergeOutcome[] = [];
  for (const dirs of groups.values()) {
    try {
      const plans = await Promise.all(dirs.map((d) => readPlan(d)));
      const text = serializePlan(plans[0]);
      const other = plans.findIndex((p) => serializePlan(p) !== text);
      if (other >= 0) throw new InputError(`${join(dirs[other], PLAN_NAME)} and ${join(dirs[0], PLAN_NAME)} differ: the runs used other settings; merge them separately`);
      if ('prompts' in plans[0].tileSettings) throw new InputError(`${dirs[0]}: parts of samlite segment; run it again with --skip-existing to write its outputs`);
      jobs.push({ dirs, plan: plans[0] });
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      outcomes.push({ name: dirs[0], error: oneLine(err) });
    }
  }
  // Every raster's outputs are checked before any is written.
  await assertNoExistingOutputs(
    jobs.flatMap((j) => j.plan.formats.filter(isGeoFormat).map((f) => geoOutputPathFromPrefix(join(outDir, j.plan.outputPrefix), f as GeoFormat))),
    overwrite,
  );
  for (const { dirs, plan } of jobs) {
    try {
      const result = await mergeTileParts(dirs, plan, outDir);
      outcomes.push({ name: plan.name, ...result });
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      outcomes.push({ name: plan.name, error: oneLine(err) });
    }
  }
  return outcomes;
}
