/**
 * FlatGeobuf output, streamed: the header (layer name, CRS, property columns) first, then
 * one size-prefixed feature at a time, so a result of any size is written in constant
 * memory. The feature encoding is flatgeobuf's own (its buildFeature); the header is built
 * here with its generated tables, to name the layer and the CRS properly.
 *
 * No spatial index: writing one needs every feature's box before the first feature, i.e.
 * the whole result held or written twice. GDAL and QGIS read the file without one
 * (`ogr2ogr -f FlatGeobuf indexed.fgb out.fgb` adds it). The feature count in the header
 * is 0, which the format defines as unknown.
 */
import * as flatbuffers from 'flatbuffers';
import { buildFeature } from 'flatgeobuf/lib/mjs/generic/feature.js';
import type { IParsedGeometry } from 'flatgeobuf/lib/mjs/generic/geometry.js';
import { Column } from 'flatgeobuf/lib/mjs/flat-geobuf/column.js';
import { ColumnType } from 'flatgeobuf/lib/mjs/flat-geobuf/column-type.js';
import { Crs as FgbCrs } from 'flatgeobuf/lib/mjs/flat-geobuf/crs.js';
import { GeometryType } from 'flatgeobuf/lib/mjs/flat-geobuf/geometry-type.js';
import { Header } from 'flatgeobuf/lib/mjs/flat-geobuf/header.js';
import type { HeaderMeta } from 'flatgeobuf/lib/mjs/header-meta.js';
import { magicbytes } from 'flatgeobuf/lib/mjs/constants.js';
import { openAtomicStream } from '../util/atomic-stream.js';
import type { FeatureSink, GeoFeature, PropertyColumn, Projector } from './vector.js';

/** Options of {@link openFlatGeobufWriter}. */
export interface FlatGeobufOptions {
  /** The layer's name. */
  readonly name: string;
  readonly projector: Projector;
  /** [minX, minY, maxX, maxY] bounding every feature (output coordinates). */
  readonly envelope: readonly [number, number, number, number];
  /** The property columns, in order; every feature's properties are written by them (`id` is the feature's id). */
  readonly columns: readonly PropertyColumn[];
}

const COLUMN_TYPE: Record<PropertyColumn['type'], ColumnType> = { int: ColumnType.Long, double: ColumnType.Double, string: ColumnType.String };

function headerBytes(options: FlatGeobufOptions): Uint8Array {
  const b = new flatbuffers.Builder(1024);
  const columns = options.columns.map((c) => {
    const name = b.createString(c.name);
    Column.startColumn(b);
    Column.addName(b, name);
    Column.addType(b, COLUMN_TYPE[c.type]);
    return Column.endColumn(b);
  });
  const columnsVector = Header.createColumnsVector(b, columns);
  const { crs } = options.projector;
  let crsOffset = 0;
  if (crs.epsg !== undefined) {
    const org = b.createString('EPSG');
    const crsName = b.createString(crs.name);
    FgbCrs.startCrs(b);
    FgbCrs.addOrg(b, org);
    FgbCrs.addCode(b, crs.epsg);
    FgbCrs.addName(b, crsName);
    crsOffset = FgbCrs.endCrs(b);
  }
  const name = b.createString(options.name);
  // The raster's extent bounds every feature. Being doubles, it also aligns the header to 8
  // bytes, so each feature's coordinates start 8-aligned in the file, as readers that map
  // them straight to a Float64Array (flatgeobuf's own) need.
  const envelope = Header.createEnvelopeVector(b, [...options.envelope]);
  Header.startHeader(b);
  Header.addName(b, name);
  Header.addEnvelope(b, envelope);
  Header.addGeometryType(b, GeometryType.MultiPolygon);
  Header.addColumns(b, columnsVector);
  Header.addFeaturesCount(b, 0n);
  Header.addIndexNodeSize(b, 0);
  if (crsOffset) Header.addCrs(b, crsOffset);
  b.finishSizePrefixed(Header.endHeader(b));
  return b.asUint8Array();
}

/** A MultiPolygon in flatgeobuf's parsed form: one part per polygon, ring ends in vertices. */
function multiPolygon(polygons: readonly (readonly (readonly (readonly number[])[])[])[]): IParsedGeometry {
  const parts = polygons.map((polygon): IParsedGeometry => {
    const xy: number[] = [];
    const ends: number[] = [];
    for (const ring of polygon) {
      for (const p of ring) xy.push(p[0], p[1]);
      ends.push(xy.length / 2);
    }
    return { xy, ends, parts: undefined as unknown as IParsedGeometry[], type: GeometryType.Polygon };
  });
  return { xy: [], ends: [], parts, type: GeometryType.MultiPolygon };
}

/** Open `path` for a FlatGeobuf layer written one feature at a time (atomically). */
export async function openFlatGeobufWriter(path: string, options: FlatGeobufOptions): Promise<FeatureSink> {
  const out = await openAtomicStream(path);
  await out.write(magicbytes);
  const header = headerBytes(options);
  if (header.length % 8 !== 0) throw new Error(`FlatGeobuf header of ${header.length} bytes would misalign the features`);
  await out.write(header);
  const meta: HeaderMeta = {
    geometryType: GeometryType.MultiPolygon,
    columns: options.columns.map((c) => ({ name: c.name, type: COLUMN_TYPE[c.type], title: null, description: null, width: -1, precision: -1, scale: -1, nullable: true, unique: false, primary_key: false })),
    envelope: Float64Array.from(options.envelope),
    featuresCount: 0,
    indexNodeSize: 0,
    crs: null,
    title: null,
    description: null,
    metadata: null,
  };
  return {
    async write(feature: GeoFeature) {
      // A feature without geometry still carries its properties: an empty MultiPolygon.
      const geometry = multiPolygon(options.projector.project(feature.polygons));
      const properties = Object.fromEntries(options.columns.map((c) => [c.name, c.name === 'id' ? feature.id : (feature.properties[c.name] ?? null)]));
      await out.write(buildFeature(geometry, properties, meta));
    },
    close: () => out.close(),
    abort: () => out.abort(),
  };
}
