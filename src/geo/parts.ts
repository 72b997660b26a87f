/**
 * A tiled run's files on disk: a plan per raster and a part per tile, under
 * `<out>/samlite-parts/<sub-path>/<stem>.tiles/`. A tile's part is written (atomically)
 * as soon as the tile is done, so `--skip-existing` resumes tile by tile, shards of one
 * raster each write theirs, and the merge (in the same run, or `samlite merge` after the
 * shards) reads them back in tile order.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError, oneLine } from '../util/errors.js';
import { PARTS_DIR } from '../datasets/paths.js';
import { rleToCrop } from '../masks/crop.js';
import { fromCocoRle, toCocoRle, type Rle } from '../masks/rle.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { pathExists } from '../writers/files.js';
import { outputPrefix, type OutputTarget } from '../writers/naming.js';
import type { Crs } from './crs.js';
import type { GeoTagValues, GeoTransform } from './georef.js';
import type { Window } from './raster.js';
import { spansFromCrop, translateSpans, type SpanMask } from './spans.js';

/** Version of the plan and tile-part layout; other versions are refused, not misread. */
export const GEO_PARTS_VERSION = 1;

/** Suffix of a raster's folder of tile parts. */
export const TILES_DIR_SUFFIX = '.tiles';
/** The plan's name inside that folder. */
export const PLAN_NAME = 'plan.json';

/** The folder holding one raster's plan and tile parts. */
export function tilesDir(target: OutputTarget): string {
  return `${outputPrefix({ ...target, outDir: join(target.outDir, PARTS_DIR) })}${TILES_DIR_SUFFIX}`;
}

/** The part file of one tile (by its {@link tileKey}) or prompt window. */
export function tilePartPath(dir: string, key: string): string {
  return join(dir, `${key}.json`);
}

/**
 * What a raster's run was: everything the merge needs, so that it runs without the raster
 * (on another machine, after the shards) and gives the same bytes as the run itself.
 */
export interface GeoPlan {
  /** The input's name relative to its walked folder (or its file name): the layer name. */
  readonly name: string;
  /** Where the outputs go, relative to the run's --out. */
  readonly outputPrefix: string;
  readonly width: number;
  readonly height: number;
  readonly tile: number;
  readonly overlap: number;
  readonly transform: GeoTransform;
  readonly crs: Crs | null;
  readonly geoTags: GeoTagValues;
  /** The outputs asked for. */
  readonly formats: readonly string[];
  /**
   * Settings the tile parts depend on (model, algorithm, bands, stretch, nodata); parts
   * carry their hash and a part made with other settings is refused.
   */
  readonly tileSettings: Readonly<Record<string, unknown>>;
  /** Settings of the merge and the writers (thresholds, filters, CRS of the GeoJSON, tolerance). */
  readonly mergeSettings: Readonly<Record<string, unknown>>;
}

/** Hash of a plan's tile settings, stamped on each tile part. */
export function settingsKey(plan: Pick<GeoPlan, 'width' | 'height' | 'tile' | 'overlap' | 'tileSettings'>): string {
  const text = JSON.stringify([plan.width, plan.height, plan.tile, plan.overlap, plan.tileSettings]);
  return createHash('sha1').update(text).digest('hex').slice(0, 16);
}

const planSchema = z.strictObject({
  samlite_geo_plan: z.literal(GEO_PARTS_VERSION),
  name: z.string(),
  output_prefix: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  tile: z.number().int().positive(),
  overlap: z.number().int().nonnegative(),
  transform: z.tuple([z.number(), z.number(), z.number(), z.number(), z.number(), z.number()]),
  crs: z.strictObject({ epsg: z.number().int().optional(), kind: z.enum(['geographic', 'projected']), name: z.string() }).nullable(),
  geo_tags: z.strictObject({
    modelPixelScale: z.array(z.number()).optional(),
    modelTiepoint: z.array(z.number()).optional(),
    modelTransformation: z.array(z.number()).optional(),
    geoKeyDirectory: z.array(z.number()).optional(),
    geoDoubleParams: z.array(z.number()).optional(),
    geoAsciiParams: z.string().optional(),
  }),
  formats: z.array(z.string()),
  tile_settings: z.record(z.string(), z.unknown()),
  merge_settings: z.record(z.string(), z.unknown()),
});

/** The plan file's text. */
export function serializePlan(plan: GeoPlan): string {
  return `${JSON.stringify({
    samlite_geo_plan: GEO_PARTS_VERSION,
    name: plan.name,
    output_prefix: plan.outputPrefix,
    width: plan.width,
    height: plan.height,
    tile: plan.tile,
    overlap: plan.overlap,
    transform: plan.transform,
    crs: plan.crs,
    geo_tags: plan.geoTags,
    formats: plan.formats,
    tile_settings: plan.tileSettings,
    merge_settings: plan.mergeSettings,
  })}\n`;
}

/** Parse JSON `text` by `schema`; an InputError naming `source` and `what` it is not. */
function parseDoc<S extends z.ZodType>(text: string, source: string, what: string, schema: S): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${source}: not a samlite ${what} (invalid JSON: ${oneLine(err)})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`${source}: not a samlite ${what} (${issue.path.join('.') || 'document'}: ${issue.message})`);
  }
  return parsed.data;
}

/** The text of `path`; an InputError saying `missing` when there is no such file. */
async function readDoc(path: string, missing: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? missing : oneLine(err)}`, { cause: err });
  }
}

/** Parse a plan; an InputError naming `source` when it is not one. */
export function parsePlan(text: string, source: string): GeoPlan {
  const p = parseDoc(text, source, 'tile plan', planSchema);
  return {
    name: p.name,
    outputPrefix: p.output_prefix,
    width: p.width,
    height: p.height,
    tile: p.tile,
    overlap: p.overlap,
    transform: p.transform,
    crs: p.crs,
    geoTags: p.geo_tags,
    formats: p.formats,
    tileSettings: p.tile_settings,
    mergeSettings: p.merge_settings,
  };
}

/** Write a raster's plan (atomically; every shard writes the same bytes). */
export async function writePlan(dir: string, plan: GeoPlan): Promise<void> {
  await writeFileAtomic(join(dir, PLAN_NAME), serializePlan(plan));
}

/** Read the plan in `dir`. */
export async function readPlan(dir: string): Promise<GeoPlan> {
  const path = join(dir, PLAN_NAME);
  return parsePlan(await readDoc(path, 'no such plan'), path);
}

/** One mask of a tile part, in the tile's own frame. */
export interface PartMask {
  readonly rle: Rle;
  readonly score: number;
  readonly stability: number;
  /** The prompt it answers (prompt runs). */
  readonly prompt?: number;
}

/** What a tile part holds. */
export interface TilePart {
  readonly settings: string;
  readonly window: Window;
  /** Pixels of the window that were data (the rest was nodata or transparent). */
  readonly validPixels: number;
  readonly masks: readonly PartMask[];
}

const partSchema = z.strictObject({
  samlite_geo_tile: z.literal(GEO_PARTS_VERSION),
  settings: z.string(),
  window: z.tuple([z.number().int(), z.number().int(), z.number().int(), z.number().int()]),
  valid_pixels: z.number().int().nonnegative(),
  masks: z.array(
    z.strictObject({
      segmentation: z.strictObject({ size: z.tuple([z.number().int(), z.number().int()]), counts: z.string() }),
      score: z.number(),
      stability: z.number(),
      prompt: z.number().int().nonnegative().optional(),
    }),
  ),
});

/** A tile part's text. */
export function serializeTilePart(part: TilePart): string {
  return `${JSON.stringify({
    samlite_geo_tile: GEO_PARTS_VERSION,
    settings: part.settings,
    window: part.window,
    valid_pixels: part.validPixels,
    masks: part.masks.map((m) => ({ segmentation: toCocoRle(m.rle), score: m.score, stability: m.stability, ...(m.prompt !== undefined ? { prompt: m.prompt } : {}) })),
  })}\n`;
}

/** Parse a tile part; an InputError naming `source` when it is not one. */
export function parseTilePart(text: string, source: string): TilePart {
  const p = parseDoc(text, source, 'tile part', partSchema);
  const [x0, y0, x1, y1] = p.window;
  const masks = p.masks.map((m, i) => {
    const [h, w] = m.segmentation.size;
    if (w !== x1 - x0 || h !== y1 - y0) throw new InputError(`${source}: not a samlite tile part (masks.${i}: ${w}x${h} but the window is ${x1 - x0}x${y1 - y0})`);
    try {
      return { rle: fromCocoRle(m.segmentation), score: m.score, stability: m.stability, ...(m.prompt !== undefined ? { prompt: m.prompt } : {}) };
    } catch (err) {
      throw new InputError(`${source}: not a samlite tile part (masks.${i}: ${oneLine(err)})`);
    }
  });
  return { settings: p.settings, window: p.window, validPixels: p.valid_pixels, masks };
}

/** Write one tile's part (atomically). */
export async function writeTilePart(path: string, part: TilePart): Promise<void> {
  await writeFileAtomic(path, serializeTilePart(part));
}

/** Read one tile's part. */
export async function readTilePart(path: string): Promise<TilePart> {
  return parseTilePart(await readDoc(path, 'no such tile part'), path);
}

/** Every raster's tile folder under `<dir>/samlite-parts/` (folders holding a plan), sorted. */
export async function listTileDirs(dir: string): Promise<string[]> {
  const root = join(dir, PARTS_DIR);
  const found: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (!e.isDirectory()) continue;
      const path = join(folder, e.name);
      if (e.name.endsWith(TILES_DIR_SUFFIX)) found.push(path);
      else await walk(path);
    }
  };
  await walk(root);
  return found;
}

/**
 * Read one tile's (or window's) part from the first of `dirs` (one raster's `.tiles`
 * folders: its own, or several machines' after sharding) that has it, checked against the
 * plan: a part missing everywhere (a shard not done) or made with other settings is an
 * InputError naming it.
 */
export async function readPlannedPart(dirs: string | readonly string[], plan: GeoPlan, key: string): Promise<TilePart> {
  const list = typeof dirs === 'string' ? [dirs] : dirs;
  for (const dir of list) {
    const path = tilePartPath(dir, key);
    if (!(await pathExists(path))) continue;
    const part = await readTilePart(path);
    if (part.settings !== settingsKey(plan)) throw new InputError(`${path}: made with other settings than ${join(dir, PLAN_NAME)}; run the raster again with --overwrite`);
    return part;
  }
  throw new InputError(`${plan.name}: tile ${key} has no part (${list.map((d) => tilePartPath(d, key)).join(' or ')}); a shard has not finished it: run that shard again with --skip-existing`);
}

/** A part's masks as run masks in raster coordinates. */
export function partMasks(part: TilePart): { mask: SpanMask; m: PartMask }[] {
  const out: { mask: SpanMask; m: PartMask }[] = [];
  for (const m of part.masks) {
    const crop = rleToCrop(m.rle);
    const spans = crop && spansFromCrop(crop);
    if (spans) out.push({ mask: translateSpans(spans, part.window[0], part.window[1]), m });
  }
  return out;
}
