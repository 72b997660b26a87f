/**
 * The flags of runs over GeoTIFFs (`everything` and `segment`): tiling, bands, stretch,
 * no data and the CRS of the GeoJSON; and which inputs are GeoTIFFs.
 */
import { Option } from 'commander';
import { UsageError } from '../util/errors.js';
import { isGeoTiff } from '../geo/raster.js';
import { parseBands, parseStretch, type StretchSpec } from '../geo/stretch.js';
import type { PromptFrame } from '../geo/prompts.js';

/** The geo flags as commander hands them over (parsed by their OPTION_RANGES entries). */
export interface GeoFlags {
  tile?: number;
  overlap?: number;
  bands?: number[];
  stretch?: StretchSpec;
  /** A number, or 'none' to ignore the file's no-data value. */
  nodata?: number | 'none';
  geojsonCrs?: 'wgs84' | 'raster';
  /** segment only. */
  promptCrs?: PromptFrame;
}

/** Attribute name → flag of every geo flag, for "applies to GeoTIFFs only" messages. */
export const GEO_FLAGS: Readonly<Record<keyof GeoFlags, string>> = {
  tile: '--tile',
  overlap: '--overlap',
  bands: '--bands',
  stretch: '--stretch',
  nodata: '--nodata',
  geojsonCrs: '--geojson-crs',
  promptCrs: '--prompt-crs',
};

/** The geo flags (no commander defaults: the run tells given from default); `segment` adds --prompt-crs. */
export function geoOptions(command: 'everything' | 'segment'): Option[] {
  return [
    ...(command === 'segment'
      ? [new Option('--prompt-crs <crs>', 'GeoTIFF: --point/--box (and --prompts files) in pixel, raster (its CRS) or EPSG:<code> coordinates (EPSG:4326: lon,lat; boxes xmin,ymin,xmax,ymax)')]
      : []),
    new Option('--tile <px>', 'GeoTIFF: segment tiles of this side, merged across seams (default: the whole raster, or 1024 px tiles past --max-pixels)'),
    new Option('--overlap <px>', 'GeoTIFF: overlap of neighbouring tiles (default 128, at most half the tile)'),
    new Option('--bands <list>', 'GeoTIFF: bands to read as RGB (or one as grey), numbered from 1 (default 1,2,3, or 1)'),
    new Option('--stretch <how>', 'GeoTIFF: to 8 bits: auto (8-bit as is, else 2%,98% percentiles per band), none, minmax, lo%,hi% or lo,hi'),
    new Option('--nodata <value|none>', "GeoTIFF: no-data value (default the file's GDAL_NODATA); none ignores the file's"),
    new Option('--geojson-crs <crs>', "GeoTIFF: GeoJSON in WGS 84 longitude/latitude (RFC 7946) or in the raster's CRS").choices(['wgs84', 'raster']),
  ];
}

/** Parse `--nodata`: a number or `none`. */
export function parseNodata(text: string, flag = '--nodata'): number | 'none' {
  const t = text.trim().toLowerCase();
  if (t === 'none') return 'none';
  if (t === 'nan') return NaN;
  const n = Number(t);
  if (t === '' || !Number.isFinite(n)) throw new UsageError(`${flag} ${JSON.stringify(text)}: expected a number, nan or none`);
  return n;
}

export { parseBands, parseStretch };

/** Whether a path has a TIFF extension (only those are opened to look for GeoKeys). */
function tiffName(path: string): boolean {
  return /\.tiff?$/i.test(path);
}

/**
 * Which of `paths` are GeoTIFFs. A run takes either GeoTIFFs or other images: a mix is a
 * UsageError naming one of each, as are geo flags given without a GeoTIFF.
 */
export async function splitGeoInputs(paths: readonly { path: string; display: string }[], given: ReadonlySet<string>, geoFormatsAsked: readonly string[]): Promise<boolean> {
  const geo: string[] = [];
  const other: string[] = [];
  for (const p of paths) (tiffName(p.path) && (await isGeoTiff(p.path)) ? geo : other).push(p.display);
  if (geo.length > 0 && other.length > 0) {
    throw new UsageError(`${geo[0]} is a GeoTIFF and ${other[0]} is not: run GeoTIFFs and other images separately`);
  }
  if (geo.length === 0 && paths.length > 0) {
    const flag = (Object.keys(GEO_FLAGS) as (keyof GeoFlags)[]).find((k) => given.has(k));
    if (flag) throw new UsageError(`${GEO_FLAGS[flag]} applies to GeoTIFF inputs; ${other[0]} is not one`);
    if (geoFormatsAsked.length > 0) throw new UsageError(`--format ${geoFormatsAsked.join(',')} applies to GeoTIFF inputs; ${other[0]} is not one`);
  }
  return geo.length > 0;
}
