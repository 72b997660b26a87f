import { polygonsToCoco, rleToPolygons, type Polygon, type PolygonOptions } from '../masks/polygons.js';
import type { MaskRecord } from '../masks/record.js';
import type { BoxXYWH } from '../masks/types.js';
import { writeOutputFile, type WriteOptions } from './files.js';
import { maskStats } from './mask-stats.js';
import { checkRecordSizes, maskId } from './order.js';
import type { ImageJson } from './sa1b-json.js';

/** Per-mask fields shared by the GeoJSON properties and the COCO polygon annotations. */
export interface PolygonMaskFields {
  id: number;
  /** Foreground pixel count of the mask (not the polygon area). */
  area: number;
  /** [x, y, w, h], COCO convention (w = x_max - x_min + 1), of the mask. */
  bbox: BoxXYWH;
  predicted_iou: number;
  stability_score: number;
  point_coords: [number, number][];
  crop_box: BoxXYWH;
}

/** One mask as a GeoJSON Feature in pixel coordinates. */
export interface MaskFeature {
  type: 'Feature';
  id: number;
  /** null for an empty mask (RFC 7946 §3.2: an unlocated feature). */
  geometry: { type: 'MultiPolygon'; coordinates: Polygon[] } | null;
  properties: PolygonMaskFields;
}

/** The `.geojson` output: a FeatureCollection, plus the image as a foreign member. */
export interface MaskFeatureCollection {
  type: 'FeatureCollection';
  image: ImageJson;
  features: MaskFeature[];
}

/** One annotation of the `.coco-polygons.json` output. */
export interface CocoPolygonAnnotation extends PolygonMaskFields {
  /** COCO polygon segmentation: one flat [x1, y1, ...] list per outline, holes bridged in. */
  segmentation: number[][];
}

/** The `.coco-polygons.json` output: the SA-1B layout with polygon segmentation. */
export interface CocoPolygonDocument {
  image: ImageJson;
  annotations: CocoPolygonAnnotation[];
}

function fields(record: MaskRecord, index: number): PolygonMaskFields {
  const { bbox, area } = maskStats(record.rle);
  return {
    id: maskId(index),
    area,
    bbox,
    predicted_iou: record.predictedIou,
    stability_score: record.stabilityScore,
    point_coords: record.pointCoords.map(([x, y]) => [x, y]),
    crop_box: [...record.cropBox],
  };
}

/**
 * Outline every mask once and build both polygon documents from the same outlines. Masks
 * are decoded one at a time, bounding box only; only the polygons are kept.
 */
export function polygonDocuments(
  image: ImageJson,
  records: readonly MaskRecord[],
  options: PolygonOptions = {},
): { geojson: MaskFeatureCollection; coco: CocoPolygonDocument } {
  checkRecordSizes(records, image.width, image.height);
  const features: MaskFeature[] = [];
  const annotations: CocoPolygonAnnotation[] = [];
  records.forEach((record, index) => {
    const polygons = rleToPolygons(record.rle, options);
    const props = fields(record, index);
    features.push({
      type: 'Feature',
      id: props.id,
      geometry: polygons.length > 0 ? { type: 'MultiPolygon', coordinates: polygons } : null,
      properties: props,
    });
    annotations.push({ ...props, segmentation: polygonsToCoco(polygons) });
  });
  return {
    geojson: { type: 'FeatureCollection', image: { ...image }, features },
    coco: { image: { ...image }, annotations },
  };
}

/**
 * Write the `polygons` format: `geojsonPath` (GeoJSON in pixel coordinates) and
 * `cocoPath` (COCO polygon segmentation), in that order. Returns both paths.
 */
export async function writePolygons(
  geojsonPath: string,
  cocoPath: string,
  image: ImageJson,
  records: readonly MaskRecord[],
  options: PolygonOptions & WriteOptions = {},
): Promise<string[]> {
  const { geojson, coco } = polygonDocuments(image, records, options);
  await writeOutputFile(geojsonPath, `${JSON.stringify(geojson)}\n`, options);
  await writeOutputFile(cocoPath, `${JSON.stringify(coco)}\n`, options);
  return [geojsonPath, cocoPath];
}
