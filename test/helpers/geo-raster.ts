/**
 * Test rasters without GDAL: GeoTIFFs written by samlite's own tiled TIFF writer.
 */
import { geoTagsFor, geoTagsToWrite, type GeoTransform } from '../../src/geo/georef.js';
import { TiledTiffWriter, type TiffSampleType, type TiffSamples, type TiffTag } from '../../src/geo/tiff-writer.js';
import type { Scene } from '../../scripts/fixtures/scene.js';

/** A raster in memory: interleaved samples, row-major. */
export interface TestRaster {
  readonly width: number;
  readonly height: number;
  readonly samples: number;
  readonly data: TiffSamples;
  readonly sampleType: TiffSampleType;
}

/** How to place and describe a test GeoTIFF. */
export interface GeoTiffOptions {
  readonly transform: GeoTransform;
  readonly epsg: number;
  readonly geographic?: boolean;
  readonly nodata?: number;
  readonly photometric?: 'rgb' | 'minisblack';
  readonly extraSamples?: readonly number[];
  readonly tileSize?: number;
  readonly bigTiff?: boolean;
  /** Tags to write as they are (instead of the transform and EPSG code). */
  readonly tags?: readonly TiffTag[];
}

/** Write `raster` as a tiled, deflated GeoTIFF at `path`. */
export async function writeTestGeoTiff(path: string, raster: TestRaster, options: GeoTiffOptions): Promise<void> {
  const tileSize = options.tileSize ?? 256;
  const tags: TiffTag[] = options.tags ? [...options.tags] : geoTagsToWrite(geoTagsFor(options.transform, options.epsg, options.geographic));
  if (options.nodata !== undefined) tags.push({ tag: 42113, type: 'ascii', values: String(options.nodata) });
  const writer = await TiledTiffWriter.create(path, {
    width: raster.width,
    height: raster.height,
    samples: raster.samples,
    sampleType: raster.sampleType,
    tileSize,
    photometric: options.photometric ?? (raster.samples >= 3 ? 'rgb' : 'minisblack'),
    ...(options.extraSamples ? { extraSamples: options.extraSamples } : {}),
    ...(options.bigTiff !== undefined ? { bigTiff: options.bigTiff } : {}),
    tags,
  });
  const Ctor = raster.data.constructor as new (n: number) => TiffSamples;
  const n = raster.samples;
  for (let ty = 0; ty < writer.tilesDown; ty++) {
    for (let tx = 0; tx < writer.tilesAcross; tx++) {
      const tile = new Ctor(tileSize * tileSize * n);
      for (let y = 0; y < tileSize; y++) {
        const sy = ty * tileSize + y;
        if (sy >= raster.height) break;
        const x0 = tx * tileSize;
        const w = Math.min(tileSize, raster.width - x0);
        tile.set(raster.data.subarray((sy * raster.width + x0) * n, (sy * raster.width + x0 + w) * n) as never, y * tileSize * n);
      }
      await writer.writeTile(tx, ty, tile);
    }
  }
  await writer.close();
}

/** An RGB scene as a 3-sample uint8 raster. */
export function sceneRaster(scene: Scene): TestRaster {
  return { width: scene.width, height: scene.height, samples: 3, sampleType: 'uint8', data: scene.image.data };
}
