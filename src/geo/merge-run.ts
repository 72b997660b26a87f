/**
 * The merge of one raster's tile parts into its outputs: read the parts in tile order,
 * join masks across seams, filter by area, and stream each object to every output. The
 * run itself ends with it, and `samlite merge` runs it after the shards: both read the same
 * parts with the same code, so both write the same bytes.
 */
import { basename, extname, join } from 'node:path';
import { InputError } from '../errors.js';
import { resolveAreaLimit, type AreaLimit } from '../everything/area.js';
import { rleToCrop } from '../masks/crop.js';
import { WGS84, lacksDatumShift, type Crs } from './crs.js';
import { openFlatGeobufWriter } from './flatgeobuf.js';
import { openGeoJsonWriter } from './geojson.js';
import { pixelArea } from './georef.js';
import { LabelRasterWriter } from './label-raster.js';
import { spanPolygons } from './outline.js';
import { geoOutputPathFromPrefix, isGeoFormat, type GeoFormat } from './outputs.js';
import { readTilePart, settingsKey, tilePartPath, type GeoPlan } from './parts.js';
import { SeamMerger, type MergedObject, type SeamMergeOptions, type TileMask } from './seam-merge.js';
import { spansFromCrop, translateSpans } from './spans.js';
import { allTiles, planTiles, tileKey } from './tiling.js';
import type { FeatureSink, GeoFeature } from './vector.js';
import { makeProjector } from './vector.js';

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

/** The properties every object carries, in this order (the FlatGeobuf columns). */
export const OBJECT_PROPERTIES = [
  { name: 'score', type: 'double' },
  { name: 'stability', type: 'double' },
  { name: 'area', type: 'double' },
  { name: 'area_px', type: 'int' },
  { name: 'tile', type: 'string' },
  { name: 'tiles', type: 'int' },
] as const;

/**
 * Merge the tile parts in `dir` (a raster's `.tiles` folder) by its plan and write the
 * outputs under `outDir`. Every tile must have its part; one missing (a shard not done) is
 * an InputError naming it.
 */
export async function mergeTileParts(dir: string, plan: GeoPlan, outDir: string, overwriteCheck?: (files: string[]) => Promise<void>): Promise<MergeResult> {
  const settings = mergeSettingsOf(plan);
  const tiles = planTiles(plan.width, plan.height, plan.tile, plan.overlap);
  const key = settingsKey(plan);
  const formats = plan.formats.filter(isGeoFormat) as GeoFormat[];
  const prefix = join(outDir, plan.outputPrefix);
  const files = formats.map((f) => geoOutputPathFromPrefix(prefix, f));
  await overwriteCheck?.(files);
  const warnings: string[] = [];
  const crs: Crs | null = plan.crs;
  // The layer is named after the raster's file, without its extension (what ogr2ogr -sql uses).
  const layer = basename(plan.name, extname(plan.name));

  const sinks: FeatureSink[] = [];
  let labels: LabelRasterWriter | undefined;
  try {
    if (formats.includes('label-tif')) labels = new LabelRasterWriter(geoOutputPathFromPrefix(prefix, 'label-tif'), plan.width, plan.height, plan.geoTags);
    if (formats.includes('geojson')) {
      if (!crs) throw new InputError(`${plan.name}: the raster names no CRS in its GeoKeys, so GeoJSON cannot be placed`);
      const target = settings.geojsonCrs === 'raster' ? crs : WGS84;
      if (target !== crs && lacksDatumShift(crs)) {
        warnings.push(`${plan.name}: EPSG:${crs.epsg} has no datum shift to WGS 84 in samlite's table; GeoJSON longitudes and latitudes may be off by up to a few hundred metres (--geojson-crs raster keeps the raster's CRS)`);
      }
      const projector = makeProjector(plan.transform, crs, target, plan.width, plan.height);
      sinks.push(await openGeoJsonWriter(geoOutputPathFromPrefix(prefix, 'geojson'), { name: layer, projector }));
    }
    if (formats.includes('fgb')) {
      if (!crs) throw new InputError(`${plan.name}: the raster names no CRS in its GeoKeys, so FlatGeobuf cannot be placed`);
      const projector = makeProjector(plan.transform, crs, crs, plan.width, plan.height);
      sinks.push(await openFlatGeobufWriter(geoOutputPathFromPrefix(prefix, 'fgb'), { name: layer, projector, columns: [{ name: 'id', type: 'int' }, ...OBJECT_PROPERTIES] }));
    }

    const imageArea = plan.width * plan.height;
    const min = settings.minArea ? resolveAreaLimit(settings.minArea, imageArea) : undefined;
    const max = settings.maxArea ? resolveAreaLimit(settings.maxArea, imageArea) : undefined;
    const unitArea = pixelArea(plan.transform);
    let id = 0;
    const emit = async (o: MergedObject) => {
      if ((min !== undefined && o.area < min) || (max !== undefined && o.area > max)) return;
      const feature: GeoFeature = {
        id: ++id,
        polygons: spanPolygons(o.mask, settings.polygonTolerance),
        properties: {
          score: round6(o.score),
          stability: round6(o.stability),
          area: o.area * unitArea,
          area_px: o.area,
          tile: tileKey(o.tile),
          tiles: o.tiles,
        },
      };
      for (const sink of sinks) await sink.write(feature);
      await labels?.add(id, o.area, o.mask);
    };
    const merger = new SeamMerger(tiles, emit, settings.seam);
    for (const tile of allTiles(tiles)) {
      const path = tilePartPath(dir, tile);
      let part;
      try {
        part = await readTilePart(path);
      } catch (err) {
        if (err instanceof InputError && /no such tile part/.test(err.message)) {
          throw new InputError(`${plan.name}: tile ${tileKey(tile)} has no part (${path}); a shard has not finished it: run that shard again with --skip-existing`);
        }
        throw err;
      }
      if (part.settings !== key) throw new InputError(`${path}: made with other settings than ${join(dir, 'plan.json')}; run the raster again with --overwrite`);
      const masks: TileMask[] = [];
      for (const m of part.masks) {
        const crop = rleToCrop(m.rle);
        const spans = crop && spansFromCrop(crop);
        if (spans) masks.push({ mask: translateSpans(spans, tile.window[0], tile.window[1]), score: m.score, stability: m.stability });
      }
      await merger.add(tile, masks);
    }
    await merger.finish();
    for (const sink of sinks.splice(0)) await sink.close();
    const raster = labels;
    labels = undefined;
    await raster?.close();
    return { objects: id, files, warnings };
  } finally {
    for (const sink of sinks) await sink.abort();
    await labels?.abort();
  }
}

/** Scores to six decimals: enough for any use, and the files stay short. */
function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
