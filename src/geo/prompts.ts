/**
 * Prompts on the map: points and boxes given in the raster's CRS, in another CRS (lon/lat
 * with EPSG:4326), or read from a vector file (GeoJSON, FlatGeobuf: points become point
 * prompts, any other geometry a box around it, building footprints for example), and
 * placed on the raster's pixel grid.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { InputError, UsageError, oneLine } from '../util/errors.js';
import type { Box, Point, Prompt } from '../prompts/types.js';
import { WGS84, crsTransform, parseCrs, type Crs } from './crs.js';
import { mapToPixel, type GeoTransform } from './georef.js';
import type { PropertyValue } from './vector.js';

/** Where prompt coordinates are: raster pixels, the raster's CRS, or a named CRS. */
export type PromptFrame = { readonly kind: 'pixel' } | { readonly kind: 'raster' } | { readonly kind: 'crs'; readonly crs: Crs };

/** What `--prompt-crs` accepts, in words. */
export const PROMPT_CRS_RANGE = 'pixel, raster, or EPSG:<code> such as EPSG:4326 (x,y = longitude,latitude)';

/** Parse `--prompt-crs`. */
export function parsePromptCrs(text: string, flag = '--prompt-crs'): PromptFrame {
  const t = text.trim().toLowerCase();
  if (t === 'pixel') return { kind: 'pixel' };
  if (t === 'raster') return { kind: 'raster' };
  try {
    return { kind: 'crs', crs: parseCrs(text, flag) };
  } catch {
    throw new UsageError(`${flag} ${JSON.stringify(text)}: expected ${PROMPT_CRS_RANGE}`);
  }
}

/** One prompt set as given: coordinates in its frame, and where it came from. */
export interface MapPrompt {
  /** 0-based position among the prompts. */
  readonly index: number;
  /** How messages name it: `--point`, `buildings.geojson feature 12 (id "b-17")`. */
  readonly label: string;
  readonly points: readonly (readonly [number, number])[];
  readonly negPoints: readonly (readonly [number, number])[];
  /** Vertices whose bounding box (in pixels) is the box prompt: two corners, or a whole outline. */
  readonly boxVertices?: readonly (readonly [number, number])[];
  /** The source feature's id and properties, carried to the output feature. */
  readonly sourceId?: string | number;
  readonly properties: Readonly<Record<string, PropertyValue>>;
}

/** The prompts of a vector file, and the frame their coordinates are in. */
export interface PromptFile {
  readonly prompts: MapPrompt[];
  readonly frame: PromptFrame;
  /** Features that cannot be prompts (no geometry...), one line each. */
  readonly problems: string[];
}

type Geometry = { type: string; coordinates?: unknown; geometries?: Geometry[] } | null;
interface Feature {
  readonly id?: string | number;
  readonly geometry: Geometry;
  readonly properties?: Record<string, unknown> | null;
}

/** Every [x, y] position of a GeoJSON geometry. */
function positions(g: Geometry): [number, number][] {
  if (!g) return [];
  if (g.type === 'GeometryCollection') return (g.geometries ?? []).flatMap(positions);
  const out: [number, number][] = [];
  const walk = (c: unknown) => {
    if (Array.isArray(c) && typeof c[0] === 'number' && typeof c[1] === 'number') out.push([c[0], c[1]]);
    else if (Array.isArray(c)) for (const x of c) walk(x);
  };
  walk(g.coordinates);
  return out;
}

/** Property values the writers carry: numbers and text as they are, anything else as JSON. */
function carried(properties: Record<string, unknown> | null | undefined): Record<string, PropertyValue> {
  const out: Record<string, PropertyValue> = {};
  for (const [k, v] of Object.entries(properties ?? {})) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === 'number' || typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/** The EPSG code a GeoJSON `crs` member names (pre-RFC 7946 files), if any. */
function geojsonCrs(doc: { crs?: { properties?: { name?: string } } }): Crs | undefined {
  const name = doc.crs?.properties?.name;
  if (!name) return undefined;
  if (/CRS84$/i.test(name)) return WGS84;
  const m = /EPSG:{1,2}(\d+)$/i.exec(name);
  return m ? parseCrs(`EPSG:${m[1]}`, 'crs') : undefined;
}

function featureLabel(source: string, i: number, id: string | number | undefined): string {
  return `${source} feature ${i + 1}${id !== undefined ? ` (id ${JSON.stringify(id)})` : ''}`;
}

function featuresToPrompts(source: string, features: readonly Feature[]): { prompts: MapPrompt[]; problems: string[] } {
  const prompts: MapPrompt[] = [];
  const problems: string[] = [];
  features.forEach((f, i) => {
    const label = featureLabel(source, i, f.id);
    const type = f.geometry?.type;
    const coords = positions(f.geometry);
    if (!type || coords.length === 0) {
      problems.push(`${label}: no geometry to prompt with`);
      return;
    }
    const base = { index: prompts.length, label, negPoints: [], ...(f.id !== undefined ? { sourceId: f.id } : {}), properties: carried(f.properties) };
    if (type === 'Point' || type === 'MultiPoint') prompts.push({ ...base, points: coords });
    else prompts.push({ ...base, points: [], boxVertices: coords });
  });
  return { prompts, problems };
}

/**
 * Read prompts from a GeoJSON (FeatureCollection or Feature) or FlatGeobuf file. Its frame
 * is `override` when given, else the file's CRS (GeoJSON without a `crs` member is WGS 84,
 * as RFC 7946 says). Throws a UsageError for a file that cannot be read as either.
 */
export async function readPromptFile(path: string, override?: PromptFrame): Promise<PromptFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new UsageError(`--prompts ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : oneLine(err)}`);
  }
  let features: Feature[];
  let fileCrs: Crs | undefined;
  if (extname(path).toLowerCase() === '.fgb') {
    const { deserialize } = await import('flatgeobuf/lib/mjs/geojson.js');
    features = [];
    try {
      let code = 0;
      for await (const f of deserialize(new Uint8Array(bytes), { headerMetaFn: (h: { crs: { code: number } | null }) => (code = h.crs?.code ?? 0) } as never)) {
        features.push(f as unknown as Feature);
      }
      if (code) fileCrs = parseCrs(`EPSG:${code}`, `--prompts ${path}`);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`--prompts ${path}: not a readable FlatGeobuf file (${oneLine(err)})`);
    }
  } else {
    let doc: { type?: string; features?: Feature[]; crs?: { properties?: { name?: string } } } & Partial<Feature>;
    try {
      doc = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new UsageError(`--prompts ${path}: not GeoJSON (invalid JSON: ${oneLine(err)})`);
    }
    if (doc?.type === 'FeatureCollection' && Array.isArray(doc.features)) features = doc.features;
    else if (doc?.type === 'Feature') features = [doc as Feature];
    else throw new UsageError(`--prompts ${path}: not a GeoJSON FeatureCollection or Feature`);
    fileCrs = geojsonCrs(doc) ?? WGS84;
  }
  const { prompts, problems } = featuresToPrompts(path, features);
  return { prompts, problems, frame: override ?? (fileCrs ? { kind: 'crs', crs: fileCrs } : { kind: 'raster' }) };
}

/** The raster a prompt is placed on. */
export interface PromptRaster {
  readonly source: string;
  readonly width: number;
  readonly height: number;
  readonly transform: GeoTransform;
  readonly crs?: Crs;
}

/** A prompt on the raster's pixel grid. */
export interface PixelPrompt {
  readonly prompt: Prompt;
  /** Where it is: its first point, else its box's centre (pixels). */
  readonly anchor: Point;
}

/**
 * Place `p` (in `frame`) on `raster`'s pixels. An InputError naming the prompt when a point
 * lies outside the raster or a box misses it entirely; a box partly outside is cut to the
 * raster.
 */
export function placePrompt(p: MapPrompt, frame: PromptFrame, raster: PromptRaster): PixelPrompt {
  let toPixel: (q: readonly [number, number]) => [number, number];
  if (frame.kind === 'pixel') {
    toPixel = (q) => [q[0], q[1]];
  } else {
    const from = frame.kind === 'raster' ? raster.crs : frame.crs;
    if (!raster.crs || !from) throw new InputError(`${raster.source}: the raster names no CRS, so prompts in map coordinates cannot be placed on it`);
    const toRaster = crsTransform(from, raster.crs);
    toPixel = (q) => {
      const m = toRaster.forward([q[0], q[1]]);
      return mapToPixel(raster.transform, m[0], m[1]);
    };
  }
  const where = frame.kind === 'pixel' ? 'pixels' : frame.kind === 'raster' ? 'the raster CRS' : frame.crs.name;
  const inside = ([x, y]: [number, number]) => x >= 0 && y >= 0 && x < raster.width && y < raster.height;
  const point = (q: readonly [number, number], kind: string): Point => {
    const px = toPixel(q);
    if (!Number.isFinite(px[0]) || !Number.isFinite(px[1]) || !inside(px)) {
      throw new InputError(`${p.label}: ${kind} ${q[0]},${q[1]} (${where}) lies outside ${raster.source} (${raster.width}x${raster.height} pixels)`);
    }
    return { x: px[0], y: px[1] };
  };
  const points = p.points.map((q) => point(q, 'point'));
  const negPoints = p.negPoints.map((q) => point(q, 'background point'));
  let box: Box | undefined;
  if (p.boxVertices && p.boxVertices.length > 0) {
    const px = p.boxVertices.map(toPixel);
    const xs = px.map((q) => q[0]);
    const ys = px.map((q) => q[1]);
    const b = { x1: Math.min(...xs), y1: Math.min(...ys), x2: Math.max(...xs), y2: Math.max(...ys) };
    if (![b.x1, b.y1, b.x2, b.y2].every(Number.isFinite) || b.x2 <= 0 || b.y2 <= 0 || b.x1 >= raster.width || b.y1 >= raster.height) {
      throw new InputError(`${p.label}: box ${p.boxVertices.length === 2 ? p.boxVertices.flat().join(',') : 'around the feature'} (${where}) lies outside ${raster.source} (${raster.width}x${raster.height} pixels)`);
    }
    box = { x1: Math.max(0, b.x1), y1: Math.max(0, b.y1), x2: Math.min(raster.width, b.x2), y2: Math.min(raster.height, b.y2) };
  }
  const anchor = points[0] ?? (box ? { x: (box.x1 + box.x2) / 2, y: (box.y1 + box.y2) / 2 } : undefined);
  if (!anchor) throw new InputError(`${p.label}: no point or box`);
  return { prompt: { points, negPoints, ...(box ? { box } : {}) }, anchor };
}

/** Prompts from the `--point`, `--neg-point` and `--box` flags (one prompt set). */
export function promptFromMapFlags(points: readonly Point[], negPoints: readonly Point[], box: Box | undefined): MapPrompt {
  return {
    index: 0,
    label: '--point/--box prompt',
    points: points.map((p) => [p.x, p.y]),
    negPoints: negPoints.map((p) => [p.x, p.y]),
    ...(box ? { boxVertices: [[box.x1, box.y1], [box.x2, box.y2]] } : {}),
    properties: {},
  };
}
