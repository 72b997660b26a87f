/**
 * The family adapters feed every model exactly per its contract. Spy models echo their
 * inputs back (`echo_<input>`), so these tests see the tensors onnxruntime received; their
 * masks mark the top rows, so orientation and size of what comes back are visible too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPY_IOU, spyForegroundRows, writeSpyModels } from '../scripts/onnx/spy-models.js';
import { fixturePath } from '../scripts/fixtures/index.js';
import { ModelContractError } from '../src/util/errors.js';
import { openFamilyAdapter, type RunObserver } from '../src/families/index.js';
import type { FamilyAdapter, PromptFamilyName } from '../src/families/types.js';
import { loadImage } from '../src/image/load.js';
import { resizeRgb } from '../src/image/resize.js';
import type { LoadedImage, RgbImage } from '../src/image/types.js';
import { Segmenter } from '../src/segmenter/segmenter.js';

let dir: string;
let spies: Record<string, string>;
let landscape: LoadedImage;
let portrait: LoadedImage;
let exif: LoadedImage;

/** Captures the last run of each role. */
function recorder() {
  const last: Record<string, { feeds: Record<string, Tensor>; outputs: Record<string, Tensor> }> = {};
  const observer: RunObserver = (role, feeds, outputs) => (last[role] = { feeds: { ...feeds }, outputs: { ...outputs } });
  return { last, observer };
}

async function open(family: PromptFamilyName, encoder: string, decoder: string, observer?: RunObserver): Promise<FamilyAdapter> {
  return openFamilyAdapter({ name: `spy-${family}`, family, files: { encoder: spies[encoder], decoder: spies[decoder] } }, { observer });
}

const values = (t: Tensor) => Array.from(t.data as Float32Array | BigInt64Array, Number);

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** A deterministic image with varied pixels, to catch channel and layout mix-ups. */
function gradient(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      data[p] = (x * 7) % 256;
      data[p + 1] = (y * 5) % 256;
      data[p + 2] = (x + y) % 256;
    }
  }
  return { width, height, data };
}

/** Rows of `logits` (width w) that are foreground in every column, counted from the top. */
function topRows(logits: Float32Array, w: number, h: number): number {
  let rows = 0;
  for (let y = 0; y < h; y++) {
    const row = logits.subarray(y * w, (y + 1) * w);
    if (row.every((v) => v > 0)) rows++;
    else {
      expect(row.every((v) => v < 0)).toBe(true);
      break;
    }
  }
  return rows;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samlite-spies-'));
  spies = writeSpyModels(dir);
  [landscape, portrait, exif] = await Promise.all(
    ['landscape.png', 'portrait.png', 'exif-orientation-6.jpg'].map((f) => loadImage(fixturePath(f))),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('EfficientSAM adapter', () => {
  it('feeds the whole image as NCHW RGB in 0..1 at its own size', async () => {
    const { last, observer } = recorder();
    const adapter = await open('efficientsam', 'spy-efficientsam-encoder.onnx', 'spy-efficientsam-decoder.onnx', observer);
    const image = gradient(37, 23);
    await adapter.encode(image);
    const echo = last.encoder.outputs.echo_batched_images;
    expect(echo.type).toBe('float32');
    expect(echo.dims).toEqual([1, 3, 23, 37]);
    const plane = 23 * 37;
    const at = (x: number, y: number) => {
      const i = y * 37 + x;
      return [echo.data[i], echo.data[plane + i], echo.data[2 * plane + i]].map(Number);
    };
    for (const [x, y] of [[0, 0], [36, 0], [5, 22], [20, 11]]) {
      const p = (y * 37 + x) * 3;
      const expected = [image.data[p] / 255, image.data[p + 1] / 255, image.data[p + 2] / 255];
      at(x, y).forEach((v, c) => expect(v).toBeCloseTo(expected[c], 6));
    }
    await adapter.dispose();
  });

  it('stretches images over 1024x1024 pixels to 1024x1024 by the graph\'s own rule before the session', async () => {
    const { last, observer } = recorder();
    const adapter = await open('efficientsam', 'spy-efficientsam-encoder.onnx', 'spy-efficientsam-decoder.onnx', observer);
    // Smooth and sharp content: a photo-like gradient with hard one-pixel stripes.
    const image = gradient(1600, 900);
    for (let y = 0; y < 900; y += 7) image.data.fill(255, y * 1600 * 3, y * 1600 * 3 + 1600 * 3);
    await adapter.encode(image);
    expect(last.encoder.outputs.echo_batched_images.dims).toEqual([1, 3, 1024, 1024]);
    // The graph stretches a 1024x1024 input onto itself: what it works on is samlite's stretch.
    const viaSamlite = last.encoder.outputs.echo_stretched.data as Float32Array;
    // The same graph fed the full image stretches it itself.
    const session = await ort.InferenceSession.create(spies['spy-efficientsam-encoder.onnx']);
    const plane = 1600 * 900;
    const full = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) full[c * plane + i] = image.data[i * 3 + c] / 255;
    const direct = (await session.run({ batched_images: new ort.Tensor('float32', full, [1, 3, 900, 1600]) })).echo_stretched.data as Float32Array;
    await session.release();
    expect(maxAbsDiff(viaSamlite, direct)).toBeLessThan(1e-5);
    // Pillow's antialiased filter (the pre-stretch before the graph's rule was used) is far off.
    const pillow = await resizeRgb(image, 1024, 1024);
    const pillowPlanes = new Float32Array(3 * 1024 * 1024);
    for (let i = 0; i < 1024 * 1024; i++) for (let c = 0; c < 3; c++) pillowPlanes[c * 1024 * 1024 + i] = pillow.data[i * 3 + c] / 255;
    expect(maxAbsDiff(pillowPlanes, direct)).toBeGreaterThan(0.1);
    await adapter.dispose();
  });

  it.each([
    ['landscape', () => landscape],
    ['portrait', () => portrait],
    ['EXIF-rotated', () => exif],
  ])('gives points in the orig_im_size frame (int64), no padding, labels 1/2/3 (%s)', async (_name, img) => {
    const image = img();
    const { last, observer } = recorder();
    const adapter = await open('efficientsam', 'spy-efficientsam-encoder.onnx', 'spy-efficientsam-decoder.onnx', observer);
    const emb = await adapter.encode(image);
    expect(last.encoder.outputs.echo_batched_images.dims).toEqual([1, 3, image.height, image.width]);

    const prompt = { points: [{ x: 100, y: 50 }], box: { x1: 10, y1: 20, x2: 200, y2: 150 } };
    const full = await adapter.decode(emb, prompt);
    const feeds = last.decoder.outputs;
    expect(feeds.echo_batched_point_coords.dims).toEqual([1, 1, 3, 2]);
    expect(values(feeds.echo_batched_point_coords)).toEqual([100, 50, 10, 20, 200, 150]);
    expect(values(feeds.echo_batched_point_labels)).toEqual([1, 2, 3]);
    expect(feeds.echo_orig_im_size.type).toBe('int64');
    expect(values(feeds.echo_orig_im_size)).toEqual([image.height, image.width]);
    // Masks at the image's displayed size, top rows foreground: the right way up.
    expect(full.size).toEqual({ width: image.width, height: image.height });
    full.logits.forEach((l, i) => expect(topRows(l, image.width, image.height)).toBe(spyForegroundRows(i, 3, image.height)));
    expect(full.iou).toEqual(SPY_IOU.efficientsam.map((v) => expect.closeTo(v, 6)));
    expect(full.best).toBe(1);
    expect(full.candidates).toEqual([0, 1, 2]);

    // A small render size rescales the points into its frame.
    const small = await adapter.decode(emb, { points: [{ x: 100, y: 50 }] }, { renderSize: { width: image.width / 5, height: image.height / 5 } });
    expect(values(last.decoder.outputs.echo_batched_point_coords)).toEqual([20, 10]);
    expect(values(last.decoder.outputs.echo_orig_im_size)).toEqual([image.height / 5, image.width / 5]);
    expect(small.logits[0]).toHaveLength((image.width / 5) * (image.height / 5));
    await adapter.dispose();
  });

  it('refuses background points and more than 6 points (a box counts as 2)', async () => {
    const adapter = await open('efficientsam', 'spy-efficientsam-encoder.onnx', 'spy-efficientsam-decoder.onnx');
    const pts = (n: number) => Array.from({ length: n }, (_, i) => ({ x: i, y: i }));
    expect(() => adapter.checkPrompt({ points: pts(1), negPoints: pts(1) })).toThrow(/background points are not supported/);
    expect(() => adapter.checkPrompt({ points: pts(7) })).toThrow('7 points (a box counts as 2) but spy-efficientsam reads at most 6');
    expect(() => adapter.checkPrompt({ points: pts(5), box: { x1: 0, y1: 0, x2: 5, y2: 5 } })).toThrow(/7 points/);
    expect(() => adapter.checkPrompt({ points: pts(4), box: { x1: 0, y1: 0, x2: 5, y2: 5 } })).not.toThrow();
    expect(() => adapter.checkPrompt({ points: pts(6) })).not.toThrow();
    await adapter.dispose();
  });
});

describe('SAM adapter', () => {
  it.each([
    ['landscape', () => landscape, [768, 1024]],
    ['portrait', () => portrait, [1024, 768]],
    ['EXIF-rotated', () => exif, [768, 1024]],
  ] as const)('MobileSAM encoder gets HWC 0..255 resized to longest side 1024 (%s)', async (_n, img, [h, w]) => {
    const image = img();
    const { last, observer } = recorder();
    const adapter = await open('sam', 'spy-mobilesam-encoder.onnx', 'spy-sam-decoder-4.onnx', observer);
    await adapter.encode(image);
    const echo = last.encoder.outputs.echo_input_image;
    expect(echo.dims).toEqual([h, w, 3]);
    const resized = await resizeRgb(image, w, h);
    expect(Array.from(echo.data as Float32Array).slice(0, 30)).toEqual(Array.from(resized.data.slice(0, 30)));
    const end = resized.data.length;
    expect(Array.from(echo.data as Float32Array).slice(end - 30)).toEqual(Array.from(resized.data.slice(end - 30)));
    await adapter.dispose();
  });

  it('ViT-B encoder gets NCHW normalised, zero-padded bottom/right to 1024 after normalising', async () => {
    const { last, observer } = recorder();
    const adapter = await open('sam', 'spy-sam-vit-b-encoder.onnx', 'spy-sam-decoder-4.onnx', observer);
    await adapter.encode(landscape);
    const echo = last.encoder.outputs.echo_x;
    expect(echo.dims).toEqual([1, 3, 1024, 1024]);
    const resized = await resizeRgb(landscape, 1024, 768);
    const mean = [123.675, 116.28, 103.53];
    const std = [58.395, 57.12, 57.375];
    const plane = 1024 * 1024;
    for (const [x, y] of [[0, 0], [1023, 0], [500, 767]]) {
      for (let c = 0; c < 3; c++) {
        const v = (resized.data[(y * 1024 + x) * 3 + c] - mean[c]) / std[c];
        expect(echo.data[c * plane + y * 1024 + x]).toBeCloseTo(v, 5);
      }
    }
    // Rows 768..1023 are padding: exactly 0 in every channel.
    for (let c = 0; c < 3; c++) {
      const pad = (echo.data as Float32Array).subarray(c * plane + 768 * 1024, (c + 1) * plane);
      expect(pad.every((v) => v === 0)).toBe(true);
    }
    await adapter.dispose();
  });

  it('gives points in the resized 1024 frame, the padding point without a box, float32 orig_im_size', async () => {
    const { last, observer } = recorder();
    const adapter = await open('sam', 'spy-mobilesam-encoder.onnx', 'spy-sam-decoder-4.onnx', observer);
    // 333x250 resizes to 1024x769 (floor(250 * 1024/333 + 0.5)): the two axes scale differently.
    const image = gradient(333, 250);
    const emb = await adapter.encode(image);
    const sx = 1024 / 333;
    const sy = 769 / 250;

    const click = await adapter.decode(emb, { points: [{ x: 100, y: 50 }] });
    let f = last.decoder.outputs;
    expect(f.echo_point_coords.dims).toEqual([1, 2, 2]);
    values(f.echo_point_coords).forEach((v, i) => expect(v).toBeCloseTo([100 * sx, 50 * sy, 0, 0][i], 3));
    expect(values(f.echo_point_labels)).toEqual([1, -1]);
    expect(f.echo_orig_im_size.type).toBe('float32');
    expect(values(f.echo_orig_im_size)).toEqual([250, 333]);
    expect(f.echo_mask_input.dims).toEqual([1, 1, 256, 256]);
    expect(values(f.echo_mask_input).every((v) => v === 0)).toBe(true);
    expect(values(f.echo_has_mask_input)).toEqual([0]);
    // One click: the best of the candidates 1..3 by predicted IoU.
    expect(click.best).toBe(2);
    expect(click.candidates).toEqual([1, 2, 3]);
    click.logits.forEach((l, i) => expect(topRows(l, 333, 250)).toBe(spyForegroundRows(i, 4, 250)));

    const withNeg = await adapter.decode(emb, { points: [{ x: 10, y: 20 }], negPoints: [{ x: 30, y: 40 }] });
    f = last.decoder.outputs;
    expect(values(f.echo_point_labels)).toEqual([1, 0, -1]);
    expect(withNeg.best).toBe(0);

    const withBox = await adapter.decode(emb, { box: { x1: 10, y1: 20, x2: 110, y2: 120 } });
    f = last.decoder.outputs;
    expect(values(f.echo_point_labels)).toEqual([2, 3]);
    values(f.echo_point_coords).forEach((v, i) => expect(v).toBeCloseTo([10 * sx, 20 * sy, 110 * sx, 120 * sy][i], 3));
    expect(withBox.best).toBe(0);

    // A small render size changes only orig_im_size: points stay in the 1024 frame.
    const small = await adapter.decode(emb, { points: [{ x: 100, y: 50 }] }, { renderSize: { width: 111, height: 83 } });
    f = last.decoder.outputs;
    expect(values(f.echo_orig_im_size)).toEqual([83, 111]);
    values(f.echo_point_coords).forEach((v, i) => expect(v).toBeCloseTo([100 * sx, 50 * sy, 0, 0][i], 3));
    expect(small.size).toEqual({ width: 111, height: 83 });
    await adapter.dispose();
  });

  it.each([
    ['declares 1 mask', 'spy-sam-decoder-1.onnx'],
    ['leaves the count symbolic (learned from a probe run at load)', 'spy-sam-decoder-1-symbolic.onnx'],
  ])('a single-mask export that %s gets a box with the padding point, so it answers with mask 0', async (_n, decoder) => {
    const { last, observer } = recorder();
    const runs: string[] = [];
    const adapter = await open('sam', 'spy-mobilesam-encoder.onnx', decoder, (role, feeds, outputs) => {
      runs.push(role);
      observer(role, feeds, outputs);
    });
    const probes = runs.length;
    expect(probes).toBe(decoder.includes('symbolic') ? 1 : 0);
    const emb = await adapter.encode(gradient(40, 30));
    const box = { x1: 2, y1: 3, x2: 20, y2: 25 };
    await adapter.decode(emb, { box });
    expect(values(last.decoder.outputs.echo_point_labels)).toEqual([2, 3, -1]);
    expect(values(last.decoder.outputs.echo_point_coords).slice(4)).toEqual([0, 0]);
    // With points as well there are 3 or more points already: nothing is added.
    await adapter.decode(emb, { points: [{ x: 5, y: 5 }], box });
    expect(values(last.decoder.outputs.echo_point_labels)).toEqual([1, 2, 3]);
    await adapter.decode(emb, { points: [{ x: 5, y: 5 }] });
    expect(values(last.decoder.outputs.echo_point_labels)).toEqual([1, -1]);
    expect(runs.filter((r) => r === 'decoder')).toHaveLength(probes + 3);
    await adapter.dispose();
  });

  it('a single-mask export returns its only mask', async () => {
    const adapter = await open('sam', 'spy-mobilesam-encoder.onnx', 'spy-sam-decoder-1.onnx');
    const emb = await adapter.encode(gradient(40, 30));
    const out = await adapter.decode(emb, { points: [{ x: 1, y: 1 }] });
    expect([out.best, out.candidates, out.logits.length]).toEqual([0, [0], 1]);
    await adapter.dispose();
  });

  it('masks come back at the displayed size of an EXIF-rotated image, right way up', async () => {
    const seg = await Segmenter.open({ name: 'spy', family: 'sam', files: { encoder: spies['spy-mobilesam-encoder.onnx'], decoder: spies['spy-sam-decoder-4.onnx'] } });
    const { best } = await seg.segment(exif, { points: [{ x: 300, y: 10 }] });
    expect([best.mask.width, best.mask.height]).toEqual([320, 240]);
    const rows = spyForegroundRows(2, 4, 240);
    expect(best.mask.data.subarray(0, rows * 320).every((v) => v === 1)).toBe(true);
    expect(best.mask.data.subarray(rows * 320).every((v) => v === 0)).toBe(true);
    await seg.close();
  });
});

describe('load-time contract checks', () => {
  it.each([
    ['efficientsam', 'spy-efficientsam-encoder.onnx', 'broken-efficientsam-decoder-float-size.onnx', 'orig_im_size is float32, the contract needs int64'],
    ['sam', 'spy-mobilesam-encoder.onnx', 'broken-sam-decoder-no-has-mask-input.onnx', 'missing input has_mask_input'],
    ['sam', 'spy-mobilesam-encoder.onnx', 'broken-sam-decoder-2-masks.onnx', 'returns 2 masks per run, the contract allows 1 or 4'],
    ['efficientsam', 'spy-efficientsam-encoder.onnx', 'spy-sam-decoder-4.onnx', 'missing input batched_point_coords'],
    ['sam', 'spy-mobilesam-encoder.onnx', 'spy-efficientsam-decoder.onnx', 'missing input point_coords'],
    // Files of the wrong kind: an encoder given as the decoder, a classifier.
    ['efficientsam', 'spy-efficientsam-encoder.onnx', 'spy-efficientsam-encoder.onnx', 'missing input image_embeddings (its inputs: batched_images)'],
    ['sam', 'spy-mobilesam-encoder.onnx', 'spy-mobilesam-encoder.onnx', 'missing input image_embeddings (its inputs: input_image)'],
    ['sam', 'spy-mobilesam-encoder.onnx', 'broken-classifier.onnx', 'missing input image_embeddings (its inputs: input)'],
    ['efficientsam', 'spy-efficientsam-encoder.onnx', 'broken-classifier.onnx', 'missing input image_embeddings (its inputs: input)'],
  ] as const)('%s decoder %s fails at load: %s', async (family, encoder, decoder, what) => {
    const err = await open(family, encoder, decoder).catch((e) => e);
    expect(err).toBeInstanceOf(ModelContractError);
    expect(err.message).toContain(spies[decoder]);
    expect(err.message).toContain(what);
    expect(err.message).not.toContain('\n');
    expect(err.exitCode).toBe(2);
  });

  it.each([
    ['efficientsam', 'broken-efficientsam-encoder-32.onnx', 'spy-efficientsam-decoder.onnx', 'the encoder returned image_embeddings of shape [1, 256, 32, 32], the contract needs [1, 256, 64, 64]'],
    ['sam', 'broken-mobilesam-encoder-32.onnx', 'spy-sam-decoder-4.onnx', 'image_embeddings has shape [1, 256, 32, 32]'],
    ['sam', 'broken-sam-vit-b-encoder-32.onnx', 'spy-sam-decoder-4.onnx', 'image_embeddings has shape [1, 256, 32, 32]'],
    ['sam', 'spy-efficientsam-encoder.onnx', 'spy-sam-decoder-4.onnx', 'input is batched_images, expected input_image [?, ?, 3] or x [1, 3, 1024, 1024]'],
    ['efficientsam', 'broken-classifier.onnx', 'spy-efficientsam-decoder.onnx', 'input is input, expected batched_images [1, 3, ?, ?]'],
    ['sam', 'spy-sam-decoder-4.onnx', 'spy-sam-decoder-4.onnx', 'it has 6 inputs (image_embeddings, point_coords, point_labels, mask_input, has_mask_input, orig_im_size), expected 1'],
  ] as const)('%s encoder %s fails when it loads: %s', async (family, encoder, decoder, what) => {
    const adapter = await open(family, encoder, decoder);
    const err = await adapter.encode(gradient(20, 10)).catch((e) => e);
    expect(err).toBeInstanceOf(ModelContractError);
    expect(err.message).toContain(spies[encoder]);
    expect(err.message).toContain(what);
    await adapter.dispose();
  });

  it('a file that is not ONNX is a clear error naming it', async () => {
    const junk = join(dir, 'junk.onnx');
    writeFileSync(junk, 'not a model');
    const err = await openFamilyAdapter({ name: 'junk', family: 'sam', files: { encoder: junk, decoder: junk } }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelContractError);
    expect(err.message).toMatch(new RegExp(`^${junk}: cannot load the decoder as an ONNX model \\(`));
  });
});
