/**
 * The files a tiled (geo) run writes per raster, and their names: `<stem>.geojson`,
 * `<stem>.fgb`, `<stem>.labels.tif` under `--out` (walked sub-folders kept).
 */
import { outputPrefix, type OutputTarget } from '../writers/naming.js';

/** Output formats of a run over GeoTIFFs. */
export type GeoFormat = 'geojson' | 'fgb' | 'label-tif';
export const GEO_FORMATS: readonly GeoFormat[] = ['geojson', 'fgb', 'label-tif'];

/** Whether `format` is one of the geo formats. */
export function isGeoFormat(format: string): format is GeoFormat {
  return (GEO_FORMATS as readonly string[]).includes(format);
}

const SUFFIX: Record<GeoFormat, string> = { geojson: '.geojson', fgb: '.fgb', 'label-tif': '.labels.tif' };

/** The path of one geo output of a raster. */
export function geoOutputPath(target: OutputTarget, format: GeoFormat): string {
  return `${outputPrefix(target)}${SUFFIX[format]}`;
}

/** The path of one geo output from an output prefix (what a plan stores) under `outDir`. */
export function geoOutputPathFromPrefix(prefix: string, format: GeoFormat): string {
  return `${prefix}${SUFFIX[format]}`;
}

/** Every geo output of a raster, in `formats` order (each once). */
export function geoOutputFiles(target: OutputTarget, formats: readonly GeoFormat[]): string[] {
  return [...new Set(formats)].map((f) => geoOutputPath(target, f));
}
