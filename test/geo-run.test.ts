/**
 * Tiled runs over GeoTIFFs in-process, with the built-in model: the outputs agree with each
 * other and with the input's grid, a run resumes tile by tile, shards merge to the same
 * bytes as one process, prompts on the map land on their objects, and 16-bit, 4-band, no
 * data, alpha and rotated rasters are read right. Rasters come from samlite's own writer.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromFile } from 'geotiff';
import { deserialize } from 'flatgeobuf/lib/mjs/geojson.js';
import proj4 from 'proj4';
import { epsgDefinition } from '../src/geo/crs.js';
import { geoTagsToWrite, mapToPixel, pixelToMap, type GeoTransform } from '../src/geo/georef.js';
import { mergeGeoFolders } from '../src/geo/merge-run.js';
import { runGeoEverything, runGeoPrompts, type GeoRunReporter, type GeoRunSettings } from '../src/geo/run.js';
import { readPromptFile } from '../src/geo/prompts.js';
import { planTiles } from '../src/geo/tiling.js';
import { Segmenter } from '../src/segmenter/segmenter.js';
import { chooseModel } from '../src/store/resolve.js';
import { seamScene } from '../scripts/fixtures/seam-scene.js';
import type { Scene } from '../scripts/fixtures/scene.js';
import { sceneRaster, writeTestGeoTiff, type TestRaster } from './helpers/geo-raster.js';
import { iou, rasteriseEvenOdd } from './helpers/polygon-raster.js';

const dir = mkdtempSync(join(tmpdir(), 'samlite-geo-run-'));
const W = 900;
const H = 700;
const TILE = 512;
const OVERLAP = 64;
const T: GeoTransform = [500000, 0.5, 0, 5200000, 0, -0.5];
const plan = planTiles(W, H, TILE, OVERLAP);
const scene = seamScene(plan, 11, { minSize: 60, maxSize: 200 });
const raster = join(dir, 'scene.tif');
let segmenter: Segmenter;
/** The run closes what it opens; tests share one session. */
let shared: Segmenter;

beforeAll(async () => {
  await writeTestGeoTiff(raster, sceneRaster(scene), { transform: T, epsg: 32633 });
  segmenter = await Segmenter.open(chooseModel('builtin').model, { embeddingCache: false });
  shared = Object.create(segmenter, { close: { value: async () => {} } }) as Segmenter;
});
afterAll(async () => {
  await segmenter?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Log {
  failed: string[];
  warnings: string[];
  tiles: number;
}

function reporter(log: Log, onTile?: () => void): GeoRunReporter {
  return {
    info() {},
    warn: (m) => void log.warnings.push(m),
    failed: (input, m) => void log.failed.push(`${input}: ${m}`),
    tilesPlanned() {},
    tileDone() {
      log.tiles++;
      onTile?.();
    },
    rasterDone() {},
  };
}

function settings(out: string, extra: Partial<GeoRunSettings> = {}): GeoRunSettings {
  return {
    tile: TILE,
    overlap: OVERLAP,
    maxPixels: Infinity,
    stretch: { kind: 'auto' },
    formats: ['geojson', 'fgb', 'label-tif'],
    geojsonCrs: 'raster',
    polygonTolerance: 0.3,
    everything: { mode: 'fast' },
    minArea: null,
    maxArea: null,
    skipExisting: false,
    overwrite: false,
    concurrency: 1,
    outDir: out,
    ...extra,
  };
}

async function everything(input: string, out: string, extra: Partial<GeoRunSettings> = {}, onTile?: (log: Log) => void) {
  const log: Log = { failed: [], warnings: [], tiles: 0 };
  const summary = await runGeoEverything([{ path: input, display: input, target: { input, outDir: out } }], settings(out, extra), { name: 'builtin' }, async () => shared, reporter(log, () => onTile?.(log)));
  return { summary, log };
}

interface Feature {
  id: number;
  properties: Record<string, number | string>;
  geometry: { coordinates: number[][][][] } | null;
}

/** Features' polygons (map coordinates of transform `t`) rasterised on the W x H grid. */
function masksOf(features: readonly Feature[], t: GeoTransform = T, width = W, height = H): Uint8Array[] {
  return features.map((f) => rasteriseEvenOdd((f.geometry?.coordinates ?? []).flatMap((p) => p.map((r) => r.map(([x, y]) => mapToPixel(t, x, y)))), width, height));
}

function geojson(path: string): Feature[] {
  return (JSON.parse(readFileSync(path, 'utf8')) as { features: Feature[] }).features;
}

const regionsOf = (s: Scene) => [s.background, ...s.shapes].map((r) => r.mask.data);

describe('outputs of a tiled run', () => {
  it('label raster on the input grid, FlatGeobuf and GeoJSON describe the same objects, every shape whole', async () => {
    const out = join(dir, 'outputs');
    const { log } = await everything(raster, out);
    expect(log.failed).toEqual([]);
    const features = geojson(join(out, 'scene.geojson'));
    const masks = masksOf(features);
    for (const region of regionsOf(scene)) expect(Math.max(...masks.map((m) => iou(m, region)))).toBeGreaterThanOrEqual(0.95);
    expect(features).toHaveLength(scene.shapes.length + 1);

    // FlatGeobuf: same ids and coordinates as the GeoJSON in the raster's CRS, EPSG:32633 in its header.
    let crs = 0;
    const fgb: Feature[] = [];
    for await (const f of deserialize(new Uint8Array(readFileSync(join(out, 'scene.fgb'))), { headerMetaFn: (h: { crs: { code: number } | null }) => (crs = h.crs?.code ?? 0) } as never)) fgb.push(f as unknown as Feature);
    expect(crs).toBe(32633);
    expect(fgb.map((f) => f.properties.id)).toEqual(features.map((f) => f.id));
    expect(fgb.map((f) => f.geometry?.coordinates)).toEqual(features.map((f) => f.geometry?.coordinates));

    // The label raster: the input's size and georeferencing tags; each id where its outline
    // is, except where a smaller object is painted over it.
    const input = (await (await fromFile(raster)).getImage(0)).getFileDirectory();
    const image = await (await fromFile(join(out, 'scene.labels.tif'))).getImage(0);
    const fd = image.getFileDirectory();
    expect([image.getWidth(), image.getHeight()]).toEqual([W, H]);
    for (const tag of ['ModelPixelScale', 'ModelTiepoint', 'GeoKeyDirectory'] as const) expect(Array.from((await fd.loadValue(tag)) ?? [])).toEqual(Array.from((await input.loadValue(tag)) ?? [0]));
    const [labels] = (await image.readRasters()) as unknown as Uint32Array[];
    const area = masks.map((m) => m.reduce((a, v) => a + v, 0));
    let wrong = 0;
    for (let i = 0; i < W * H; i++) {
      const inside = masks.map((m, k) => (m[i] ? k : -1)).filter((k) => k >= 0);
      const expected = inside.length === 0 ? 0 : features[inside.sort((a, b) => area[a] - area[b] || a - b)[0]].id;
      if (labels[i] !== expected) wrong++;
    }
    expect(wrong).toBe(0);
  });
});

describe('resuming and sharding', () => {
  // One uninterrupted, unsharded run the others are compared with.
  let reference: Promise<string> | undefined;
  const wholeRun = () => (reference ??= everything(raster, join(dir, 'whole')).then(() => join(dir, 'whole')));

  it('resumes by tile after an interrupt, and gives the bytes of an uninterrupted run', async () => {
    const whole = await wholeRun();
    const out = join(dir, 'resumed');
    const controller = new AbortController();
    const first = await everything(raster, out, { signal: controller.signal }, (log) => {
      if (log.tiles === 2) controller.abort(new Error('interrupted'));
    });
    expect(first.summary).toMatchObject({ interrupted: true, tilesDone: 2, tilesNotDone: plan.rows * plan.cols - 2 });
    const second = await everything(raster, out, { skipExisting: true });
    expect(second.summary).toMatchObject({ interrupted: false, tilesDone: plan.rows * plan.cols - 2, tilesSkipped: 2 });
    for (const name of ['scene.geojson', 'scene.fgb', 'scene.labels.tif']) {
      expect(readFileSync(join(out, name)).equals(readFileSync(join(whole, name))), name).toBe(true);
    }
    // A third run has nothing left to do.
    const third = await everything(raster, out, { skipExisting: true });
    expect(third.summary).toMatchObject({ skipped: 1, tilesDone: 0 });
  });

  it('shards in one folder or in several, merged, give the bytes of one process', async () => {
    const whole = await wholeRun();
    const one = join(dir, 'sharded');
    for (let k = 1; k <= 3; k++) {
      const { summary } = await everything(raster, one, { shard: { index: k, count: 3 } });
      expect(summary.objects).toBe(0);
    }
    const merged = await mergeGeoFolders([one], one, false);
    expect(merged).toMatchObject([{ name: 'scene.tif', files: [join(one, 'scene.geojson'), join(one, 'scene.fgb'), join(one, 'scene.labels.tif')] }]);
    const machines = [1, 2, 3].map((k) => join(dir, `machine${k}`));
    for (const [i, m] of machines.entries()) await everything(raster, m, { shard: { index: i + 1, count: 3 } });
    const all = join(dir, 'all');
    // One machine's parts missing: the merge names the tile, and writes nothing.
    const partial = await mergeGeoFolders(machines.slice(0, 2), all, false);
    expect(partial).toMatchObject([{ name: 'scene.tif', error: expect.stringMatching(/tile r\d{4}c\d{4} has no part/) }]);
    await mergeGeoFolders(machines, all, false);
    for (const name of ['scene.geojson', 'scene.fgb', 'scene.labels.tif']) {
      expect(readFileSync(join(one, name)).equals(readFileSync(join(whole, name))), `${name} (one folder)`).toBe(true);
      expect(readFileSync(join(all, name)).equals(readFileSync(join(whole, name))), `${name} (several)`).toBe(true);
    }
    await expect(mergeGeoFolders([one], one, false)).rejects.toThrow(/already exists/);
  });
});

describe('prompts on the map', () => {
  it('answers points in lon/lat and boxes from a GeoJSON in the raster CRS, carries properties, and names a prompt off the raster', async () => {
    const toLonLat = proj4(epsgDefinition(32633)!, 'EPSG:4326');
    const shapes = scene.shapes.slice(0, 4);
    const features = shapes.map((s, i) => {
      if (i % 2 === 0) {
        const [X, Y] = pixelToMap(T, s.interiorPoint.x + 0.5, s.interiorPoint.y + 0.5);
        return { type: 'Feature', id: `p${i}`, properties: { kind: 'point', n: i }, geometry: { type: 'Point', coordinates: toLonLat.forward([X, Y]) } };
      }
      // A footprint polygon slightly larger than the shape's box, in UTM.
      const [a, b] = [pixelToMap(T, s.bbox.x1 - 3, s.bbox.y1 - 3), pixelToMap(T, s.bbox.x2 + 4, s.bbox.y2 + 4)];
      const ring = [[a[0], a[1]], [b[0], a[1]], [b[0], b[1]], [a[0], b[1]], [a[0], a[1]]];
      return { type: 'Feature', id: `b${i}`, properties: { kind: 'box', n: i, area: 'not ours' }, geometry: { type: 'Polygon', coordinates: [ring] } };
    });
    const far = toLonLat.forward(pixelToMap(T, W + 500, 10));
    const file = join(dir, 'prompts.geojson');
    writeFileSync(file, JSON.stringify({ type: 'FeatureCollection', features: [...features.slice(0, 2), { type: 'Feature', id: 'off', properties: {}, geometry: { type: 'Point', coordinates: far } }, ...features.slice(2)] }));
    // Boxes are in UTM: a second file with a crs member (pre-RFC 7946) for them.
    const boxes = join(dir, 'boxes.geojson');
    writeFileSync(boxes, JSON.stringify({ type: 'FeatureCollection', crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32633' } }, features: features.filter((_, i) => i % 2 === 1) }));
    const points = await readPromptFile(file);
    const pointPrompts = points.prompts.filter((p) => p.points.length > 0);
    const out = join(dir, 'prompted');
    const log: Log = { failed: [], warnings: [], tiles: 0 };
    const common = { ...settings(out), formats: ['geojson' as const] };
    await runGeoPrompts([{ path: raster, display: 'scene.tif', target: { input: raster, outDir: out } }], { ...common, prompts: pointPrompts, frame: points.frame }, { name: 'builtin' }, async () => shared, reporter(log));
    expect(log.failed).toEqual([`scene.tif: ${file} feature 3 (id "off"): point ${far[0]},${far[1]} (WGS 84) lies outside scene.tif (900x700 pixels)`]);
    // Objects come in tile order; `prompt` says which prompt each answers.
    const got = geojson(join(out, 'scene.geojson')).sort((a, b) => (a.properties.prompt as number) - (b.properties.prompt as number));
    expect(got.map((f) => f.properties.source_id)).toEqual(['p0', 'p2']);
    const masks = masksOf(got);
    expect(iou(masks[0], shapes[0].mask.data)).toBeGreaterThanOrEqual(0.9);
    expect(iou(masks[1], shapes[2].mask.data)).toBeGreaterThanOrEqual(0.9);
    expect(got[0].properties).toMatchObject({ kind: 'point', n: 0, prompt: 0, score: expect.any(Number), area_px: expect.any(Number) });

    const boxFile = await readPromptFile(boxes);
    const out2 = join(dir, 'boxed');
    const log2: Log = { failed: [], warnings: [], tiles: 0 };
    await runGeoPrompts([{ path: raster, display: 'scene.tif', target: { input: raster, outDir: out2 } }], { ...settings(out2), formats: ['geojson'], prompts: boxFile.prompts, frame: boxFile.frame }, { name: 'builtin' }, async () => shared, reporter(log2));
    expect(log2.failed).toEqual([]);
    const boxed = geojson(join(out2, 'scene.geojson')).sort((a, b) => (a.properties.prompt as number) - (b.properties.prompt as number));
    expect(boxed.map((f) => f.properties.source_id)).toEqual(['b1', 'b3']);
    // A source property named like one of samlite's keeps its value under src_<name>.
    expect(boxed[0].properties).toMatchObject({ kind: 'box', src_area: 'not ours' });
    const boxMasks = masksOf(boxed);
    expect(iou(boxMasks[0], shapes[1].mask.data)).toBeGreaterThanOrEqual(0.9);
    expect(iou(boxMasks[1], shapes[3].mask.data)).toBeGreaterThanOrEqual(0.9);
  });
});

describe('rasters that are not 8-bit RGB', () => {
  it('stretches a 16-bit 4-band raster with --bands, and makes no object from no data', async () => {
    // Bands: NIR-ish noise, then B, G, R scaled to 16 bits; a no-data strip down the left.
    const n = W * H;
    const data = new Uint16Array(n * 4);
    const rgb = scene.image.data;
    const NODATA = 0;
    for (let i = 0; i < n; i++) {
      const x = i % W;
      if (x < 120) continue;
      data[i * 4] = 9000 + ((i * 7919) % 500);
      data[i * 4 + 1] = 1000 + rgb[i * 3 + 2] * 40;
      data[i * 4 + 2] = 1000 + rgb[i * 3 + 1] * 40;
      data[i * 4 + 3] = 1000 + rgb[i * 3] * 40;
    }
    const path = join(dir, 'four.tif');
    await writeTestGeoTiff(path, { width: W, height: H, samples: 4, sampleType: 'uint16', data } as TestRaster, { transform: T, epsg: 32633, photometric: 'minisblack', nodata: NODATA });
    const out = join(dir, 'four');
    const { log } = await everything(path, out, { bands: [3, 2, 1], formats: ['geojson', 'label-tif'] });
    expect(log.failed).toEqual([]);
    const masks = masksOf(geojson(join(out, 'four.geojson')));
    const [labels] = (await (await (await fromFile(join(out, 'four.labels.tif'))).getImage(0)).readRasters()) as unknown as Uint32Array[];
    let onNodata = 0;
    for (let i = 0; i < n; i++) if (i % W < 120 && labels[i] !== 0) onNodata++;
    expect(onNodata).toBe(0);
    for (const s of scene.shapes) {
      // Shapes reaching into the no-data strip are cut there.
      const visible = s.mask.data.map((v, i) => (i % W < 120 ? 0 : v));
      if (visible.reduce((a, v) => a + v, 0) < 0.5 * s.area) continue;
      expect(Math.max(...masks.map((m) => iou(m, visible)))).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('honours an alpha band: transparent pixels give no object', async () => {
    const n = W * H;
    const data = new Uint8Array(n * 4);
    for (let i = 0; i < n; i++) {
      data.set(scene.image.data.subarray(i * 3, i * 3 + 3), i * 4);
      data[i * 4 + 3] = Math.floor(i / W) < 100 ? 0 : 255;
    }
    const path = join(dir, 'alpha.tif');
    await writeTestGeoTiff(path, { width: W, height: H, samples: 4, sampleType: 'uint8', data }, { transform: T, epsg: 32633, extraSamples: [2] });
    const out = join(dir, 'alpha');
    await everything(path, out, { formats: ['label-tif'] });
    const [labels] = (await (await (await fromFile(join(out, 'alpha.labels.tif'))).getImage(0)).readRasters()) as unknown as Uint32Array[];
    expect(labels.subarray(0, 100 * W).every((v) => v === 0)).toBe(true);
    expect(labels.subarray(100 * W).some((v) => v !== 0)).toBe(true);
  });

  it('places the outlines of a rotated raster (ModelTransformation) where its pixels are', async () => {
    const rotated: GeoTransform = [600000, 0.4, 0.1, 5100000, 0.1, -0.4];
    const path = join(dir, 'rotated.tif');
    const keys = [1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 32633];
    const tags = geoTagsToWrite({ modelTransformation: [rotated[1], rotated[2], 0, rotated[0], rotated[4], rotated[5], 0, rotated[3], 0, 0, 0, 0, 0, 0, 0, 1], geoKeyDirectory: keys });
    await writeTestGeoTiff(path, sceneRaster(scene), { transform: rotated, epsg: 32633, tags });
    const out = join(dir, 'rotated');
    await everything(path, out, { formats: ['geojson'] });
    const masks = masksOf(geojson(join(out, 'rotated.geojson')), rotated);
    for (const region of regionsOf(scene)) expect(Math.max(...masks.map((m) => iou(m, region)))).toBeGreaterThanOrEqual(0.95);
  });
});
