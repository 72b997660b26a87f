/**
 * The outputs of one raster, open together: GeoJSON, FlatGeobuf and the label raster, as
 * its plan asks. Objects go to all of them at once, one at a time, each with the next id;
 * the files appear at their paths only when all are closed.
 */
import { basename, extname, join } from 'node:path';
import { InputError } from '../util/errors.js';
import { WGS84, lacksDatumShift } from './crs.js';
import { openFlatGeobufWriter } from './flatgeobuf.js';
import { openGeoJsonWriter } from './geojson.js';
import { pixelArea } from './georef.js';
import { LabelRasterWriter } from './label-raster.js';
import { spanPolygons } from './outline.js';
import { geoOutputPathFromPrefix, isGeoFormat, type GeoFormat } from './outputs.js';
import type { GeoPlan } from './parts.js';
import type { SpanMask } from './spans.js';
import { makeProjector, type FeatureSink, type PropertyColumn, type PropertyValue } from './vector.js';

/** The plan's settings the writers read. */
interface WriterSettings {
  readonly geojsonCrs: 'wgs84' | 'raster';
  readonly polygonTolerance: number;
}

/** The open outputs of one raster. */
export class GeoOutputs {
  private id = 0;

  private constructor(
    private sinks: FeatureSink[],
    private labels: LabelRasterWriter | undefined,
    /** The files, in the plan's format order. */
    readonly files: string[],
    /** Notes for the user (a datum shift samlite does not know). */
    readonly warnings: string[],
    /** Map units squared per pixel. */
    readonly pixelArea: number,
    private readonly tolerance: number,
  ) {}

  /**
   * Open the outputs `plan` asks for under `outDir`, with property `columns` (FlatGeobuf's
   * schema; `id` comes first on its own). `beforeWrite` sees the paths first (an existence
   * check). An InputError when the raster has no CRS to place vectors with.
   */
  static async open(plan: GeoPlan, outDir: string, columns: readonly PropertyColumn[], beforeWrite?: (files: string[]) => Promise<void>): Promise<GeoOutputs> {
    const settings = plan.mergeSettings as unknown as WriterSettings;
    const formats = plan.formats.filter(isGeoFormat) as GeoFormat[];
    const prefix = join(outDir, plan.outputPrefix);
    const files = formats.map((f) => geoOutputPathFromPrefix(prefix, f));
    await beforeWrite?.(files);
    const warnings: string[] = [];
    const crs = plan.crs;
    // The layer is named after the raster's file, without its extension (what ogr2ogr -sql uses).
    const layer = basename(plan.name, extname(plan.name));
    const sinks: FeatureSink[] = [];
    let labels: LabelRasterWriter | undefined;
    try {
      for (const format of formats) {
        const path = geoOutputPathFromPrefix(prefix, format);
        if (format === 'label-tif') {
          labels = new LabelRasterWriter(path, plan.width, plan.height, plan.geoTags);
          continue;
        }
        if (!crs) throw new InputError(`${plan.name}: the raster names no CRS in its GeoKeys, so --format ${format} cannot be placed (label-tif can)`);
        if (format === 'geojson') {
          const target = settings.geojsonCrs === 'raster' ? crs : WGS84;
          if (target !== crs && lacksDatumShift(crs)) {
            warnings.push(`${plan.name}: EPSG:${crs.epsg} has no datum shift to WGS 84 in samlite's table; GeoJSON longitudes and latitudes may be off by up to a few hundred metres (--geojson-crs raster keeps the raster's CRS)`);
          }
          sinks.push(await openGeoJsonWriter(path, { name: layer, projector: makeProjector(plan.transform, crs, target, plan.width, plan.height) }));
        } else {
          const projector = makeProjector(plan.transform, crs, crs, plan.width, plan.height);
          sinks.push(await openFlatGeobufWriter(path, { name: layer, projector, envelope: projector.extent(), columns: [{ name: 'id', type: 'int' }, ...columns] }));
        }
      }
    } catch (err) {
      for (const sink of sinks) await sink.abort();
      await labels?.abort();
      throw err;
    }
    return new GeoOutputs(sinks, labels, files, warnings, pixelArea(plan.transform), settings.polygonTolerance);
  }

  /** Write one object (`area` pixels) with `properties`; it gets the next id, from 1. */
  async write(mask: SpanMask, area: number, properties: Readonly<Record<string, PropertyValue>>): Promise<number> {
    const id = ++this.id;
    if (this.sinks.length > 0) {
      const feature = { id, polygons: spanPolygons(mask, this.tolerance), properties };
      for (const sink of this.sinks) await sink.write(feature);
    }
    await this.labels?.add(id, area, mask);
    return id;
  }

  /** Finish every file; returns how many objects were written. */
  async close(): Promise<number> {
    for (const sink of this.sinks.splice(0)) await sink.close();
    const labels = this.labels;
    this.labels = undefined;
    await labels?.close();
    return this.id;
  }

  /** Drop every file not yet closed (nothing appears at their paths). */
  async abort(): Promise<void> {
    for (const sink of this.sinks.splice(0)) await sink.abort();
    const labels = this.labels;
    this.labels = undefined;
    await labels?.abort();
  }
}
