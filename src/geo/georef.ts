/**
 * A raster's georeferencing: the affine transform from pixel to map coordinates, read from
 * the GeoTIFF tags the way GDAL reads them, and the raw tags so that a label raster can
 * carry exactly the same georeferencing.
 *
 * Pixel coordinates here are GDAL's: (0, 0) is the top-left corner of the top-left pixel,
 * x to the right, y down; pixel (i, j) covers [i, i + 1] x [j, j + 1].
 */
import type { TiffTag } from './tiff-writer.js';

/**
 * GDAL's six-number geotransform: map X = t[0] + x * t[1] + y * t[2] and
 * Y = t[3] + x * t[4] + y * t[5] for pixel coordinates (x, y).
 */
export type GeoTransform = readonly [number, number, number, number, number, number];

/** The TIFF tags that carry georeferencing, by number. */
export const GEO_TAGS = {
  modelPixelScale: 33550,
  modelTiepoint: 33922,
  modelTransformation: 34264,
  geoKeyDirectory: 34735,
  geoDoubleParams: 34736,
  geoAsciiParams: 34737,
} as const;

/** The georeferencing tags' values as read from a file (numbers, or text for GeoAsciiParams). */
export interface GeoTagValues {
  readonly modelPixelScale?: readonly number[];
  readonly modelTiepoint?: readonly number[];
  readonly modelTransformation?: readonly number[];
  readonly geoKeyDirectory?: readonly number[];
  readonly geoDoubleParams?: readonly number[];
  readonly geoAsciiParams?: string;
}

/** GTRasterTypeGeoKey's value for PixelIsPoint. */
const PIXEL_IS_POINT = 2;

/**
 * The geotransform the tags define, or a reason why they define none. As GDAL does:
 * ModelTransformation wins; else one tiepoint and the pixel scale; PixelIsPoint rasters
 * (`pixelIsPoint`) are shifted by half a pixel, so (0, 0) stays the corner of the first
 * pixel. Several tiepoints without a scale are ground control points, not an affine
 * transform.
 */
export function geoTransformFromTags(tags: GeoTagValues, pixelIsPoint: boolean): GeoTransform | { reason: string } {
  let t: [number, number, number, number, number, number];
  const m = tags.modelTransformation;
  if (m && m.length >= 16) {
    t = [m[3], m[0], m[1], m[7], m[4], m[5]];
  } else {
    const tie = tags.modelTiepoint;
    const scale = tags.modelPixelScale;
    if (!tie || tie.length < 6) return { reason: 'no georeferencing tags (ModelTiepoint, ModelTransformation)' };
    if (!scale || scale.length < 2) {
      return tie.length > 6
        ? { reason: `${tie.length / 6} ground control points but no affine transform; warp it first (gdalwarp)` }
        : { reason: 'a tiepoint without ModelPixelScale' };
    }
    const [i, j, , x, y] = tie;
    t = [x - i * scale[0], scale[0], 0, y + j * scale[1], 0, -scale[1]];
  }
  if (pixelIsPoint) {
    t[0] -= 0.5 * t[1] + 0.5 * t[2];
    t[3] -= 0.5 * t[4] + 0.5 * t[5];
  }
  if (!t.every(Number.isFinite) || t[1] * t[5] - t[2] * t[4] === 0) return { reason: 'a degenerate geotransform' };
  return t;
}

/** Whether GeoKeys say PixelIsPoint (GTRasterTypeGeoKey = 2). */
export function isPixelIsPoint(keys: Readonly<Record<string, unknown>> | null | undefined): boolean {
  return keys?.GTRasterTypeGeoKey === PIXEL_IS_POINT;
}

/** Map coordinates of pixel coordinates (x, y). */
export function pixelToMap(t: GeoTransform, x: number, y: number): [number, number] {
  return [t[0] + x * t[1] + y * t[2], t[3] + x * t[4] + y * t[5]];
}

/** Pixel coordinates of map coordinates (X, Y): the inverse of {@link pixelToMap}. */
export function mapToPixel(t: GeoTransform, X: number, Y: number): [number, number] {
  const det = t[1] * t[5] - t[2] * t[4];
  const dx = X - t[0];
  const dy = Y - t[3];
  return [(dx * t[5] - dy * t[2]) / det, (dy * t[1] - dx * t[4]) / det];
}

/** Area of one pixel in map units squared. */
export function pixelArea(t: GeoTransform): number {
  return Math.abs(t[1] * t[5] - t[2] * t[4]);
}

/**
 * Whether the transform flips orientation (north-up rasters do: y down the rows is south):
 * rings keep their RFC 7946 winding only if reversed after the transform.
 */
export function flipsOrientation(t: GeoTransform): boolean {
  return t[1] * t[5] - t[2] * t[4] < 0;
}

/** The tags to write into a raster on the same grid: the input's own, unchanged. */
export function geoTagsToWrite(tags: GeoTagValues): TiffTag[] {
  const out: TiffTag[] = [];
  const doubles = (tag: number, values: readonly number[] | undefined) => values && values.length > 0 && out.push({ tag, type: 'double', values: [...values] });
  doubles(GEO_TAGS.modelPixelScale, tags.modelPixelScale);
  doubles(GEO_TAGS.modelTiepoint, tags.modelTiepoint);
  doubles(GEO_TAGS.modelTransformation, tags.modelTransformation);
  if (tags.geoKeyDirectory && tags.geoKeyDirectory.length > 0) out.push({ tag: GEO_TAGS.geoKeyDirectory, type: 'short', values: [...tags.geoKeyDirectory] });
  doubles(GEO_TAGS.geoDoubleParams, tags.geoDoubleParams);
  if (tags.geoAsciiParams !== undefined && tags.geoAsciiParams.length > 0) {
    // geotiff.js hands the text back without its final NUL; the writer adds one.
    out.push({ tag: GEO_TAGS.geoAsciiParams, type: 'ascii', values: tags.geoAsciiParams.replace(/\0$/, '') });
  }
  return out;
}

/**
 * Tags that place a `width` x `height` raster with transform `t` (a north-up transform as
 * scale + tiepoint, any other as ModelTransformation), with GeoKeys naming EPSG `epsg`:
 * how samlite's tests make GeoTIFF inputs.
 */
export function geoTagsFor(t: GeoTransform, epsg: number, geographic = false): GeoTagValues {
  const keys = geographic
    ? [1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, epsg]
    : [1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, epsg];
  const northUp = t[2] === 0 && t[4] === 0 && t[1] > 0 && t[5] < 0;
  return northUp
    ? { modelPixelScale: [t[1], -t[5], 0], modelTiepoint: [0, 0, 0, t[0], t[3], 0], geoKeyDirectory: keys }
    : { modelTransformation: [t[1], t[2], 0, t[0], t[4], t[5], 0, t[3], 0, 0, 0, 0, 0, 0, 0, 1], geoKeyDirectory: keys };
}
