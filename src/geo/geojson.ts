/**
 * GeoJSON output, streamed feature by feature. In WGS 84 longitude/latitude it is RFC 7946
 * GeoJSON; in another CRS (the raster's, on request) it names that CRS in the pre-RFC
 * `crs` member, which GDAL and QGIS still read.
 */
import { openAtomicStream } from '../util/atomic-stream.js';
import type { FeatureSink, GeoFeature, Projector } from './vector.js';

/** Options of {@link openGeoJsonWriter}. */
export interface GeoJsonOptions {
  /** The collection's `name` (GDAL's layer name). */
  readonly name: string;
  readonly projector: Projector;
}

/** Open `path` for a FeatureCollection written one feature at a time (atomically). */
export async function openGeoJsonWriter(path: string, options: GeoJsonOptions): Promise<FeatureSink> {
  const { projector } = options;
  const out = await openAtomicStream(path);
  const crs = projector.crs.epsg === 4326 || projector.crs.epsg === undefined ? '' : `,"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::${projector.crs.epsg}"}}`;
  await out.write(`{"type":"FeatureCollection","name":${JSON.stringify(options.name)}${crs},"features":[\n`);
  let first = true;
  return {
    async write(feature: GeoFeature) {
      const geometry = feature.polygons.length > 0 ? { type: 'MultiPolygon', coordinates: projector.project(feature.polygons) } : null;
      const text = JSON.stringify({ type: 'Feature', id: feature.id, properties: feature.properties, geometry });
      await out.write(first ? text : `,\n${text}`);
      first = false;
    },
    async close() {
      await out.write('\n]}\n');
      await out.close();
    },
    abort: () => out.abort(),
  };
}
