import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/util/errors.js';
import type { RgbImage } from '../src/image/types.js';
import type { MaskRecord } from '../src/masks/record.js';
import { maskToRle } from '../src/masks/rle.js';
import type { BinaryMask } from '../src/masks/types.js';
import { distinctColour } from '../src/writers/draw.js';
import { writeEverythingOutputs } from '../src/writers/everything.js';
import { renderLabelMap, writeLabelMap } from '../src/writers/labels.js';
import { MASKS_INDEX_COLUMNS, writeMaskFolder } from '../src/writers/mask-folder.js';
import { everythingOutputPaths } from '../src/writers/naming.js';
import { renderEverythingOverlay } from '../src/writers/overlay.js';
import { writePolygons } from '../src/writers/polygons.js';
import { refDecodeCocoPolygons, refDecodeCocoRle } from './helpers/coco-rle-reference.js';
import { iou, rasteriseEvenOdd, signedArea } from './helpers/polygon-raster.js';

const W = 80;
const H = 60;

function img(w = W, h = H): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.set([(i * 7) % 256, (i * 13) % 256, 200], i * 3);
  return { width: w, height: h, data };
}

function shape(w: number, h: number, inside: (x: number, y: number) => boolean): BinaryMask {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = inside(x, y) ? 1 : 0;
  return { width: w, height: h, data };
}

function record(mask: BinaryMask, i: number): MaskRecord {
  return {
    rle: maskToRle(mask),
    area: 0, // writers recompute area and bbox from the RLE
    bbox: [0, 0, 0, 0],
    predictedIou: 0.9 + i / 100,
    stabilityScore: 0.95 + i / 1000,
    pointCoords: [[i + 0.5, i + 1.5]],
    cropBox: [0, 0, W, H],
  };
}

/** Masks chosen to exercise overlaps, ties, holes and the image border. */
const masks: BinaryMask[] = [
  shape(W, H, (x, y) => x < 60 && y < 40), // 1: big rectangle
  shape(W, H, (x, y) => (x - 20) ** 2 + (y - 20) ** 2 <= 64), // 2: disc on top of 1
  shape(W, H, (x, y) => {
    const d = Math.hypot(x - 66, y - 46);
    return d <= 12 && d > 5; // 3: annulus (hole), crosses the image border
  }),
  shape(W, H, (x, y) => x >= 40 && x < 50 && y >= 30 && y < 40), // 4: 10x10 square...
  shape(W, H, (x, y) => x >= 45 && x < 55 && y >= 35 && y < 45), // 5: ...and an equal one overlapping it
  shape(W, H, (x, y) => x === 2 && y === 55), // 6: a single pixel
  shape(W, H, (x) => x >= 74 && x < 77), // 7: full-height stripe: column-major runs wrap across columns
];
const records = masks.map(record);

/** What the label map must hold at pixel i: smallest covering mask wins, ties to the lower id. */
const areas = new WeakMap<BinaryMask, number>();
const areaOf = (m: BinaryMask) => areas.get(m) ?? areas.set(m, m.data.reduce((a, b) => a + b, 0)).get(m)!;

function expectedLabel(ms: BinaryMask[], i: number): number {
  let best = 0;
  let bestArea = Infinity;
  ms.forEach((m, k) => {
    if (!m.data[i]) return;
    const area = areaOf(m);
    if (area < bestArea) {
      best = k + 1;
      bestArea = area;
    }
  });
  return best;
}

function cocoBboxOf(m: BinaryMask): number[] {
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let y = 0; y < m.height; y++)
    for (let x = 0; x < m.width; x++)
      if (m.data[y * m.width + x]) {
        x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
      }
  return [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
}

async function listAll(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

describe('everything writers, all formats at once', () => {
  let dir: string;
  let files: string[];
  const image = img();
  const target = () => ({ input: '/shots/sub/scene.jpg', root: '/shots', outDir: dir });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'samlite-every-'));
    files = await writeEverythingOutputs(image, records, target(), ['polygons', 'overlay', 'masks', 'labels', 'json']);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes every file under the sub-path, in a fixed order, and nothing else', async () => {
    const p = everythingOutputPaths(target());
    expect(p.json).toBe(join(dir, 'sub', 'scene.json'));
    expect(files).toEqual([
      p.json,
      p.labels,
      ...masks.map((_, i) => join(p.masksDir, `${i + 1}.png`)),
      p.masksIndex,
      p.overlay,
      p.geojson,
      p.cocoPolygons,
    ]);
    const all = (await listAll(dir)).filter((f) => !(f === 'sub' || f === join('sub', 'scene.masks')));
    expect(all).toEqual(files.map((f) => f.slice(dir.length + 1)).sort());
  });

  it('json: SA-1B layout; each RLE decodes to its mask with the independent decoder; COCO bbox', async () => {
    const doc = JSON.parse(await readFile(everythingOutputPaths(target()).json, 'utf8'));
    expect(Object.keys(doc)).toEqual(['image', 'annotations']);
    expect(doc.image).toEqual({ image_id: 'scene', width: W, height: H, file_name: 'sub/scene.jpg' });
    expect(doc.annotations).toHaveLength(masks.length);
    doc.annotations.forEach((a: any, i: number) => {
      expect(Object.keys(a)).toEqual([
        'id', 'segmentation', 'bbox', 'area', 'predicted_iou', 'stability_score', 'point_coords', 'crop_box',
      ]);
      expect(a.id).toBe(i + 1);
      expect(refDecodeCocoRle(a.segmentation).data).toEqual(masks[i].data);
      expect(a.segmentation.size).toEqual([H, W]);
      expect(a.bbox).toEqual(cocoBboxOf(masks[i]));
      expect(a.area).toBe(masks[i].data.reduce((s: number, v: number) => s + v, 0));
      expect(a.predicted_iou).toBe(records[i].predictedIou);
      expect(a.stability_score).toBe(records[i].stabilityScore);
      expect(a.point_coords).toEqual([[i + 0.5, i + 1.5]]);
      expect(a.crop_box).toEqual([0, 0, W, H]);
    });
  });

  it('labels: 8-bit one channel; smaller masks win overlaps, ties go to the lower id; ids match the json', async () => {
    const path = everythingOutputPaths(target()).labels;
    const meta = await sharp(path).metadata();
    expect([meta.width, meta.height, meta.channels, meta.depth]).toEqual([W, H, 1, 'uchar']);
    const data = await sharp(path).extractChannel(0).raw().toBuffer();
    const doc = JSON.parse(await readFile(everythingOutputPaths(target()).json, 'utf8'));
    const decoded = new Map<number, Uint8Array>(doc.annotations.map((a: any) => [a.id, refDecodeCocoRle(a.segmentation).data]));
    let checkedTie = false;
    for (let i = 0; i < W * H; i++) {
      expect(data[i]).toBe(expectedLabel(masks, i));
      if (data[i] !== 0) expect(decoded.get(data[i])![i]).toBe(1);
      if (masks[3].data[i] && masks[4].data[i]) {
        expect(data[i]).toBe(4);
        checkedTie = true;
      }
    }
    expect(checkedTie).toBe(true);
    expect(data[20 * W + 20]).toBe(2); // the disc on top of the big rectangle
    expect(data[46 * W + 66]).toBe(0); // the annulus' hole
  });

  it('masks: one 0/255 PNG per mask named by id, and a SAM-style metadata.csv', async () => {
    const p = everythingOutputPaths(target());
    for (let i = 0; i < masks.length; i++) {
      const png = join(p.masksDir, `${i + 1}.png`);
      expect((await sharp(png).metadata()).channels).toBe(1);
      const data = await sharp(png).extractChannel(0).raw().toBuffer();
      expect(Uint8Array.from(data, (v) => (v === 255 ? 1 : v === 0 ? 0 : 9))).toEqual(masks[i].data);
    }
    const lines = (await readFile(p.masksIndex, 'utf8')).trimEnd().split('\n');
    expect(lines[0]).toBe(MASKS_INDEX_COLUMNS.join(','));
    expect(lines[0]).toBe(
      'id,area,bbox_x0,bbox_y0,bbox_w,bbox_h,point_input_x,point_input_y,predicted_iou,stability_score,crop_box_x0,crop_box_y0,crop_box_w,crop_box_h',
    );
    expect(lines).toHaveLength(masks.length + 1);
    const row2 = lines[2].split(',').map(Number);
    expect(row2).toEqual([2, masks[1].data.reduce((a, b) => a + b, 0), ...cocoBboxOf(masks[1]), 1.5, 2.5, 0.91, 0.951, 0, 0, W, H]);
  });

  it('overlay: each mask blended in its own colour, outlined, smaller masks on top', async () => {
    const path = everythingOutputPaths(target()).overlay;
    const meta = await sharp(path).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([W, H, 3]);
    const data = await sharp(path).raw().toBuffer();
    const px = (x: number, y: number) => [...data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)];
    const src = (x: number, y: number) => [...image.data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)];
    const blend = (under: number[], id: number) => under.map((v, c) => Math.round(v * 0.5 + distinctColour(id)[c] * 0.5));
    expect(px(70, 5)).toEqual(src(70, 5)); // no mask
    expect(px(5, 30)).toEqual(blend(src(5, 30), 1)); // big rectangle interior only
    expect(px(20, 20)).toEqual(blend(blend(src(20, 20), 1), 2)); // disc drawn over the rectangle
    expect(px(20, 12)).toEqual([...distinctColour(2)]); // top of the disc: its outline
    expect(px(0, 0)).toEqual([...distinctColour(1)]); // rectangle's outline at the image corner
    expect(px(66, 46)).toEqual(src(66, 46)); // the annulus' hole shows the image
    expect(new Set(masks.map((_, i) => distinctColour(i + 1).join())).size).toBe(masks.length);
  });

  it('polygons: valid GeoJSON in pixel coordinates that rasterises back to each mask, holes included', async () => {
    const gj = JSON.parse(await readFile(everythingOutputPaths(target()).geojson, 'utf8'));
    expect(gj.type).toBe('FeatureCollection');
    expect(gj.image).toEqual({ image_id: 'scene', width: W, height: H, file_name: 'sub/scene.jpg' });
    expect(gj.features).toHaveLength(masks.length);
    gj.features.forEach((f: any, i: number) => {
      expect(f.type).toBe('Feature');
      expect(f.id).toBe(i + 1);
      expect(f.properties.id).toBe(i + 1);
      expect(f.properties.bbox).toEqual(cocoBboxOf(masks[i]));
      expect(f.geometry.type).toBe('MultiPolygon');
      const rings: number[][][] = [];
      for (const polygon of f.geometry.coordinates) {
        expect(Array.isArray(polygon) && polygon.length >= 1).toBe(true);
        polygon.forEach((ring: number[][], r: number) => {
          expect(ring.length).toBeGreaterThanOrEqual(4);
          expect(ring[0]).toEqual(ring[ring.length - 1]);
          for (const pos of ring) {
            expect(pos).toHaveLength(2);
            expect(pos[0]).toBeGreaterThanOrEqual(0);
            expect(pos[0]).toBeLessThanOrEqual(W);
            expect(pos[1]).toBeGreaterThanOrEqual(0);
            expect(pos[1]).toBeLessThanOrEqual(H);
          }
          // RFC 7946 on the raw numbers: exterior counter-clockwise, holes clockwise.
          if (r === 0) expect(signedArea(ring)).toBeGreaterThan(0);
          else expect(signedArea(ring)).toBeLessThan(0);
          rings.push(ring);
        });
      }
      const back = rasteriseEvenOdd(rings, W, H);
      if (i === 5) expect(back).toEqual(masks[i].data); // a lone pixel keeps its unsimplified diamond
      else expect(iou(back, masks[i].data)).toBeGreaterThan(0.9);
    });
    // the annulus has its hole as a second ring
    expect(gj.features[2].geometry.coordinates[0]).toHaveLength(2);
  });

  it('polygons: COCO polygon segmentation decodes (pycocotools frPoly algorithm) back to each mask', async () => {
    const doc = JSON.parse(await readFile(everythingOutputPaths(target()).cocoPolygons, 'utf8'));
    expect(Object.keys(doc)).toEqual(['image', 'annotations']);
    doc.annotations.forEach((a: any, i: number) => {
      expect(a.id).toBe(i + 1);
      for (const poly of a.segmentation) expect(poly.length).toBeGreaterThanOrEqual(6);
      const back = refDecodeCocoPolygons(a.segmentation, H, W);
      expect(iou(back.data, masks[i].data)).toBeGreaterThan(0.9);
    });
    const hole = refDecodeCocoPolygons(doc.annotations[2].segmentation, H, W);
    expect(hole.data[46 * W + 66]).toBe(0);
  });
});

describe('polygons at tolerance 0', () => {
  it('both encodings reproduce the masks exactly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samlite-poly-'));
    try {
      const info = { image_id: 1, width: W, height: H, file_name: 'x.png' };
      await writePolygons(join(dir, 'x.geojson'), join(dir, 'x.coco.json'), info, records, { tolerance: 0 });
      const gj = JSON.parse(await readFile(join(dir, 'x.geojson'), 'utf8'));
      const coco = JSON.parse(await readFile(join(dir, 'x.coco.json'), 'utf8'));
      masks.forEach((m, i) => {
        expect(rasteriseEvenOdd(gj.features[i].geometry.coordinates.flat(), W, H)).toEqual(m.data);
        expect(refDecodeCocoPolygons(coco.annotations[i].segmentation, H, W).data).toEqual(m.data);
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('label map depth', () => {
  it('switches to 16-bit above 255 masks and keeps every id', async () => {
    const w = 20;
    const h = 16; // 320 pixels, one mask per pixel
    const many: MaskRecord[] = Array.from({ length: 300 }, (_, i) => record(shape(w, h, (x, y) => y * w + x === i), i));
    expect(renderLabelMap(w, h, many.slice(0, 255)).bits).toBe(8);
    const dir = await mkdtemp(join(tmpdir(), 'samlite-labels-'));
    try {
      const path = join(dir, 'l.png');
      await writeLabelMap(path, w, h, many);
      const meta = await sharp(path).metadata();
      expect([meta.channels, meta.depth]).toEqual([1, 'ushort']);
      const buf = await sharp(path).toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer();
      const values = new Uint16Array(buf.buffer, buf.byteOffset, buf.length / 2);
      expect(values.length).toBe(w * h);
      for (let i = 0; i < w * h; i++) expect(values[i]).toBe(i < 300 ? i + 1 : 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses more masks than 16 bits can label and masks of another size', () => {
    const one = record(shape(2, 2, () => true), 0);
    expect(() => renderLabelMap(2, 2, Array(65536).fill(one))).toThrow(/65535/);
    expect(() => renderLabelMap(3, 2, [one])).toThrow(/2x2/);
  });
});

describe('masks folder ownership', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'samlite-masks-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a finished folder is not replaced without overwrite; with it, stale masks go', async () => {
    const folder = join(dir, 'a.masks');
    await writeMaskFolder(folder, W, H, records);
    await writeFile(join(folder, 'notes.txt'), 'mine');
    const err = await writeMaskFolder(folder, W, H, records.slice(0, 2)).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain('metadata.csv');
    const files = await writeMaskFolder(folder, W, H, records.slice(0, 2), { overwrite: true });
    expect(files.map((f) => f.slice(folder.length + 1))).toEqual(['1.png', '2.png', 'metadata.csv']);
    expect(await listAll(folder)).toEqual(['1.png', '2.png', 'metadata.csv', 'notes.txt']);
    expect((await readFile(join(folder, 'metadata.csv'), 'utf8')).trimEnd().split('\n')).toHaveLength(3);
  });

  it('a folder without its index is an interrupted run and is completed without overwrite', async () => {
    const folder = join(dir, 'b.masks');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, '1.png'), 'half a run');
    await writeMaskFolder(folder, W, H, records.slice(0, 1));
    expect((await sharp(join(folder, '1.png')).metadata()).width).toBe(W);
    expect((await stat(join(folder, 'metadata.csv'))).isFile()).toBe(true);
  });
});

describe('overlay memory path', () => {
  it('renders from RLE without a full decode and leaves the input image untouched', () => {
    const image = img();
    const before = Uint8Array.from(image.data);
    const out = renderEverythingOverlay(image, records);
    expect(image.data).toEqual(before);
    expect(out.data).not.toEqual(before);
  });
});
