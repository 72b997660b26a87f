/**
 * Outlines of merged objects as polygons with holes, in raster pixel coordinates, with the
 * geometry and the conventions of masks/polygons.ts (marching squares through pixel-edge
 * midpoints, RFC 7946 winding on the raw numbers, Douglas–Peucker at `tolerance`).
 */
import { cropToPolygons, type Polygon } from '../masks/polygons.js';
import { spansToCrop, type SpanMask } from './spans.js';

/** Polygons of `mask` (see the module comment). */
export function spanPolygons(mask: SpanMask, tolerance: number): Polygon[] {
  return cropToPolygons(spansToCrop(mask), { tolerance });
}
