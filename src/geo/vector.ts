/**
 * What the vector writers share: a feature (outlines in raster pixels plus properties), the
 * projection of pixel outlines into an output CRS, and the sink interface each format's
 * writer implements.
 */
import type { Polygon, Position, Ring } from '../masks/polygons.js';
import { crsTransform, type Crs } from './crs.js';
import { flipsOrientation, pixelToMap, type GeoTransform } from './georef.js';

/** A property value the writers carry: numbers and text. */
export type PropertyValue = number | string;

/** One object to write: its outline in raster pixel coordinates, and its properties. */
export interface GeoFeature {
  readonly id: number;
  /** Polygons with holes, pixel coordinates of the raster (see masks/polygons.ts). */
  readonly polygons: readonly Polygon[];
  readonly properties: Readonly<Record<string, PropertyValue>>;
}

/** A property column: its name and type (the FlatGeobuf schema; GeoJSON ignores it). */
export interface PropertyColumn {
  readonly name: string;
  readonly type: 'int' | 'double' | 'string';
}

/** A format writer fed one feature at a time. */
export interface FeatureSink {
  write(feature: GeoFeature): Promise<void>;
  /** Finish the file (it appears at its path only now). */
  close(): Promise<void>;
  /** Drop the file. */
  abort(): Promise<void>;
}

/** Pixel outlines to output coordinates. */
export interface Projector {
  /** The CRS the coordinates are in. */
  readonly crs: Crs;
  /** Decimals kept: a thousandth of a pixel or finer. */
  readonly decimals: number;
  /** Polygons in output coordinates, rounded, rings wound as RFC 7946 asks (exterior counter-clockwise). */
  project(polygons: readonly Polygon[]): Polygon[];
  /** One point (pixel coordinates) in output coordinates, unrounded. */
  point(x: number, y: number): [number, number];
  /** [minX, minY, maxX, maxY] of the raster in output coordinates (its edges sampled). */
  extent(): [number, number, number, number];
}

/**
 * Project pixel coordinates of a raster with `transform` in `rasterCrs` into `target`
 * (the raster's own CRS, or another through proj4js). Rings whose winding the transform
 * flips (north-up rasters: rows run south) are reversed so exteriors stay
 * counter-clockwise.
 */
export function makeProjector(transform: GeoTransform, rasterCrs: Crs, target: Crs, width: number, height: number): Projector {
  const toTarget = crsTransform(rasterCrs, target);
  const point = (x: number, y: number): [number, number] => toTarget.forward(pixelToMap(transform, x, y));
  // One pixel's size in output units, at the raster's centre, decides the rounding.
  const cx = width / 2;
  const cy = height / 2;
  const a = point(cx, cy);
  const b = point(cx + 1, cy);
  const c = point(cx, cy + 1);
  const pixel = Math.min(Math.hypot(b[0] - a[0], b[1] - a[1]), Math.hypot(c[0] - a[0], c[1] - a[1]));
  const decimals = Math.max(0, Math.min(12, Math.ceil(-Math.log10(pixel / 1000))));
  const factor = 10 ** decimals;
  const round = (v: number) => Math.round(v * factor) / factor;
  const flip = flipsOrientation(transform);
  const ring = (r: Ring): Ring => {
    const out = r.map(([x, y]): Position => {
      const p = point(x, y);
      return [round(p[0]), round(p[1])];
    });
    if (flip) out.reverse();
    return out;
  };
  const extent = (): [number, number, number, number] => {
    const xs: number[] = [];
    const ys: number[] = [];
    // Edges sampled, so a reprojection that bends them is still bounded.
    for (let i = 0; i <= 16; i++) {
      for (const [x, y] of [[(width * i) / 16, 0], [(width * i) / 16, height], [0, (height * i) / 16], [width, (height * i) / 16]]) {
        const p = point(x, y);
        xs.push(p[0]);
        ys.push(p[1]);
      }
    }
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  };
  return {
    crs: target,
    decimals,
    point,
    extent,
    project: (polygons) => polygons.map((polygon) => polygon.map(ring)),
  };
}
