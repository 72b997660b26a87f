/**
 * The dataset writers in-process: COCO, YOLO-seg, labelme and Label Studio from the same
 * masks (holes, several parts, an empty mask), decoded back with the independent readers in
 * test/helpers, and the parts that let a run be resumed or sharded and still give one file.
 */
import { lstat, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  datasetPartPath,
  datasetSource,
  labelmeDocument,
  labelStudioImageUrl,
  labelStudioTask,
  linkDatasetImage,
  listPartFiles,
  parsePart,
  readPartsDataset,
  serializePart,
  writeCocoDataset,
  writeDatasetFiles,
  writeDatasetImage,
  yoloDataYaml,
  yoloSegLabels,
  maskToLabelStudioRle,
  type Category,
  type DatasetImage,
  type LabelStudioPolygonResult,
} from '../src/datasets/index.js';
import { maskToRle } from '../src/masks/rle.js';
import type { BinaryMask } from '../src/masks/types.js';
import { refDecodeCocoPolygons, refDecodeCocoRle } from './helpers/coco-rle-reference.js';
import { refDecodeLabelStudioRle } from './helpers/labelstudio-rle-reference.js';
import { rasteriseBoundaryInclusive, rasteriseEvenOdd } from './helpers/polygon-raster.js';
import { normalised } from '../src/datasets/yolo-seg.js';

const W = 40;
const H = 30;

function shape(inside: (x: number, y: number) => boolean): BinaryMask {
  const data = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = inside(x, y) ? 1 : 0;
  return { width: W, height: H, data };
}

/** A ring with a hole, two separate parts, a plain rectangle touching the border, an empty mask. */
const MASKS: BinaryMask[] = [
  shape((x, y) => x >= 4 && x < 16 && y >= 4 && y < 16 && !(x >= 8 && x < 12 && y >= 8 && y < 12)),
  shape((x, y) => (x >= 20 && x < 24 && y >= 2 && y < 6) || (x >= 30 && x < 38 && y >= 20 && y < 27)),
  shape((x, y) => x >= 30 && y < 10),
  shape(() => false),
];
const CATEGORIES: Category[] = [
  { id: 3, name: 'cat' },
  { id: 1, name: 'dog "the good"' },
];

let work: string;

function image(fileName: string, masks = MASKS, sourceId?: number): DatasetImage {
  return {
    fileName,
    path: join(work, 'photos', fileName),
    width: W,
    height: H,
    ...(sourceId !== undefined ? { sourceId } : {}),
    annotations: masks.map((m, i) => ({
      rle: maskToRle(m),
      categoryId: i % 2 === 0 ? 3 : 1,
      predictedIou: 0.9 + i / 100,
      ...(i === 0 ? { detectionId: 'det-7', detectionScore: 0.55 } : {}),
    })),
  };
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'samlite-datasets-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe('COCO', () => {
  it('decodes every annotation to its mask (RLE), with the mask area and box, unique ids, and the categories', async () => {
    const path = join(work, 'coco-rle.json');
    const n = await writeCocoDataset(path, datasetSource([image('b.png'), image('a/c.png')], CATEGORIES, 'builtin'));
    const doc = JSON.parse(await readFile(path, 'utf8'));
    expect(n).toBe(6); // the empty mask is left out of both images
    expect(doc.categories).toEqual([
      { id: 1, name: 'dog "the good"', supercategory: '' },
      { id: 3, name: 'cat', supercategory: '' },
    ]);
    // Dataset order is by file name, whatever order the images came in.
    expect(doc.images).toEqual([
      { id: 1, file_name: 'a/c.png', width: W, height: H },
      { id: 2, file_name: 'b.png', width: W, height: H },
    ]);
    expect(new Set(doc.annotations.map((a: { id: number }) => a.id)).size).toBe(6);
    for (const [k, a] of doc.annotations.entries()) {
      const m = MASKS[k % 3];
      expect(same(refDecodeCocoRle(a.segmentation).data, m.data)).toBe(true);
      expect(a.area).toBe(m.data.reduce((s, v) => s + v, 0));
      expect(a.iscrowd).toBe(0);
      expect(a.category_id).toBe(k % 3 === 1 ? 1 : 3);
      expect(a.image_id).toBe(k < 3 ? 1 : 2);
    }
    expect(doc.annotations[0]).toMatchObject({ bbox: [4, 4, 12, 12], detection_id: 'det-7', detection_score: 0.55, predicted_iou: 0.9 });
    expect(doc.annotations[1].bbox).toEqual([20, 2, 18, 25]);
  });

  it('polygon segmentation at tolerance 0 gives the masks back through pycocotools\' rasteriser, holes and parts included', async () => {
    const path = join(work, 'coco-poly.json');
    await writeCocoDataset(path, datasetSource([image('x.png')], CATEGORIES), { cocoSegmentation: 'polygon', polygonTolerance: 0 });
    const doc = JSON.parse(await readFile(path, 'utf8'));
    expect(doc.annotations[1].segmentation).toHaveLength(2); // two parts, two lists
    for (const [k, a] of doc.annotations.entries()) {
      expect(same(refDecodeCocoPolygons(a.segmentation, H, W).data, MASKS[k].data)).toBe(true);
    }
  });

  it("keeps a detection file's image ids when every image has one, else numbers the images", async () => {
    const path = join(work, 'coco-ids.json');
    await writeCocoDataset(path, datasetSource([image('a.png', MASKS, 42), image('b.png', MASKS, 7)], CATEGORIES));
    expect(JSON.parse(await readFile(path, 'utf8')).images.map((i: { id: number }) => i.id)).toEqual([42, 7]);
    await writeCocoDataset(path, datasetSource([image('a.png', MASKS, 42), image('b.png')], CATEGORIES), { overwrite: true });
    expect(JSON.parse(await readFile(path, 'utf8')).images.map((i: { id: number }) => i.id)).toEqual([1, 2]);
  });
});

describe('YOLO-seg', () => {
  it('one line per mask, class by category order, one outline through pixel centres that fills back to the mask as ultralytics fills it (holes; parts with their bridge)', () => {
    const lines = yoloSegLabels(image('x.png'), CATEGORIES, { polygonTolerance: 0 }).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    lines.forEach((line, k) => {
      const [cls, ...coords] = line.split(' ');
      expect(cls).toBe(k === 1 ? '0' : '1'); // id 1 is class 0, id 3 class 1
      const values = coords.map(Number);
      expect(values.every((v) => v >= 0 && v <= 1)).toBe(true);
      // ultralytics: read as float32, times the image size, int32 (truncation), cv2.fillPoly.
      const ring: [number, number][] = [];
      for (let i = 0; i < values.length; i += 2) ring.push([Math.fround(Math.fround(values[i]) * W), Math.fround(Math.fround(values[i + 1]) * H)]);
      const filled = rasteriseBoundaryInclusive([ring], W, H);
      if (k !== 1) expect(same(filled, MASKS[k].data)).toBe(true);
      else {
        // Two parts: fillPoly also paints the bridge between them, from pixel (23, 5) to
        // (30, 20) — 14 background pixels, the fewest any joining line can cross.
        expect(MASKS[k].data.every((v, i) => v <= filled[i])).toBe(true);
        expect(filled.reduce((n, v, i) => n + (v && !MASKS[k].data[i] ? 1 : 0), 0)).toBe(14);
      }
    });
  });

  it('a pixel centre x + 0.5, written with six decimals, reads back in float32 and truncates to x', () => {
    for (const size of [1, 7, 640, 4032, 65_535, 100_000]) {
      for (let x = 0; x < size; x++) {
        const back = Math.fround(Math.fround(Number(normalised(x + 0.5, size))) * size);
        if (Math.trunc(back) !== x) throw new Error(`size ${size}: centre of ${x} reads back as ${back}`);
      }
    }
    // A whole-pixel coordinate would not survive it: 1 / 3 reads back as 0.99999893.
    expect(Math.trunc(Math.fround(Math.fround(Number(normalised(1, 3))) * 3))).toBe(0);
  });

  it('data.yaml names the classes in order, quoted, with the dataset folder as path', () => {
    expect(yoloDataYaml('/data/set', CATEGORIES)).toBe(
      ['# ultralytics YOLO segmentation dataset, written by samlite', 'path: "/data/set"', 'train: images', 'val: images', 'names:', '  0: "dog \\"the good\\""', '  1: "cat"', ''].join('\n'),
    );
  });

  it('links the image into images/ with a relative link, and refuses to replace it without overwrite', async () => {
    const target = join(work, 'link', 'images', 'p.png');
    await writeFile(join(work, 'p.png'), 'pixels');
    await linkDatasetImage(target, join(work, 'p.png'));
    expect((await lstat(target)).isSymbolicLink()).toBe(true);
    expect(resolve(dirname(target), await readlink(target))).toBe(join(work, 'p.png'));
    await expect(linkDatasetImage(target, join(work, 'p.png'))).rejects.toThrow(/already exists/);
  });
});

describe('labelme', () => {
  it('a polygon per part through pixel centres, parts of a mask sharing group_id, image referenced relative to the JSON', () => {
    const doc = labelmeDocument(join(work, 'out', 'x.json'), image('x.png'), CATEGORIES, { polygonTolerance: 0 });
    expect(doc).toMatchObject({ imagePath: '../photos/x.png', imageData: null, imageWidth: W, imageHeight: H });
    expect(doc.shapes.map((s) => [s.label, s.group_id])).toEqual([
      ['cat', 1],
      ['dog "the good"', 2],
      ['dog "the good"', 2],
      ['cat', 3],
    ]);
    for (const [k, m] of MASKS.slice(0, 3).entries()) {
      const union = new Uint8Array(W * H);
      // labelme's shape_to_mask: PIL polygon(points, outline=1, fill=1) per shape.
      for (const s of doc.shapes.filter((s) => s.group_id === k + 1)) rasteriseBoundaryInclusive([s.points], W, H).forEach((v, i) => (union[i] |= v));
      expect(same(union, m.data)).toBe(true);
    }
  });
});

describe('Label Studio', () => {
  it('a task per image, polygon results in percent, ids unique across tasks, the URL encoded', () => {
    const info = { fileName: 'sub dir/a&b.png', path: '', width: W, height: H };
    const task = labelStudioTask(info, image('x').annotations, CATEGORIES, 5, { polygonTolerance: 0, model: 'builtin' });
    expect(task.data.image).toBe('/data/local-files/?d=sub%20dir/a%26b.png');
    expect(labelStudioImageUrl('x.png', '/data/local-files/?d=photos/')).toBe('/data/local-files/?d=photos/x.png');
    const r = task.predictions[0].result as LabelStudioPolygonResult[];
    expect(r.map((x) => x.id)).toEqual(['m5', 'm6', 'm6-1', 'm7']);
    expect(r[0]).toMatchObject({ type: 'polygonlabels', from_name: 'label', to_name: 'image', original_width: W, original_height: H });
    expect(r[0].value.polygonlabels).toEqual(['cat']);
    const ring = r[3].value.points.map(([x, y]) => [(x / 100) * W, (y / 100) * H] as [number, number]);
    expect(same(rasteriseEvenOdd([ring], W, H), MASKS[2].data)).toBe(true);
    expect(task.predictions[0].model_version).toBe('samlite builtin');
  });

  it('brush results: one per mask, whose rle decodes (independent reader) to RGBA rows, 255 on the mask', () => {
    const info = { fileName: 'x.png', path: '', width: W, height: H };
    const task = labelStudioTask(info, image('x').annotations, CATEGORIES, 1, { labelStudioMasks: 'brush' });
    const r = task.predictions[0].result;
    expect(r.map((x) => [x.id, x.type])).toEqual([
      ['m1', 'brushlabels'],
      ['m2', 'brushlabels'],
      ['m3', 'brushlabels'],
    ]);
    r.forEach((result, k) => {
      if (result.type !== 'brushlabels') throw new Error('expected a brush result');
      expect(result.value.brushlabels).toEqual([k === 1 ? 'dog "the good"' : 'cat']);
      const rgba = refDecodeLabelStudioRle(result.value.rle);
      expect(rgba).toHaveLength(W * H * 4);
      const want = new Uint8Array(W * H * 4);
      MASKS[k].data.forEach((v, i) => want.fill(v ? 255 : 0, i * 4, i * 4 + 4));
      expect(same(rgba, want)).toBe(true);
    });
    // Runs longer than one 16-bit chunk (a full 300x300 mask is 360000 values) are split.
    const full = { width: 300, height: 300, data: new Uint8Array(300 * 300).fill(1) };
    expect(refDecodeLabelStudioRle(maskToLabelStudioRle(maskToRle(full))).every((v) => v === 255)).toBe(true);
  });
});

describe('parts', () => {
  it('round-trip an image exactly, and a damaged part is named', () => {
    const original = image('sub/x.png', MASKS, 9);
    const part = parsePart(serializePart({ formats: ['coco'], options: { polygonTolerance: 0 }, categories: CATEGORIES, image: original, model: 'm' }), 'p');
    expect(part.image.fileName).toBe('sub/x.png');
    expect(part.image.sourceId).toBe(9);
    part.image.annotations.forEach((a, i) => expect(Array.from(a.rle.counts)).toEqual(Array.from(original.annotations[i].rle.counts)));
    expect(part.image.annotations[0]).toMatchObject({ detectionId: 'det-7', detectionScore: 0.55, categoryId: 3 });
    expect(() => parsePart('{"samlite_part": 1}', 'out/samlite-parts/x.part.json')).toThrow(/^out\/samlite-parts\/x\.part\.json: not a samlite part \(formats: /);
  });

  it('the same images give byte-identical dataset files from parts in any order as from memory; a duplicate is refused', async () => {
    const out = join(work, 'parts-run');
    const settings = { formats: ['coco', 'labelstudio', 'yolo-seg', 'labelme'] as const, categories: CATEGORIES, polygonTolerance: 0, model: 'builtin' };
    const names = ['z.png', 'a.png', 'm/q.png'];
    for (const name of names) {
      const files = await writeDatasetImage(image(name), { input: join(work, 'photos', name), root: join(work, 'photos'), outDir: out }, { ...settings, formats: [...settings.formats] });
      expect(files[files.length - 1]).toBe(datasetPartPath({ input: join(work, 'photos', name), root: join(work, 'photos'), outDir: out }));
    }
    const parts = await listPartFiles(out);
    expect(parts).toHaveLength(3);
    const fromParts = await readPartsDataset([...parts].reverse());
    expect(fromParts.problems).toEqual([]);
    expect(fromParts.formats).toEqual(['coco', 'labelstudio', 'yolo-seg', 'labelme']);
    await writeDatasetFiles(join(out, 'from-parts'), fromParts.source, { formats: ['coco', 'labelstudio'], polygonTolerance: 0 });
    await writeDatasetFiles(join(out, 'in-memory'), datasetSource(names.map((n) => image(n)), CATEGORIES, 'builtin'), { formats: ['coco', 'labelstudio'], polygonTolerance: 0 });
    for (const f of ['coco.json', 'labelstudio.json']) {
      expect(await readFile(join(out, 'from-parts', f), 'utf8')).toBe(await readFile(join(out, 'in-memory', f), 'utf8'));
    }
    await expect(readPartsDataset([parts[0], parts[0]])).rejects.toThrow(/are both parts for the image/);

    await writeFile(join(out, 'broken.part.json'), 'not json');
    const withBroken = await readPartsDataset([...parts, join(out, 'broken.part.json')]);
    expect(withBroken.problems).toEqual([expect.stringMatching(/broken\.part\.json: not a samlite part \(invalid JSON/)]);
    expect(withBroken.source.images).toHaveLength(3);
    // A missing part is a problem, unless the caller knows some images were not done.
    const missing = join(out, 'gone.part.json');
    expect((await readPartsDataset([parts[0], missing])).problems).toEqual([`${missing}: no such part file`]);
    const skipped = await readPartsDataset([parts[0], missing], { skipMissing: true });
    expect([skipped.problems, skipped.source.images.length]).toEqual([[], 1]);

    // Parts from runs with other options: merge is told, and must choose.
    const other = join(out, 'other.part.json');
    await writeFile(other, serializePart({ formats: ['coco'], options: { polygonTolerance: 2 }, categories: CATEGORIES, image: image('new.png') }));
    const mixed = await readPartsDataset([parts[0], other]);
    expect(mixed.conflicts).toEqual([{ option: 'polygonTolerance', parts: [parts[0], other] }]);
    expect(mixed.options.polygonTolerance).toBeUndefined();
  });
});
