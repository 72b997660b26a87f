/**
 * The geo building blocks on their own: the tiled TIFF writer read back by geotiff.js, the
 * georeferencing, the tiling plan, run masks, and the seam merge on synthetic masks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromFile } from 'geotiff';
import { geoTransformFromTags, mapToPixel, pixelToMap } from '../src/geo/georef.js';
import { openGeoRaster } from '../src/geo/raster.js';
import { SeamMerger, type MergedObject, type TileMask } from '../src/geo/seam-merge.js';
import { spanPolygons } from '../src/geo/outline.js';
import { cropToPolygons, type Polygon } from '../src/masks/polygons.js';
import {
  areaInWindow,
  clipToWindows,
  intersectionArea,
  spanArea,
  spanBounds,
  SpanBuilder,
  spansFromBitmap,
  spansToCrop,
  subtractSpans,
  unionSpans,
  type SpanMask,
} from '../src/geo/spans.js';
import { allTiles, intersectWindows, overlappingTiles, planTiles, tileOwning } from '../src/geo/tiling.js';
import { TiledTiffWriter } from '../src/geo/tiff-writer.js';
import { LabelRasterWriter } from '../src/geo/label-raster.js';
import { geoTagsFor } from '../src/geo/georef.js';
import { readFileSync, readdirSync } from 'node:fs';
import { writeTestGeoTiff } from './helpers/geo-raster.js';
import { encodeLzw } from './helpers/lzw-encode.js';
import { decodeLzw } from '../src/geo/lzw.js';

const dir = mkdtempSync(join(tmpdir(), 'samlite-geo-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tiled TIFF writer', () => {
  it('writes tiles geotiff.js reads back exactly, for RGB 8-bit and one 16-bit band, classic and BigTIFF', async () => {
    for (const bigTiff of [false, true]) {
      const w = 300;
      const h = 170;
      const rgb = new Uint8Array(w * h * 3);
      for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7 + (i >> 5)) & 255;
      const path = join(dir, `rgb-${bigTiff}.tif`);
      await writeTestGeoTiff(path, { width: w, height: h, samples: 3, sampleType: 'uint8', data: rgb }, { transform: [500000, 2, 0, 5200000, 0, -2], epsg: 32633, tileSize: 64, bigTiff });
      const tiff = await fromFile(path);
      const image = await tiff.getImage(0);
      expect([image.getWidth(), image.getHeight(), image.getSamplesPerPixel(), image.getTileWidth()]).toEqual([w, h, 3, 64]);
      const back = (await image.readRasters({ interleave: true })) as unknown as Uint8Array;
      expect(Buffer.from(back).equals(Buffer.from(rgb))).toBe(true);
      expect(image.getGeoKeys()).toMatchObject({ GTModelTypeGeoKey: 1, ProjectedCSTypeGeoKey: 32633 });

      const grey = new Uint16Array(w * h).map((_, i) => (i * 37) % 65536);
      const greyPath = join(dir, `grey-${bigTiff}.tif`);
      await writeTestGeoTiff(greyPath, { width: w, height: h, samples: 1, sampleType: 'uint16', data: grey }, { transform: [0, 1, 0, 0, 0, -1], epsg: 3857, tileSize: 32, bigTiff, nodata: 0 });
      const raster = await openGeoRaster(greyPath);
      expect(raster.sample).toEqual({ bits: 16, format: 1 });
      expect(raster.nodata).toBe(0);
      const [window] = await raster.readWindow([10, 20, 110, 70], [0]);
      for (let y = 0; y < 50; y++) for (let x = 0; x < 100; x++) expect(window[y * 100 + x]).toBe(grey[(y + 20) * w + x + 10]);
      await raster.close();
    }
  });

  it('stores tiles never written as zeros, and refuses tiles of the wrong size', async () => {
    const path = join(dir, 'sparse.tif');
    const writer = await TiledTiffWriter.create(path, { width: 40, height: 40, samples: 1, sampleType: 'uint8', tileSize: 32 });
    await expect(writer.writeTile(0, 0, new Uint8Array(10))).rejects.toThrow(/holds 10 bytes, expected 1024/);
    await writer.writeTile(1, 1, new Uint8Array(32 * 32).fill(9));
    await writer.close();
    const image = await (await fromFile(path)).getImage(0);
    const [data] = (await image.readRasters()) as unknown as Uint8Array[];
    expect(data[0]).toBe(0);
    expect(data[39 * 40 + 39]).toBe(9);
  });
});

describe('label raster writer', () => {
  it('paints the same raster whether the runs stay in memory or go through the spill file, smaller objects on top', async () => {
    const w = 700;
    const h = 600;
    const tags = geoTagsFor([0, 1, 0, 0, 0, -1], 3857);
    const objects: [number, SpanMask][] = [];
    for (let seed = 1; seed <= 12; seed++) objects.push([seed, spansFromBitmap(blob(w, h, seed * 13), w, h)!]);
    const paths: string[] = [];
    const spillFiles = () => readdirSync(dir).filter((f) => f.endsWith('.partial.runs'));
    const limitsOf = { memory: undefined, spilled: { band: 16, total: 64 }, bounded: { band: 4096, total: 8192 } } as const;
    for (const [name, limits] of Object.entries(limitsOf)) {
      const path = join(dir, `labels-${name}.tif`);
      const writer = new LabelRasterWriter(path, w, h, tags, limits);
      let most = 0;
      for (const [id, mask] of objects) {
        await writer.add(id, spanArea(mask), mask);
        most = Math.max(most, writer.usage.buffered);
      }
      if (name === 'memory') {
        // The default limits hold these few objects in memory: no file.
        expect(writer.usage.spilled).toBe(0);
        expect(spillFiles()).toEqual([]);
      } else {
        // Under the limits the runs go to the spill file, and memory stays within the total.
        expect(writer.usage.spilled).toBeGreaterThan(0);
        expect(spillFiles()).toHaveLength(1);
        expect(most).toBeLessThanOrEqual(limits!.total);
      }
      await writer.close();
      paths.push(path);
      // No spill file (nor temporary GeoTIFF) is left behind.
      expect(readdirSync(dir).filter((f) => f.includes('.partial'))).toEqual([]);
    }
    expect(readFileSync(paths[0]).equals(readFileSync(paths[1]))).toBe(true);
    expect(readFileSync(paths[0]).equals(readFileSync(paths[2]))).toBe(true);
    const [labels] = (await (await (await fromFile(paths[1])).getImage(0)).readRasters()) as unknown as Uint32Array[];
    const areas = new Map(objects.map(([id, m]) => [id, spanArea(m)]));
    const crops = objects.map(([id, m]) => [id, spansToCrop(m)] as const);
    let wrong = 0;
    for (let y = 0; y < h; y += 3) {
      for (let x = 0; x < w; x += 3) {
        const covering = crops.filter(([, c]) => x >= c.x && y >= c.y && x < c.x + c.width && y < c.y + c.height && c.data[(y - c.y) * c.width + x - c.x]).map(([id]) => id);
        const expected = covering.sort((a, b) => areas.get(a)! - areas.get(b)! || a - b)[0] ?? 0;
        if (labels[y * w + x] !== expected) wrong++;
      }
    }
    expect(wrong).toBe(0);
  });

  it('abort removes the spill file and writes no GeoTIFF', async () => {
    const w = 300;
    const h = 600;
    const path = join(dir, 'labels-aborted.tif');
    const writer = new LabelRasterWriter(path, w, h, geoTagsFor([0, 1, 0, 0, 0, -1], 3857), { band: 16, total: 64 });
    for (let seed = 1; seed <= 4; seed++) await writer.add(seed, 1, spansFromBitmap(blob(w, h, seed * 7), w, h)!);
    expect(writer.usage.spilled).toBeGreaterThan(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial.runs'))).toHaveLength(1);
    await writer.abort();
    expect(readdirSync(dir).filter((f) => f.includes('.partial') || f === 'labels-aborted.tif')).toEqual([]);
  });
});

describe('LZW', () => {
  it('decodes what a TIFF LZW encoder wrote: runs, noise, long inputs that fill and clear the table', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const inputs = [
      new Uint8Array(0),
      Uint8Array.from([5]),
      new Uint8Array(70_000).fill(200),
      Uint8Array.from({ length: 50_000 }, () => Math.floor(rand() * 256)),
      Uint8Array.from({ length: 200_000 }, (_, i) => ((i >> 4) % 7) * 30 + (rand() < 0.05 ? 1 : 0)),
    ];
    for (const data of inputs) expect(Buffer.from(decodeLzw(encodeLzw(data))).equals(Buffer.from(data))).toBe(true);
  });
});

describe('georeferencing', () => {
  it('reads scale and tiepoint, a full transformation, and shifts PixelIsPoint by half a pixel as GDAL does', () => {
    expect(geoTransformFromTags({ modelPixelScale: [2, 3, 0], modelTiepoint: [10, 20, 0, 1000, 2000, 0] }, false)).toEqual([980, 2, 0, 2060, 0, -3]);
    expect(geoTransformFromTags({ modelPixelScale: [2, 3, 0], modelTiepoint: [0, 0, 0, 1000, 2000, 0] }, true)).toEqual([999, 2, 0, 2001.5, 0, -3]);
    const rotated = geoTransformFromTags({ modelTransformation: [1, 0.5, 0, 100, 0.25, -1, 0, 200, 0, 0, 0, 0, 0, 0, 0, 1] }, false);
    expect(rotated).toEqual([100, 1, 0.5, 200, 0.25, -1]);
    expect(geoTransformFromTags({ modelTiepoint: [0, 0, 0, 1, 2, 0, 5, 5, 0, 3, 4, 0] }, false)).toEqual({ reason: expect.stringMatching(/ground control points/) });
    const t = rotated as [number, number, number, number, number, number];
    const [X, Y] = pixelToMap(t, 12.5, 7.25);
    const [x, y] = mapToPixel(t, X, Y);
    expect(x).toBeCloseTo(12.5, 9);
    expect(y).toBeCloseTo(7.25, 9);
  });
});

describe('tiling', () => {
  it('spreads full-size windows evenly with at least the overlap, and its cores partition the raster', () => {
    for (const [w, h, tile, overlap] of [
      [5000, 3000, 1024, 128],
      [1921, 1000, 1024, 128],
      [1000, 700, 1024, 128],
      [2100, 2100, 512, 256],
    ]) {
      const plan = planTiles(w, h, tile, overlap);
      const tiles = allTiles(plan);
      for (const t of tiles) {
        const [x0, y0, x1, y1] = t.window;
        expect(x1 - x0).toBe(Math.min(tile, w));
        expect(y1 - y0).toBe(Math.min(tile, h));
        const [cx0, cy0, cx1, cy1] = t.core;
        // The core lies inside the window.
        expect(cx0 >= x0 && cy0 >= y0 && cx1 <= x1 && cy1 <= y1).toBe(true);
        for (const o of overlappingTiles(plan, t)) expect(intersectWindows(t.window, o.window)).toBeDefined();
      }
      // Every pixel (on a sample grid, and along every core boundary) in exactly one core.
      const xs = [...Array.from({ length: Math.ceil(w / 37) }, (_, i) => i * 37), ...plan.coreXs.slice(1, -1).flatMap((x) => [x - 1, x]), w - 1];
      const ys = [...Array.from({ length: Math.ceil(h / 37) }, (_, i) => i * 37), ...plan.coreYs.slice(1, -1).flatMap((y) => [y - 1, y]), h - 1];
      const wrong: string[] = [];
      for (const y of ys) {
        for (const x of xs) {
          const owners = tiles.filter((t) => x >= t.core[0] && x < t.core[2] && y >= t.core[1] && y < t.core[3]);
          if (owners.length !== 1 || tileOwning(plan, x, y).index !== owners[0].index) wrong.push(`${x},${y}`);
        }
      }
      expect(wrong).toEqual([]);
      for (let c = 0; c + 1 < plan.cols; c++) expect(plan.xs[c] + tile - plan.xs[c + 1]).toBeGreaterThanOrEqual(overlap);
    }
  });
});

/** A random blob bitmap. */
function blob(w: number, h: number, seed: number): Uint8Array {
  const data = new Uint8Array(w * h);
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let k = 0; k < 6; k++) {
    const cx = rand() * w;
    const cy = rand() * h;
    const r = 3 + rand() * (w / 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if ((x - cx) ** 2 + (y - cy) ** 2 < r * r) data[y * w + x] = k % 3 === 2 ? 0 : 1;
  }
  return data;
}

describe('run masks', () => {
  it('agree with bitmaps on area, bounds, windows, intersections, unions and differences', () => {
    const w = 70;
    const h = 50;
    for (let seed = 1; seed < 30; seed++) {
      const a = blob(w, h, seed);
      const b = blob(w, h, seed * 31 + 7);
      const ma = spansFromBitmap(a, w, h, 5, 9);
      const mb = spansFromBitmap(b, w, h, 5, 9);
      if (!ma || !mb) continue;
      const crops = new Map<SpanMask, ReturnType<typeof spansToCrop>>();
      const at = (m: SpanMask | undefined, x: number, y: number) => {
        if (!m) return 0;
        const crop = crops.get(m) ?? crops.set(m, spansToCrop(m)).get(m)!;
        const cx = x - crop.x;
        const cy = y - crop.y;
        return cx >= 0 && cy >= 0 && cx < crop.width && cy < crop.height ? crop.data[cy * crop.width + cx] : 0;
      };
      const win = [20, 15, 61, 44] as const;
      const clipped = clipToWindows(ma, [[10, 10, 30, 40], [25, 30, 70, 59]]);
      const union = unionSpans([ma, mb]);
      const diff = subtractSpans(ma, mb);
      const wrong: string[] = [];
      let area = 0;
      let inWin = 0;
      let inter = 0;
      let interWin = 0;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const pa = a[y * w + x];
          const pb = b[y * w + x];
          const X = x + 5;
          const Y = y + 9;
          const inside = X >= win[0] && X < win[2] && Y >= win[1] && Y < win[3];
          area += pa;
          if (inside) inWin += pa;
          inter += pa & pb;
          if (inside) interWin += pa & pb;
          const inClip = (X >= 10 && X < 30 && Y >= 10 && Y < 40) || (X >= 25 && X < 70 && Y >= 30 && Y < 59);
          if (at(clipped, X, Y) !== (pa && inClip ? 1 : 0)) wrong.push(`clip ${X},${Y}`);
          if (at(union, X, Y) !== (pa | pb)) wrong.push(`union ${X},${Y}`);
          if (at(diff, X, Y) !== (pa & (1 - pb))) wrong.push(`difference ${X},${Y}`);
        }
      }
      expect(wrong).toEqual([]);
      expect(spanArea(ma)).toBe(area);
      expect(areaInWindow(ma, win)).toBe(inWin);
      expect(intersectionArea(ma, mb)).toBe(inter);
      expect(intersectionArea(ma, mb, win)).toBe(interWin);
      const [bx0, by0, bx1, by1] = spanBounds(ma);
      const crop = spansToCrop(ma);
      expect([bx0, by0, bx1 - bx0, by1 - by0]).toEqual([crop.x, crop.y, crop.width, crop.height]);
    }
  });
});

/**
 * Polygons in a canonical form: collinear vertices dropped (Douglas–Peucker keeps two
 * vertices per ring wherever they fall), each ring started at its smallest vertex, sorted.
 */
function canonical(polygons: readonly Polygon[]): string {
  const ring = (r: readonly (readonly number[])[]) => {
    const pts = r.slice(0, -1);
    const n = pts.length;
    const open = pts
      .filter((b, i) => {
        const a = pts[(i + n - 1) % n];
        const c = pts[(i + 1) % n];
        return (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) !== 0;
      })
      .map((p) => `${p[0]},${p[1]}`);
    let best = 0;
    for (let i = 1; i < open.length; i++) if (open[i] < open[best]) best = i;
    return [...open.slice(best), ...open.slice(0, best)].join(' ');
  };
  return polygons
    .map((p) => [ring(p[0]), ...p.slice(1).map(ring).sort()].join(' | '))
    .sort()
    .join('\n');
}

describe('outlines from runs', () => {
  it('are the marching-squares outlines d3-contour gives for the same mask, holes and diagonal touches included', () => {
    const cases: [Uint8Array, number, number][] = [
      [Uint8Array.from([1, 0, 0, 1]), 2, 2],
      [Uint8Array.from([0, 1, 1, 0]), 2, 2],
      [Uint8Array.from([1, 1, 1, 1, 0, 1, 1, 1, 1]), 3, 3],
      [Uint8Array.from([1]), 1, 1],
    ];
    for (let seed = 1; seed < 40; seed++) cases.push([blob(45, 33, seed), 45, 33]);
    for (const [bits, w, h] of cases) {
      const spans = spansFromBitmap(bits, w, h, 11, 4);
      if (!spans) continue;
      for (const tolerance of [0, 0.3]) {
        const mine = spanPolygons(spans, tolerance);
        const d3 = cropToPolygons({ ...spansToCrop(spans) }, { tolerance });
        if (tolerance === 0) expect(canonical(mine)).toBe(canonical(d3));
        // With simplification the rings may start elsewhere, but fill the same pixels.
        expect(mine.length).toBe(d3.length);
      }
    }
  });

  it('outline an object as wide as a large raster from its runs, without a bitmap of its box', () => {
    // A 200 000 x 60 000 frame with two holes: as a bitmap 12 GB, as runs a few kB.
    const rows: number[][] = [];
    for (let y = 0; y < 60_000; y++) rows.push(y >= 1000 && y < 1100 ? [0, 5000, 5100, 150_000, 150_300, 200_000] : [0, 200_000]);
    const b = new SpanBuilder();
    rows.forEach((r, y) => b.addRow(y, r));
    const polygons = spanPolygons(b.finish()!, 0.3);
    expect(polygons).toHaveLength(1);
    expect(polygons[0]).toHaveLength(3);
    expect(polygons[0][0]).toHaveLength(9); // eight corners cut by marching squares, closed
  });
});

/** The masks tile `t` would see of the objects in a label map (each object clipped to the window). */
function tileMasks(labels: Uint8Array, w: number, window: readonly [number, number, number, number], objects: number): TileMask[] {
  const [x0, y0, x1, y1] = window;
  const out: TileMask[] = [];
  for (let id = 1; id <= objects; id++) {
    const bits = new Uint8Array((x1 - x0) * (y1 - y0));
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) bits[(y - y0) * (x1 - x0) + x - x0] = labels[y * w + x] === id ? 1 : 0;
    const mask = spansFromBitmap(bits, x1 - x0, y1 - y0, x0, y0);
    if (mask) out.push({ mask, score: 0.9 + id / 1000, stability: 0.95 });
  }
  return out;
}

describe('seam merge', () => {
  it('gives back every object whole, once, when each tile sees exactly the pixels in its window', async () => {
    const w = 600;
    const h = 420;
    const plan = planTiles(w, h, 200, 40);
    const labels = new Uint8Array(w * h);
    // Objects across vertical and horizontal seams, a corner, a U crossing a seam twice,
    // one inside one overlap band, one spanning three tiles, and one inside a single tile.
    const paint = (id: number, f: (x: number, y: number) => boolean) => {
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (f(x, y)) labels[y * w + x] = id;
    };
    const seamX = plan.coreXs[1];
    const seamY = plan.coreYs[1];
    paint(1, (x, y) => (x - seamX) ** 2 + (y - 60) ** 2 < 45 ** 2);
    paint(2, (x, y) => (x - 300) ** 2 / 50 ** 2 + (y - seamY) ** 2 / 30 ** 2 < 1);
    paint(3, (x, y) => (x - plan.coreXs[2]) ** 2 + (y - plan.coreYs[1]) ** 2 < 35 ** 2);
    paint(4, (x, y) => y >= 320 && y < 400 && x >= 20 && x < 120 && !(y < 370 && x >= 45 && x < 95));
    paint(5, (x, y) => x >= 20 && x < 580 && y >= 250 && y < 270);
    paint(6, (x, y) => (x - 90) ** 2 + (y - 90) ** 2 < 20 ** 2);
    const objects = 6;
    const got: MergedObject[] = [];
    const merger = new SeamMerger(plan, (o) => void got.push(o));
    for (const t of allTiles(plan)) await merger.add(t, tileMasks(labels, w, t.window, objects));
    await merger.finish();
    expect(got).toHaveLength(objects);
    for (let id = 1; id <= objects; id++) {
      let area = 0;
      for (let i = 0; i < labels.length; i++) if (labels[i] === id) area++;
      const match = got.find((o) => {
        const crop = spansToCrop(o.mask);
        let inter = 0;
        for (let y = 0; y < crop.height; y++) for (let x = 0; x < crop.width; x++) if (crop.data[y * crop.width + x] && labels[(y + crop.y) * w + x + crop.x] === id) inter++;
        return inter === area && o.area === area;
      });
      expect(match, `object ${id}`).toBeDefined();
    }
  });

  it("drops a sliver one tile cuts at its edge inside an object the other tile has whole, but keeps a piece cut short", async () => {
    const w = 400;
    const h = 200;
    const plan = planTiles(w, h, 240, 80);
    const [left, right] = allTiles(plan);
    // One disc inside the overlap [160, 240), against the left tile's edge: both tiles see it whole.
    const labels = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if ((x + 0.5 - 222) ** 2 + (y + 0.5 - 100) ** 2 < 17 ** 2) labels[y * w + x] = 1;
    const leftMasks = tileMasks(labels, w, left.window, 1);
    const rightMasks = tileMasks(labels, w, right.window, 1);
    // The left tile also answers a sliver of the disc against its right edge.
    const sliver = new Uint8Array(7 * 8).fill(1);
    leftMasks.push({ mask: spansFromBitmap(sliver, 7, 8, 232, 96)!, score: 0.9, stability: 0.9 });
    expect(intersectionArea(leftMasks[1].mask, leftMasks[0].mask)).toBe(56);
    // And a piece of an object cut by its edge, mostly outside the overlap, that the right tile missed.
    const piece = new Uint8Array(120 * 10).fill(1);
    leftMasks.push({ mask: spansFromBitmap(piece, 120, 10, 120, 10)!, score: 0.9, stability: 0.9 });
    const got: MergedObject[] = [];
    const merger = new SeamMerger(plan, (o) => void got.push(o));
    await merger.add(left, leftMasks);
    await merger.add(right, rightMasks);
    await merger.finish();
    expect(got.map((o) => o.area).sort((a, b) => a - b)).toEqual([spanArea(leftMasks[0].mask), 1200]);
  });

  it('finishes objects row by row: an object in the first row is out before the last row of tiles comes', async () => {
    const w = 600;
    const h = 600;
    const plan = planTiles(w, h, 200, 40);
    const labels = new Uint8Array(w * h);
    for (let y = 50; y < 90; y++) for (let x = 150; x < 260; x++) labels[y * w + x] = 1;
    const emittedAt: number[] = [];
    let current = 0;
    const merger = new SeamMerger(plan, () => void emittedAt.push(current));
    for (const t of allTiles(plan)) {
      current = t.index;
      await merger.add(t, tileMasks(labels, w, t.window, 1));
    }
    expect(emittedAt).toHaveLength(1);
    expect(Math.floor(emittedAt[0] / plan.cols)).toBeLessThan(plan.rows - 1);
  });
});
