/**
 * From a raster's bands to the 8-bit RGB the models take: which bands, how 16-bit and float
 * samples are stretched to 0..255, and which pixels are no data.
 *
 * The stretch is one linear map per band for the whole raster, decided before any tile is
 * read (from an overview, or from windows spread over the raster), so every tile (and
 * every shard) sees the same colours and a tiled run agrees with a whole-image one.
 */
import { UsageError } from '../util/errors.js';
import type { BandSamples, GeoRaster, Window } from './raster.js';

/** What `--stretch` asks for. */
export type StretchSpec =
  | { readonly kind: 'auto' }
  | { readonly kind: 'none' }
  | { readonly kind: 'percent'; readonly low: number; readonly high: number }
  | { readonly kind: 'values'; readonly low: number; readonly high: number };

/** The default: 8-bit samples as they are, anything else from the 2 % to the 98 % percentile per band. */
export const DEFAULT_STRETCH_PERCENT = { low: 2, high: 98 } as const;

/** What {@link parseStretch} accepts, in words. */
export const STRETCH_RANGE = 'auto, none, minmax, percentiles such as 2%,98%, or sample values such as 0,3000';

/** Parse `--stretch`: auto | none | minmax | `<lo>%,<hi>%` | `<lo>,<hi>`. */
export function parseStretch(text: string, flag = '--stretch'): StretchSpec {
  const t = text.trim().toLowerCase();
  const wrong = () => new UsageError(`${flag} ${JSON.stringify(text)}: expected ${STRETCH_RANGE}`);
  if (t === 'auto') return { kind: 'auto' };
  if (t === 'none') return { kind: 'none' };
  if (t === 'minmax') return { kind: 'percent', low: 0, high: 100 };
  const percent = /^(\d+(?:\.\d+)?)%\s*,\s*(\d+(?:\.\d+)?)%$/.exec(t);
  if (percent) {
    const low = Number(percent[1]);
    const high = Number(percent[2]);
    if (!(low >= 0 && high <= 100 && low < high)) throw wrong();
    return { kind: 'percent', low, high };
  }
  const values = /^(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*,\s*(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)$/.exec(t);
  if (values) {
    const low = Number(values[1]);
    const high = Number(values[2]);
    if (!(Number.isFinite(low) && Number.isFinite(high) && low < high)) throw wrong();
    return { kind: 'values', low, high };
  }
  throw wrong();
}

/** What `--bands` accepts, in words. */
export const BANDS_RANGE = 'one or three band numbers from 1, comma-separated, such as 4,3,2 or 1';

/** Parse `--bands` (1-based, as GDAL numbers them) into 0-based band indices. */
export function parseBands(text: string, flag = '--bands'): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const bands = parts.map(Number);
  if ((bands.length !== 1 && bands.length !== 3) || parts.some((p) => !/^\d+$/.test(p)) || bands.some((b) => b < 1)) {
    throw new UsageError(`${flag} ${JSON.stringify(text)}: expected ${BANDS_RANGE}`);
  }
  return bands.map((b) => b - 1);
}

/** The bands a raster is read as when `--bands` is not given: RGB's three, else the first (or first three). */
export function defaultBands(raster: Pick<GeoRaster, 'bands' | 'alphaBand'>): number[] {
  const colour = Array.from({ length: raster.bands }, (_, i) => i).filter((b) => b !== raster.alphaBand);
  return colour.length >= 3 ? colour.slice(0, 3) : colour.slice(0, 1);
}

/** One band's linear map to 0..255: `low` to 0, `high` to 255, clamped. */
export interface BandStretch {
  readonly low: number;
  readonly high: number;
}

/** How pixels are read and turned into RGB for one raster. */
export interface PixelRecipe {
  /** 0-based bands: one (grey) or three (R, G, B). */
  readonly bands: readonly number[];
  /** One per band of `bands`. */
  readonly stretch: readonly BandStretch[];
  /** A pixel whose every chosen band equals this is no data. */
  readonly nodata?: number;
  /** 0-based alpha band: 0 there is no data. */
  readonly alphaBand?: number;
}

/** Most pixels read to estimate the percentiles. */
const SAMPLE_PIXELS = 1 << 22;
/** Side of each window read for the estimate when there is no overview. */
const SAMPLE_WINDOW = 256;

/** Windows spread evenly over the raster, about SAMPLE_PIXELS in all (the whole raster when it is small). */
export function sampleWindows(width: number, height: number): Window[] {
  if (width * height <= SAMPLE_PIXELS) return [[0, 0, width, height]];
  const side = Math.min(SAMPLE_WINDOW, width, height);
  const per = Math.max(1, Math.floor(Math.sqrt(SAMPLE_PIXELS / (side * side))));
  const across = Math.min(per, Math.floor(width / side));
  const down = Math.min(per, Math.floor(height / side));
  const out: Window[] = [];
  for (let j = 0; j < down; j++) {
    for (let i = 0; i < across; i++) {
      const x = across === 1 ? Math.floor((width - side) / 2) : Math.round(((width - side) * i) / (across - 1));
      const y = down === 1 ? Math.floor((height - side) / 2) : Math.round(((height - side) * j) / (down - 1));
      out.push([x, y, x + side, y + side]);
    }
  }
  return out;
}

/**
 * Decide the stretch of `bands`: `none` (8-bit as is; other types from the type's range),
 * given sample values, or percentiles of the valid pixels of an overview (the largest
 * with at most ~4 MP) or of windows spread over the raster.
 */
export async function computeStretch(
  raster: GeoRaster,
  bands: readonly number[],
  spec: StretchSpec,
  nodata: number | undefined,
): Promise<BandStretch[]> {
  const eightBit = raster.sample.bits === 8 && raster.sample.format === 1;
  if (spec.kind === 'values') return bands.map(() => ({ low: spec.low, high: spec.high }));
  if (spec.kind === 'none' || (spec.kind === 'auto' && eightBit)) return bands.map(() => typeRange(raster));
  const { low, high } = spec.kind === 'percent' ? spec : DEFAULT_STRETCH_PERCENT;
  const read = [...bands, ...(raster.alphaBand !== undefined ? [raster.alphaBand] : [])];
  const chunks: BandSamples[][] = [];
  const overview = raster.overviews.findIndex((o) => o.width * o.height <= SAMPLE_PIXELS);
  if (overview >= 0 && raster.width * raster.height > SAMPLE_PIXELS) {
    chunks.push(await raster.readOverview(overview, read));
  } else {
    for (const w of sampleWindows(raster.width, raster.height)) chunks.push(await raster.readWindow(w, read));
  }
  return bands.map((_, k) => {
    const values: number[] = [];
    for (const chunk of chunks) {
      const v = chunk[k];
      const alpha = raster.alphaBand !== undefined ? chunk[bands.length] : undefined;
      for (let i = 0; i < v.length; i++) {
        if (alpha && alpha[i] === 0) continue;
        if (!isValidPixel(chunk, bands.length, i, nodata)) continue;
        values.push(v[i]);
      }
    }
    if (values.length === 0) return typeRange(raster);
    const sorted = Float64Array.from(values).sort();
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round((p / 100) * (sorted.length - 1))))];
    const lo = at(low);
    const hi = at(high);
    return { low: lo, high: hi > lo ? hi : lo + 1 };
  });
}

/** The full range of the raster's sample type (what `none` maps to 0..255). */
function typeRange(raster: GeoRaster): BandStretch {
  const { bits, format } = raster.sample;
  if (format === 3) return { low: 0, high: 1 };
  if (format === 2) return { low: -(2 ** (bits - 1)), high: 2 ** (bits - 1) - 1 };
  return { low: 0, high: 2 ** bits - 1 };
}

/** Whether pixel `i` of the first `count` band arrays is data (not NaN, not all nodata). */
function isValidPixel(bands: readonly BandSamples[], count: number, i: number, nodata: number | undefined): boolean {
  let allNodata = nodata !== undefined;
  for (let k = 0; k < count; k++) {
    const v = bands[k][i];
    if (Number.isNaN(v)) return false;
    if (allNodata && !(v === nodata || (Number.isNaN(nodata) && Number.isNaN(v)))) allNodata = false;
  }
  return !allNodata;
}

/** RGB pixels of one window, with which of them are data. */
export interface RgbWindow {
  readonly width: number;
  readonly height: number;
  /** width * height * 3 bytes; no-data pixels are black. */
  readonly data: Uint8Array;
  /** 1 where the pixel is data; undefined when every pixel is. */
  readonly valid: Uint8Array | undefined;
  readonly validCount: number;
}

/** Read `window` of `raster` and turn it into RGB by `recipe`. */
export async function readRgbWindow(raster: GeoRaster, window: Window, recipe: PixelRecipe, signal?: AbortSignal): Promise<RgbWindow> {
  const read = [...recipe.bands, ...(recipe.alphaBand !== undefined ? [recipe.alphaBand] : [])];
  const bands = await raster.readWindow(window, read, signal);
  return toRgb(bands, window[2] - window[0], window[3] - window[1], recipe);
}

/** Band arrays (the recipe's bands, then its alpha band if any) to RGB by `recipe`. */
export function toRgb(bands: readonly BandSamples[], width: number, height: number, recipe: PixelRecipe): RgbWindow {
  const n = width * height;
  const count = recipe.bands.length;
  const data = new Uint8Array(n * 3);
  const alpha = recipe.alphaBand !== undefined ? bands[count] : undefined;
  const checkNodata = recipe.nodata !== undefined || alpha !== undefined || bands.some((b) => b instanceof Float32Array || b instanceof Float64Array);
  const valid = checkNodata ? new Uint8Array(n) : undefined;
  let validCount = 0;
  const scale = recipe.stretch.map((s) => 255 / (s.high - s.low));
  for (let i = 0; i < n; i++) {
    if (valid) {
      if ((alpha && alpha[i] === 0) || !isValidPixel(bands, count, i, recipe.nodata)) continue;
      valid[i] = 1;
    }
    validCount++;
    for (let c = 0; c < 3; c++) {
      const k = count === 1 ? 0 : c;
      const v = (bands[k][i] - recipe.stretch[k].low) * scale[k];
      data[i * 3 + c] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
  }
  return { width, height, data, valid: valid && validCount < n ? valid : undefined, validCount };
}
