import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/util/errors.js';
import type { RgbImage } from '../src/image/types.js';
import type { BinaryMask } from '../src/masks/types.js';
import {
  BOX_COLOUR,
  NEGATIVE_POINT_COLOUR,
  POSITIVE_POINT_COLOUR,
  SEGMENT_MASK_COLOUR,
  writeSegmentOutputs,
  type SegmentMask,
  type SegmentRecord,
} from '../src/writers/segment.js';
import { refDecodeCocoRle } from './helpers/coco-rle-reference.js';

const W = 64;
const H = 48;

function image(): RgbImage {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) data.set([x * 4, y * 5, 100], (y * W + x) * 3);
  return { width: W, height: H, data };
}

/** A 30x24 rectangle at (10, 8) with a 4x4 hole at (25, 15). */
function mask(): BinaryMask {
  const data = new Uint8Array(W * H);
  for (let y = 8; y < 32; y++) for (let x = 10; x < 40; x++) data[y * W + x] = 1;
  for (let y = 15; y < 19; y++) for (let x = 25; x < 29; x++) data[y * W + x] = 0;
  return { width: W, height: H, data };
}

const segMask: SegmentMask = {
  promptIndex: 2,
  promptId: 'cat',
  prompt: { points: [{ x: 20, y: 20 }], negPoints: [{ x: 50, y: 40 }], box: { x1: 8, y1: 6, x2: 42, y2: 34 } },
  mask: mask(),
  predictedIou: 0.9375,
};

async function raw(path: string) {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  const meta = await sharp(path).metadata();
  return { data, info, meta };
}

describe('segment writers', () => {
  let dir: string;
  let result: Awaited<ReturnType<typeof writeSegmentOutputs>>;
  const img = image();
  const m = mask();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'samlite-seg-'));
    result = await writeSegmentOutputs(img, segMask, { input: '/pics/cat.jpg', outDir: dir }, ['mask', 'overlay', 'cutout', 'json'], {
      imageName: 'pics/cat.jpg',
    });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes the predictable names and reports them', async () => {
    const names = ['cat.2.mask.png', 'cat.2.overlay.png', 'cat.2.cutout.png', 'cat.2.json'];
    expect(result.files).toEqual(names.map((n) => join(dir, n)));
    expect(result.record.files).toEqual({
      mask: join(dir, 'cat.2.mask.png'),
      overlay: join(dir, 'cat.2.overlay.png'),
      cutout: join(dir, 'cat.2.cutout.png'),
      json: join(dir, 'cat.2.json'),
    });
    // nothing else: no temporary files left behind
    expect((await readdir(dir)).sort()).toEqual([...names].sort());
  });

  it('mask: one channel, 255 on the mask and 0 elsewhere', async () => {
    const { meta } = await raw(join(dir, 'cat.2.mask.png'));
    expect([meta.width, meta.height, meta.channels, meta.depth]).toEqual([W, H, 1, 'uchar']);
    const { data } = await sharp(join(dir, 'cat.2.mask.png')).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect([...new Set(data)].sort()).toEqual([0, 255]);
    expect(Uint8Array.from(data, (v) => (v ? 1 : 0))).toEqual(m.data);
  });

  it('cutout: RGBA, alpha is the mask, colour kept under the mask and zero elsewhere', async () => {
    const { data, meta } = await raw(join(dir, 'cat.2.cutout.png'));
    expect([meta.width, meta.height, meta.channels, meta.hasAlpha]).toEqual([W, H, 4, true]);
    for (let i = 0; i < W * H; i++) {
      const px = [...data.subarray(i * 4, i * 4 + 4)];
      const want = m.data[i] ? [img.data[i * 3], img.data[i * 3 + 1], img.data[i * 3 + 2], 255] : [0, 0, 0, 0];
      if (px.join() !== want.join()) expect({ i, px }).toEqual({ i, px: want });
    }
  });

  it('overlay: translucent mask, opaque outline, box frame and both kinds of point markers', async () => {
    const { data, meta } = await raw(join(dir, 'cat.2.overlay.png'));
    expect([meta.width, meta.height, meta.channels]).toEqual([W, H, 3]);
    const at = (x: number, y: number) => [...data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)];
    const src = (x: number, y: number) => [...img.data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3)];
    const half = (x: number, y: number) => src(x, y).map((v, c) => Math.round(v * 0.5 + SEGMENT_MASK_COLOUR[c] * 0.5));
    expect(at(33, 27)).toEqual(half(33, 27)); // inside the mask, away from edges and markers
    expect(at(3, 44)).toEqual(src(3, 44)); // outside everything
    expect(at(26, 16)).toEqual(src(26, 16)); // inside the hole
    expect(at(11, 20)).toEqual(half(11, 20)); // one pixel in from the edge: fill only
    expect(at(10, 27)).toEqual([...SEGMENT_MASK_COLOUR]); // left edge: outline
    expect(at(24, 16)).toEqual([...SEGMENT_MASK_COLOUR]); // next to the hole: outline
    expect(at(8, 20)).toEqual([...BOX_COLOUR]);
    expect(at(25, 34)).toEqual([...BOX_COLOUR]);
    expect(at(20, 20)).toEqual([...POSITIVE_POINT_COLOUR]);
    expect(at(24, 20)).toEqual([255, 255, 255]); // white rim
    expect(at(50, 40)).toEqual([...NEGATIVE_POINT_COLOUR]);
    expect(at(54, 44)).toEqual([255, 255, 255]); // square marker: its corner is rim, a disc's would not be
  });

  it('json: the record, whose COCO RLE decodes back to the mask with an independent decoder', async () => {
    const text = await readFile(join(dir, 'cat.2.json'), 'utf8');
    const rec = JSON.parse(text) as SegmentRecord;
    expect(rec).toEqual({
      image: 'pics/cat.jpg',
      width: W,
      height: H,
      prompt_index: 2,
      prompt_id: 'cat',
      prompt: { points: [[20, 20]], neg_points: [[50, 40]], box: [8, 6, 42, 34] },
      bbox: [10, 8, 30, 24],
      area: 30 * 24 - 16,
      predicted_iou: 0.9375,
      segmentation: { size: [H, W], counts: expect.any(String) },
    });
    const decoded = refDecodeCocoRle(rec.segmentation);
    expect(decoded.data).toEqual(m.data);
    const { files, ...withoutFiles } = result.record;
    expect(withoutFiles).toEqual(rec);
    expect(files.json).toBe(join(dir, 'cat.2.json'));
  });

  it('multimask candidates get their own names', async () => {
    const r = await writeSegmentOutputs(img, { ...segMask, promptIndex: 0, candidate: 1 }, { input: 'cat.jpg', outDir: dir }, ['json', 'mask']);
    expect(r.files).toEqual([join(dir, 'cat.0.m1.json'), join(dir, 'cat.0.m1.mask.png')]);
    expect(JSON.parse(await readFile(r.files[0], 'utf8')).candidate).toBe(1);
  });

  it('refuses to replace an existing output unless overwrite, and writes it whole when allowed', async () => {
    const target = { input: '/pics/cat.jpg', outDir: dir };
    const err = await writeSegmentOutputs(img, segMask, target, ['json']).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain(join(dir, 'cat.2.json'));
    const other = { ...segMask, predictedIou: 0.5 };
    await writeSegmentOutputs(img, other, target, ['json'], { overwrite: true });
    expect(JSON.parse(await readFile(join(dir, 'cat.2.json'), 'utf8')).predicted_iou).toBe(0.5);
  });

  it('rejects a mask whose size differs from the image', async () => {
    const small = { ...segMask, mask: { width: 2, height: 2, data: new Uint8Array(4) } };
    await expect(writeSegmentOutputs(img, small, { input: 'z.jpg', outDir: dir }, ['mask'])).rejects.toThrow(/2x2/);
  });
});
