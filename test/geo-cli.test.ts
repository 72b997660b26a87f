/**
 * `samlite everything` on GeoTIFFs, end to end through the CLI with the built-in model:
 * tiles merged across seams, GeoJSON in WGS 84 at the right place, agreement with a
 * whole-image run. Rasters are written by samlite's own TIFF writer (no GDAL needed).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import proj4 from 'proj4';
import { epsgDefinition } from '../src/geo/crs.js';
import { mapToPixel, type GeoTransform } from '../src/geo/georef.js';
import { planTiles } from '../src/geo/tiling.js';
import { assertBuilt, jsonLines, runSamlite, runSamliteOnTty, startSamliteWithClosedStdout } from './helpers/run-cli.js';
import { fixturePath } from '../scripts/fixtures/index.js';
import { pixelToMap } from '../src/geo/georef.js';
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
    // Off a terminal: no progress bar, only the summary.
    expect(tiled.stderr).not.toMatch(/ETA/);
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

describe('shards of one raster', () => {
  it('--shard k/n writes tile parts only; samlite merge joins them into the bytes of one process', async () => {
    const args = ['everything', raster, '--model', 'builtin', '--fast', '--tile', String(TILE), '--overlap', String(OVERLAP)];
    const one = await runSamlite([...args, '--out', join(dir, 'one')], { cwd: dir });
    expect(one.code).toBe(0);
    const out = join(dir, 'shards');
    for (const k of [1, 2]) {
      const shard = await runSamlite([...args, '--shard', `${k}/2`, '--out', out, '--json'], { cwd: dir });
      expect(shard.code).toBe(0);
      expect(shard.stdout).toBe('');
      expect(shard.stderr).toContain(`shard ${k}/2: parts in ${join(out, 'samlite-parts')}; once every shard is done: samlite merge ${out}`);
    }
    expect(existsSync(join(out, 'scene.geojson'))).toBe(false);
    const merged = await runSamlite(['merge', out, '--json'], { cwd: dir });
    expect(merged.code).toBe(0);
    expect(jsonLines(merged.stdout)).toEqual([{ image: 'scene.tif', masks: scene.shapes.length + 1, outputs: [join(out, 'scene.geojson')] }]);
    expect(readFileSync(join(out, 'scene.geojson')).equals(readFileSync(join(dir, 'one', 'scene.geojson')))).toBe(true);
    // Merged again: the outputs exist, so it stops with exit 2 and writes nothing.
    const again = await runSamlite(['merge', out], { cwd: dir });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/scene\.geojson already exists/);
  });
});

describe('progress, prompts and refusals on the command line', () => {
  it('shows progress in tiles with an ETA on a terminal', async () => {
    const run = await runSamliteOnTty(['everything', raster, '--model', 'builtin', '--fast', '--tile', String(TILE), '--overlap', String(OVERLAP), '--out', join(dir, 'tty')], { cwd: dir, env: { NO_COLOR: '1' } });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`${plan.rows * plan.cols}/${plan.rows * plan.cols} tiles \\| \\d+ masks \\| [\\d.]+ tiles/s \\| ETA`));
  });

  it('a reader that closes stdout stops the run after the raster whose line met the closed pipe, exit 141, resumable', async () => {
    const two = join(dir, 'two');
    mkdirSync(two);
    for (const name of ['a.tif', 'b.tif']) copyFileSync(raster, join(two, name));
    const out = join(dir, 'closed');
    const args = ['everything', two, '--model', 'builtin', '--fast', '--tile', String(TILE), '--overlap', String(OVERLAP), '-c', '1', '--out', out];
    const run = await startSamliteWithClosedStdout(args, { cwd: dir, env: {} }).done;
    expect(run.code).toBe(141);
    expect(run.stderr).not.toMatch(/EPIPE|^error:|\n\s+at /m);
    // Both rasters' tiles are segmented before either is written; a's line met the closed pipe.
    expect(run.stderr).toMatch(/; 1 raster not written \(stdout closed; rerun with --skip-existing to continue\)$/m);
    expect(existsSync(join(out, 'a.geojson'))).toBe(true);
    expect(existsSync(join(out, 'b.geojson'))).toBe(false);
    const resumed = await runSamlite([...args, '--skip-existing', '--json'], { cwd: dir });
    expect(resumed.code).toBe(0);
    expect(existsSync(join(out, 'b.geojson'))).toBe(true);
  });

  it('segments a point given in lon/lat, and names a prompt off the raster in one line with exit 1', async () => {
    const shape = scene.shapes[0];
    const toLonLat = proj4(epsgDefinition(32633)!, 'EPSG:4326');
    const [lon, lat] = toLonLat.forward(pixelToMap(T, shape.interiorPoint.x + 0.5, shape.interiorPoint.y + 0.5));
    const out = join(dir, 'seg');
    const ok = await runSamlite(['segment', raster, '--model', 'builtin', '--point', `${lon},${lat}`, '--prompt-crs', 'EPSG:4326', '--out', out, '--json'], { cwd: dir });
    expect(ok.stderr).not.toMatch(/error|warning/);
    expect(ok.code).toBe(0);
    const [feature] = readFeatures(join(out, 'scene.geojson'));
    expect(iou(featureMask(feature), shape.mask.data)).toBeGreaterThanOrEqual(0.9);
    const off = await runSamlite(['segment', raster, '--model', 'builtin', '--point', '14.5,46.9', '--prompt-crs', 'EPSG:4326', '--out', join(dir, 'seg-off'), '--json', '-q'], { cwd: dir });
    expect(off.code).toBe(1);
    expect(off.stderr).toBe(`error: ${raster}: --point/--box prompt: point 14.5,46.9 (EPSG:4326) lies outside ${raster} (${W}x${H} pixels)\n`);
  });

  it('refuses geo flags and formats without a GeoTIFF, and a mix of GeoTIFFs and photos, before any work', async () => {
    const photo = fixturePath('box.png');
    const cases: [string[], RegExp][] = [
      [['everything', photo, '--tile', '512'], /--tile applies to GeoTIFF inputs/],
      [['everything', photo, '--format', 'geojson'], /--format geojson applies to GeoTIFF inputs/],
      [['everything', raster, photo], /is a GeoTIFF and .* is not: run GeoTIFFs and other images separately/],
      [['everything', raster, '--format', 'overlay'], /GeoTIFF inputs write geojson, fgb or label-tif/],
      [['everything', raster, '--tile', '512', '--overlap', '300'], /--overlap 300: at most half of --tile 512/],
    ];
    for (const [args, message] of cases) {
      const run = await runSamlite([...args, '--model', 'builtin', '--out', join(dir, 'never')], { cwd: dir });
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(message);
    }
  });
});
