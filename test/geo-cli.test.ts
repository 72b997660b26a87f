/**
 * `samlite everything` on GeoTIFFs, end to end through the CLI with the built-in model:
 * tiles merged across seams, GeoJSON in WGS 84 at the right place, agreement with a
 * whole-image run. Rasters are written by samlite's own TIFF writer (no GDAL needed).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import proj4 from 'proj4';
import { epsgDefinition } from '../src/geo/crs.js';
import { mapToPixel, type GeoTransform } from '../src/geo/georef.js';
import { planTiles } from '../src/geo/tiling.js';
import { assertBuilt, jsonLines, runSamlite } from './helpers/run-cli.js';
import { sceneRaster, writeTestGeoTiff } from './helpers/geo-raster.js';
import { seamScene } from '../scripts/fixtures/seam-scene.js';
import { iou, rasteriseEvenOdd } from './helpers/polygon-raster.js';

const dir = mkdtempSync(join(tmpdir(), 'samlite-geo-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const W = 1100;
const H = 800;
const TILE = 512;
const OVERLAP = 64;
/** 0.5 m pixels in UTM zone 33N. */
const T: GeoTransform = [500000, 0.5, 0, 5200000, 0, -0.5];
const plan = planTiles(W, H, TILE, OVERLAP);
const scene = seamScene(plan, 7, { minSize: 50, maxSize: 170 });
const raster = join(dir, 'scene.tif');

interface Feature {
  id: number;
  properties: Record<string, number | string>;
  geometry: { type: 'MultiPolygon'; coordinates: number[][][][] } | null;
}

/** A GeoJSON feature (WGS 84) rasterised back onto the raster's pixel grid. */
function featureMask(f: Feature): Uint8Array {
  const toUtm = proj4('EPSG:4326', epsgDefinition(32633)!);
  const rings = (f.geometry?.coordinates ?? []).flatMap((polygon) =>
    polygon.map((ring) => ring.map(([lon, lat]) => mapToPixel(T, ...(toUtm.forward([lon, lat]) as [number, number])))),
  );
  return rasteriseEvenOdd(rings, W, H);
}

function readFeatures(path: string): Feature[] {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { type: string; features: Feature[] };
  expect(doc.type).toBe('FeatureCollection');
  return doc.features;
}

beforeAll(async () => {
  assertBuilt();
  await writeTestGeoTiff(raster, sceneRaster(scene), { transform: T, epsg: 32633 });
});

describe('everything on a GeoTIFF', () => {
  it('merges objects cut by seams and corners into whole ones, placed in WGS 84 where the pixels are, and agrees with a whole-image run', async () => {
    const tiled = await runSamlite(['everything', raster, '--model', 'builtin', '--fast', '--tile', String(TILE), '--overlap', String(OVERLAP), '--out', join(dir, 'tiled'), '--json'], { cwd: dir });
    expect(tiled.stderr).not.toMatch(/error/i);
    expect(tiled.code).toBe(0);
    const [line] = jsonLines(tiled.stdout);
    expect(line).toMatchObject({ image: raster, tiles: plan.rows * plan.cols, outputs: [join(dir, 'tiled', 'scene.geojson')] });
    const features = readFeatures(join(dir, 'tiled', 'scene.geojson'));
    const masks = features.map(featureMask);

    // Every shape (and the background), many of them cut by a seam or corner, comes out whole.
    expect(scene.shapes.length).toBeGreaterThanOrEqual(8);
    const cut = scene.shapes.filter((s) => plan.coreXs.slice(1, -1).some((x) => s.bbox.x1 < x && x <= s.bbox.x2) || plan.coreYs.slice(1, -1).some((y) => s.bbox.y1 < y && y <= s.bbox.y2));
    expect(cut.length).toBeGreaterThanOrEqual(6);
    for (const region of [scene.background, ...scene.shapes]) {
      const best = Math.max(...masks.map((m) => iou(m, region.mask.data)));
      expect(best, `region of colour ${region.color.join(',')}`).toBeGreaterThanOrEqual(0.95);
    }
    // One feature per object: no pieces, no duplicates.
    expect(features).toHaveLength(scene.shapes.length + 1);
    for (const f of features) {
      expect(f.properties).toMatchObject({ score: expect.any(Number), area: expect.any(Number), area_px: expect.any(Number), tile: expect.stringMatching(/^r\d{4}c\d{4}$/), tiles: expect.any(Number) });
      expect(f.properties.area).toBeCloseTo((f.properties.area_px as number) * 0.25, 6);
    }

    // Against the same raster segmented whole (one tile): every object found whole.
    const whole = await runSamlite(['everything', raster, '--model', 'builtin', '--fast', '--out', join(dir, 'whole'), '--json'], { cwd: dir });
    expect(whole.code).toBe(0);
    const wholeMasks = readFeatures(join(dir, 'whole', 'scene.geojson')).map(featureMask);
    expect(wholeMasks.length).toBeGreaterThan(0);
    for (const [i, m] of wholeMasks.entries()) {
      expect(Math.max(...masks.map((t) => iou(t, m))), `whole-image object ${i + 1}`).toBeGreaterThanOrEqual(0.9);
    }
  });
});
