/**
 * The SAM 2 family on spy models of both exports (osam's and samexporter's): what the
 * encoder and decoder receive, the predictor's mask choice made by samlite, refinement with
 * a previous answer's low-resolution logits, and the three-tensor embedding through the
 * caches. Spies echo their inputs (`echo_<input>`); see scripts/onnx/spy-models.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPY_IOU, SPY_SAM2_OFFSETS, spyForegroundRows, writeSpyModels } from '../scripts/onnx/spy-models.js';
import { DiskEmbeddingCache } from '../src/cache/disk-embedding-cache.js';
import { MemoryEmbeddingCache, TieredEmbeddingCache } from '../src/cache/embedding-cache.js';
import { InputError, ModelContractError } from '../src/util/errors.js';
import { openFamilyAdapter, type RunObserver } from '../src/families/index.js';
import { sam2Choose, sam2Stability } from '../src/families/sam2.js';
import type { FamilyAdapter, ImageEmbedding } from '../src/families/types.js';
import type { RgbImage } from '../src/image/types.js';
import type { Prompt } from '../src/prompts/types.js';
import { Segmenter } from '../src/segmenter/segmenter.js';
import type { EverythingResult } from '../src/everything/generator.js';

let dir: string;
let spies: Record<string, string>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'samlite-sam2-'));
  spies = writeSpyModels(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function recorder() {
  const last: Record<string, { feeds: Record<string, Tensor>; outputs: Record<string, Tensor> }> = {};
  const observer: RunObserver = (role, feeds, outputs) => (last[role] = { feeds: { ...feeds }, outputs: { ...outputs } });
  return { last, observer };
}

type Variant = 'osam' | 'samexporter';
const FILES: Record<Variant, { encoder: string; decoder: string }> = {
  osam: { encoder: 'spy-sam2-encoder.onnx', decoder: 'spy-sam2-decoder.onnx' },
  samexporter: { encoder: 'spy-sam2-samexporter-encoder.onnx', decoder: 'spy-sam2-samexporter-decoder.onnx' },
};
/** Each export's names of the three embedding tensors, by osam's name. */
const NAMES: Record<Variant, Record<keyof typeof SPY_SAM2_OFFSETS, string> & { input: string }> = {
  osam: { input: 'input', image_embeddings: 'image_embeddings', high_res_features1: 'high_res_features1', high_res_features2: 'high_res_features2' },
  samexporter: { input: 'image', image_embeddings: 'image_embed', high_res_features1: 'high_res_feats_0', high_res_features2: 'high_res_feats_1' },
};

function open(variant: Variant, observer?: RunObserver, decoder = FILES[variant].decoder): Promise<FamilyAdapter> {
  return openFamilyAdapter({ name: `spy-sam2-${variant}`, family: 'sam2', files: { encoder: spies[FILES[variant].encoder], decoder: spies[decoder] } }, { observer });
}

const values = (t: Tensor) => Array.from(t.data as Float32Array | BigInt64Array, Number);

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { width, height, data };
}

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

describe('SAM 2 encoder input', () => {
  it('is the image stretched to 1024x1024 and normalised as (x/255 - mean)/std per channel', async () => {
    const { last, observer } = recorder();
    const adapter = await open('osam', observer);
    await adapter.encode(solid(300, 200, [200, 100, 50]));
    const input = last.encoder.feeds.input;
    expect(input.dims).toEqual([1, 3, 1024, 1024]);
    const data = input.data as Float32Array;
    const plane = 1024 * 1024;
    [200, 100, 50].forEach((v, c) => {
      const want = (v / 255 - MEAN[c]) / STD[c];
      // A flat image stays flat whatever the filter; the value says which normalisation.
      expect(data[c * plane]).toBeCloseTo(want, 5);
      expect(data[c * plane + plane - 1]).toBeCloseTo(want, 5);
    });
    // osam's x/255 - mean/std would give a different value here.
    expect(Math.abs(data[0] - (200 / 255 - MEAN[0] / STD[0]))).toBeGreaterThan(0.5);
    await adapter.dispose();
  });

  it("shrinks with torch's antialiased bilinear filter (Pillow's triangle), not the 2-tap bilinear", async () => {
    // One bright column at x = 1025 of a 2048-wide image. Halving, output column 512 reads
    // input columns 1023..1026 with weights 1/8, 3/8, 3/8, 1/8 and column 513 reads
    // 1025..1028: 255 * 3/8 and 255 * 1/8. A 2-tap resize would give 127.5 and 0.
    const width = 2048;
    const image = solid(width, 4, [0, 0, 0]);
    for (let y = 0; y < 4; y++) image.data.set([255, 255, 255], (y * width + 1025) * 3);
    const { last, observer } = recorder();
    const adapter = await open('osam', observer);
    await adapter.encode(image);
    const data = last.encoder.feeds.input.data as Float32Array;
    const red = (x: number) => (data[x] * STD[0] + MEAN[0]) * 255;
    expect(red(512)).toBeCloseTo((255 * 3) / 8, 3);
    expect(red(513)).toBeCloseTo(255 / 8, 3);
    expect(red(511)).toBeCloseTo(0, 3);
    await adapter.dispose();
  });
});

describe.each(['osam', 'samexporter'] as const)('SAM 2 decoder (%s export)', (variant) => {
  it('gets all three embedding tensors, and prompts in the stretched 1024 frame: box first, no padding point', async () => {
    const { last, observer } = recorder();
    const adapter = await open(variant, observer);
    const image = solid(400, 200, [10, 20, 30]);
    const embedding = await adapter.encode(image);
    expect(Object.keys(embedding.extra ?? {}).sort()).toEqual(['high_res_features1', 'high_res_features2']);
    const prompt: Prompt = { points: [{ x: 100, y: 50 }], negPoints: [{ x: 300, y: 150 }], box: { x1: 40, y1: 20, x2: 360, y2: 180 } };
    await adapter.decode(embedding, prompt);
    const { feeds, outputs } = last.decoder;
    const names = NAMES[variant];
    const mean = values(last.encoder.feeds[names.input]).reduce((a, b) => a + b, 0) / (3 * 1024 * 1024);
    for (const key of ['image_embeddings', 'high_res_features1', 'high_res_features2'] as const) {
      const echoed = outputs[`echo_${names[key]}`].data as Float32Array;
      // The spy sums 3 M floats in float32: equal to about 0.01, the offsets are 1 apart.
      expect(echoed[0]).toBeCloseTo(mean + SPY_SAM2_OFFSETS[key], 1);
    }
    // x * 1024 / 400, y * 1024 / 200; box corners (2, 3), then the point (1), then the background point (0).
    expect(values(outputs.echo_point_coords)).toEqual(Array.from(Float32Array.from([102.4, 102.4, 921.6, 921.6, 256, 256, 768, 768])));
    expect(values(outputs.echo_point_labels)).toEqual([2, 3, 1, 0]);
    expect(feeds.point_coords.dims).toEqual([1, 4, 2]);
    expect(values(outputs.echo_has_mask_input)).toEqual([0]);
    if (variant === 'osam') expect(values(outputs.echo_orig_im_size)).toEqual([200, 400]);
    else expect(feeds.orig_im_size).toBeUndefined();
    await adapter.dispose();
  });

  it('returns masks at the requested size, right way up, with the low-resolution logits', async () => {
    const adapter = await open(variant);
    const image = solid(90, 60, [10, 20, 30]);
    const embedding = await adapter.encode(image);
    const decoded = await adapter.decode(embedding, { points: [{ x: 5, y: 5 }] });
    const k = variant === 'osam' ? 4 : 3;
    expect(decoded.logits).toHaveLength(k);
    expect(decoded.size).toEqual({ width: 90, height: 60 });
    for (const [i, l] of decoded.logits.entries()) {
      expect(l.length).toBe(90 * 60);
      // samexporter's 256x256 logits are resized by samlite; the spy's edge lands within a row.
      const rows = spyForegroundRows(i, k, 60);
      expect(l[(rows - 2) * 90 + 45]).toBeGreaterThan(0);
      expect(l[(rows + 1) * 90 + 45]).toBeLessThan(0);
    }
    expect(decoded.lowRes).toHaveLength(k);
    expect(decoded.lowRes!.every((m) => m.width === 256 && m.height === 256)).toBe(true);
    expect(adapter.acceptsMaskInput).toBe(true);
    await adapter.dispose();
  });

  it('refines with a previous answer: its low-resolution logits go in as mask_input', async () => {
    const { last, observer } = recorder();
    const adapter = await open(variant, observer);
    const embedding = await adapter.encode(solid(64, 64, [1, 2, 3]));
    const first = await adapter.decode(embedding, { points: [{ x: 5, y: 5 }] });
    const previous = first.lowRes![first.best];
    await adapter.decode(embedding, { points: [{ x: 5, y: 5 }, { x: 40, y: 40 }] }, { maskInput: previous });
    expect(values(last.decoder.outputs.echo_has_mask_input)).toEqual([1]);
    expect(last.decoder.feeds.mask_input.dims).toEqual([1, 1, 256, 256]);
    expect(Array.from(last.decoder.feeds.mask_input.data as Float32Array)).toEqual(Array.from(previous.data));
    await expect(adapter.decode(embedding, { points: [{ x: 5, y: 5 }] }, { maskInput: { width: 64, height: 64, data: new Float32Array(64 * 64) } })).rejects.toThrow(InputError);
    await adapter.dispose();
  });
});

describe("SAM2ImagePredictor's mask choice", () => {
  const click: Prompt = { points: [{ x: 5, y: 5 }] };
  const twoClicks: Prompt = { points: [{ x: 5, y: 5 }, { x: 9, y: 9 }] };
  const box: Prompt = { box: { x1: 1, y1: 1, x2: 20, y2: 20 } };
  const clickAndBackground: Prompt = { points: [{ x: 5, y: 5 }], negPoints: [{ x: 15, y: 15 }] };

  it('osam: a click takes the best of tokens 1..3; points, boxes and negatives take the stable token 0', async () => {
    const adapter = await open('osam');
    const embedding = await adapter.encode(solid(32, 32, [9, 9, 9]));
    expect((await adapter.decode(embedding, click)).best).toBe(2);
    for (const prompt of [twoClicks, box, clickAndBackground]) {
      const decoded = await adapter.decode(embedding, prompt);
      expect(decoded.best).toBe(0);
      expect(decoded.candidates).toEqual([1, 2, 3]);
    }
    // Not osam's argmax over all four, which would be token 2 for every prompt here.
    expect((SPY_IOU.sam2 as readonly number[]).indexOf(Math.max(...SPY_IOU.sam2))).toBe(2);
    await adapter.dispose();
  });

  it('osam: an unstable token 0 falls back to the best multi-mask token (dynamic_multimask_via_stability)', async () => {
    const adapter = await open('osam', undefined, 'spy-sam2-decoder-unstable.onnx');
    const embedding = await adapter.encode(solid(32, 32, [9, 9, 9]));
    for (const prompt of [twoClicks, box, clickAndBackground]) expect((await adapter.decode(embedding, prompt)).best).toBe(2);
    await adapter.dispose();
  });

  it('samexporter: only tokens 1..3 exist, the best of them answers every prompt', async () => {
    const adapter = await open('samexporter');
    const embedding = await adapter.encode(solid(32, 32, [9, 9, 9]));
    for (const prompt of [click, twoClicks, box, clickAndBackground]) {
      const decoded = await adapter.decode(embedding, prompt);
      expect(decoded.best).toBe(1);
      expect(decoded.candidates).toEqual([0, 1, 2]);
    }
    await adapter.dispose();
  });

  it('scores stability on the low-resolution logits with the +-0.05 band and the 0.98 threshold', () => {
    const map = (values: number[]) => ({ width: values.length, height: 1, data: Float32Array.from(values) });
    expect(sam2Stability(map([1, 1, 1, 1]))).toBe(1);
    expect(sam2Stability(map([-1, -1]))).toBe(1); // empty: the decoder's torch.where(area_u > 0, ..., 1)
    expect(sam2Stability(map([1, 0.01, -1, -1]))).toBe(0.5);
    // 49 of 50 above the band: 0.98, stable; 48 of 50 is not.
    const stable = map([...Array(49).fill(1), 0]);
    const unstable = map([...Array(48).fill(1), 0, 0]);
    const iou = [0.9, 0.1, 0.3, 0.2];
    expect(sam2Choose(twoClicks, iou, [stable, stable, stable, stable]).best).toBe(0);
    expect(sam2Choose(twoClicks, iou, [unstable, stable, stable, stable]).best).toBe(2);
  });
});

describe('SAM 2 files and embeddings', () => {
  it('a decoder of one export with the encoder of the other is refused at encode, naming the input', async () => {
    const adapter = await openFamilyAdapter({
      name: 'mixed',
      family: 'sam2',
      files: { encoder: spies['spy-sam2-samexporter-encoder.onnx'], decoder: spies['spy-sam2-decoder.onnx'] },
    });
    await expect(adapter.encode(solid(8, 8, [1, 1, 1]))).rejects.toThrow(/does not follow the sam2 contract: input is image, expected input/);
    await adapter.dispose();
  });

  it('an encoder with a wrong-sized embedding is refused', async () => {
    const adapter = await openFamilyAdapter({ name: 'broken', family: 'sam2', files: { encoder: spies['broken-sam2-encoder-32.onnx'], decoder: spies['spy-sam2-decoder.onnx'] } });
    await expect(adapter.encode(solid(8, 8, [1, 1, 1]))).rejects.toThrow(ModelContractError);
    await adapter.dispose();
  });

  it('an embedding without the high-resolution features is a clear error, not a wrong mask', async () => {
    const adapter = await open('osam');
    const { extra: _extra, ...bare } = await adapter.encode(solid(8, 8, [1, 1, 1]));
    await expect(adapter.decode(bare as ImageEmbedding, { points: [{ x: 1, y: 1 }] })).rejects.toThrow(/lacks high_res_features1/);
    expect(adapter.extraEmbeddingKeys).toEqual(['high_res_features1', 'high_res_features2']);
    await adapter.dispose();
  });

  it('the Segmenter re-encodes an embedding a cache kept without its extra tensors, and serves complete ones', async () => {
    const cacheDir = join(dir, 'cache');
    let encodes = 0;
    const observer: RunObserver = (role) => {
      if (role === 'encoder') encodes++;
    };
    const model = { name: 'spy-sam2', family: 'sam2' as const, files: { encoder: spies[FILES.osam.encoder], decoder: spies[FILES.osam.decoder] } };
    const image = solid(40, 30, [50, 60, 70]);
    const prompt = { points: [{ x: 10, y: 10 }] };
    // Memory first: the in-memory cache holds the whole embedding object.
    const memory = await Segmenter.open(model, { observer, embeddingCache: new MemoryEmbeddingCache() });
    const a = await memory.segment(image, prompt);
    await memory.segment(image, prompt);
    expect(encodes).toBe(1);
    await memory.close();
    // Whatever the disk cache keeps, the answer is the same and never comes from a partial embedding.
    const disk = () => Segmenter.open(model, { observer, embeddingCache: new TieredEmbeddingCache(new MemoryEmbeddingCache(), new DiskEmbeddingCache(cacheDir)) });
    const first = await disk();
    const b = await first.segment(image, prompt);
    await first.close();
    const second = await disk();
    const c = await second.segment(image, prompt);
    await second.close();
    expect(Array.from(b.best.mask.data)).toEqual(Array.from(a.best.mask.data));
    expect(Array.from(c.best.mask.data)).toEqual(Array.from(a.best.mask.data));
  });
});

describe("everything with SAM 2's generator options", () => {
  const image = solid(64, 48, [90, 120, 150]);

  it('defaults to SAM2AutomaticMaskGenerator: predicted IoU above 0.8, three candidates per point', async () => {
    const seg = await Segmenter.open({ name: 'spy', family: 'sam2', files: { encoder: spies[FILES.osam.encoder], decoder: spies[FILES.osam.decoder] } });
    const { stats } = (await seg.everything(image, { pointsPerSide: 2 })) as EverythingResult;
    expect(stats.options.predIouThresh).toBe(0.8);
    expect(stats.counts.candidates).toBe(4 * 3);
    // Tokens 1..3 score 0.7, 0.95 and 0.8 as float32 (0.80000001): two of three pass 0.8, one 0.88.
    expect(stats.counts.afterPredIou).toBe(8);
    // An image smaller than the decoder's grid is rendered at its own size.
    expect(stats.renderSizes).toEqual([{ width: 64, height: 48 }]);
    await seg.close();
  });

  it('multimask false takes each point\'s single-mask answer; useM2m decodes every candidate again with its own logits', async () => {
    const { last, observer } = recorder();
    const seg = await Segmenter.open({ name: 'spy', family: 'sam2', files: { encoder: spies[FILES.osam.encoder], decoder: spies[FILES.osam.decoder] } }, { observer });
    const single = (await seg.everything(image, { pointsPerSide: 2, multimask: false, predIouThresh: 0 })) as EverythingResult;
    expect(single.stats.counts.candidates).toBe(4);
    expect(single.stats.decoderRuns).toBe(4);
    const m2m = (await seg.everything(image, { pointsPerSide: 2, useM2m: true, predIouThresh: 0 })) as EverythingResult;
    expect(m2m.stats.counts.candidates).toBe(4 * 3);
    expect(m2m.stats.decoderRuns).toBe(4 + 4 * 3);
    // The last run refined a candidate: its mask went in, single-mask answer (token 0, score 0.5).
    expect(values(last.decoder.outputs.echo_has_mask_input)).toEqual([1]);
    expect(m2m.records.every((r) => r.predictedIou === SPY_IOU.sam2[0])).toBe(true);
    await seg.close();
  });

  it('useM2m on a decoder without a mask input is a usage error, before any run', async () => {
    // EfficientSAM's decoder has no mask input (SAM's and SAM 2's have one).
    const seg = await Segmenter.open({ name: 'spy-e', family: 'efficientsam', files: { encoder: spies['spy-efficientsam-encoder.onnx'], decoder: spies['spy-efficientsam-decoder.onnx'] } });
    await expect(seg.everything(image, { useM2m: true })).rejects.toThrow(/useM2m .* cannot take/);
    await seg.close();
  });
});
