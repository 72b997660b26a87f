/**
 * Test rasters without GDAL: GeoTIFFs written by samlite's own tiled TIFF writer, and
 * scenes of flat-coloured shapes placed across the seams and corners of a tiling.
 */
import { geoTagsFor, geoTagsToWrite, type GeoTransform } from '../../src/geo/georef.js';
import { TiledTiffWriter, type TiffSampleType, type TiffSamples, type TiffTag } from '../../src/geo/tiff-writer.js';
import type { TilePlan } from '../../src/geo/tiling.js';
import { makeScene, type Scene, type ShapeSpec } from '../../scripts/fixtures/scene.js';
import { createRng } from '../../scripts/fixtures/prng.js';

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

/**
 * A scene whose shapes sit across the seams and at the corners of `plan`'s tiles: a disc,
 * a rectangle or a polygon centred on each chosen seam point, sizes between `minSize` and
 * `maxSize`, none touching another (so each is one object of its own colour).
 */
export function seamScene(plan: TilePlan, seed: number, options: { minSize?: number; maxSize?: number; count?: number } = {}): Scene {
  const rng = createRng(seed);
  const minSize = options.minSize ?? 60;
  const maxSize = options.maxSize ?? 220;
  const seamsX = plan.coreXs.slice(1, -1);
  const seamsY = plan.coreYs.slice(1, -1);
  const points: [number, number][] = [];
  // Corners first, then points along each seam.
  for (const x of seamsX) for (const y of seamsY) points.push([x, y]);
  for (let k = 0; k < 8; k++) {
    for (const x of seamsX) points.push([x, Math.round(rng.next() * plan.height)]);
    for (const y of seamsY) points.push([Math.round(rng.next() * plan.width), y]);
  }
  const shapes: ShapeSpec[] = [];
  const boxes: [number, number, number, number][] = [];
  const want = options.count ?? 12;
  for (const [cx0, cy0] of points) {
    if (shapes.length >= want) break;
    const size = minSize + rng.next() * (maxSize - minSize);
    // Off-centre by up to a third of the size, so seams cut shapes anywhere.
    const cx = Math.round(cx0 + (rng.next() - 0.5) * size * 0.6);
    const cy = Math.round(cy0 + (rng.next() - 0.5) * size * 0.6);
    const half = Math.ceil(size / 2) + 12;
    const box: [number, number, number, number] = [cx - half, cy - half, cx + half, cy + half];
    if (box[0] < 4 || box[1] < 4 || box[2] > plan.width - 4 || box[3] > plan.height - 4) continue;
    if (boxes.some((b) => b[0] < box[2] && box[0] < b[2] && b[1] < box[3] && box[1] < b[3])) continue;
    boxes.push(box);
    const kind = shapes.length % 3;
    const r = size / 2;
    if (kind === 0) shapes.push({ kind: 'ellipse', cx, cy, rx: r, ry: r * (0.6 + 0.4 * rng.next()), angle: rng.next() * 180 });
    else if (kind === 1) shapes.push({ kind: 'rect', x: Math.round(cx - r), y: Math.round(cy - r * 0.7), width: Math.round(2 * r), height: Math.round(1.4 * r) });
    else {
      const n = 5 + Math.floor(rng.next() * 3);
      const pts: [number, number][] = [];
      for (let i = 0; i < n; i++) {
        const a = (2 * Math.PI * i) / n;
        const rr = r * (0.75 + 0.25 * rng.next());
        pts.push([cx + rr * Math.cos(a), cy + rr * Math.sin(a)]);
      }
      shapes.push({ kind: 'polygon', points: pts });
    }
  }
  return makeScene({ width: plan.width, height: plan.height, seed, shapes });
}

/** An RGB scene as a 3-sample uint8 raster. */
export function sceneRaster(scene: Scene): TestRaster {
  return { width: scene.width, height: scene.height, samples: 3, sampleType: 'uint8', data: scene.image.data };
}
