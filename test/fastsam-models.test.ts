/**
 * The FastSAM family end to end through real ONNX files: the committed built-in model
 * (ultralytics contract, 1024), the same segmenter built under Qualcomm's contract and as
 * a dynamic ultralytics export (through manifests), and files that break the contract.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskEmbeddingCache } from '../src/cache/disk-embedding-cache.js';
import type { RunObserver } from '../src/families/session.js';
import { ModelContractError, UsageError } from '../src/util/errors.js';
import { FASTSAM_ANALYSIS } from '../src/fastsam/analysis.js';
import type { FastSamEverythingResult } from '../src/fastsam/everything.js';
import { loadImage } from '../src/image/load.js';
import type { RgbImage } from '../src/image/types.js';
import { maskIou } from '../src/masks/iou.js';
import { rleToMask } from '../src/masks/rle.js';
import type { BinaryMask } from '../src/masks/types.js';
import { Segmenter } from '../src/segmenter/segmenter.js';
import { resolveModel } from '../src/store/resolve.js';
import { BUILTIN_FASTSAM_FILE, buildFastSam } from '../scripts/onnx/builtin-fastsam.js';
import { GraphBuilder } from '../scripts/onnx/builder.js';
import { FASTSAM_GRAPHS, declareInputs, declareOutputs, type GraphSignature } from '../scripts/onnx/real-graphs.js';
import { fixturePath, readFixtureIndex, readFixtureMask, type FixtureScene } from '../scripts/fixtures/index.js';

const dir = mkdtempSync(join(tmpdir(), 'samlite-fastsam-'));
const store = { env: { SAMLITE_HOME: join(dir, 'home') } };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let scenes: readonly FixtureScene[];
const images = new Map<string, RgbImage>();
const truths = new Map<string, BinaryMask[]>();
beforeAll(async () => {
  scenes = (await readFixtureIndex()).scenes;
  for (const scene of scenes) {
    images.set(scene.name, await loadImage(fixturePath(scene.image)));
    truths.set(scene.name, await Promise.all([scene.background, ...scene.shapes].map((r) => readFixtureMask(r.mask))));
  }
});
const scene = (name: string) => scenes.find((s) => s.name === name)!;

/** Write a manifest for `model` in the temp folder and resolve it. */
function manifestModel(name: string, file: string, extra: object = {}) {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ name, family: 'fastsam', files: { model: { path: file } }, ...extra }));
  return resolveModel(path, store);
}

/** Every region of the scene matched (IoU >= 0.9) by exactly one record. */
function expectEveryRegionOnce(name: string, masks: BinaryMask[]): void {
  for (const [r, truth] of truths.get(name)!.entries()) {
    const ious = masks.map((m) => maskIou(m, truth));
    expect(ious.filter((v) => v >= 0.9), `${name} region ${r}: IoUs ${ious.map((v) => v.toFixed(2))}`).toHaveLength(1);
  }
}

describe('builtin-fastsam', () => {
  let seg: Segmenter;
  let runs = 0;
  beforeAll(async () => {
    seg = await Segmenter.open(await resolveModel('builtin-fastsam', store), { observer: () => void runs++ });
  });
  afterAll(() => seg?.close());

  it('is committed as freshly built, under the ultralytics signature at 1024', async () => {
    const committed = readFileSync(join(import.meta.dirname, '..', 'models', 'builtin', BUILTIN_FASTSAM_FILE));
    expect(Buffer.compare(committed, buildFastSam())).toBe(0);
    const session = await ort.InferenceSession.create(committed);
    const io = (names: readonly string[], meta: readonly ort.InferenceSession.ValueMetadata[]) =>
      names.map((name, i) => {
        const m = meta[i] as unknown as { type: string; shape: readonly (number | string)[] };
        return { name, type: m.type, dims: [...m.shape] };
      });
    expect({ inputs: io(session.inputNames, session.inputMetadata), outputs: io(session.outputNames, session.outputMetadata) }).toEqual(
      FASTSAM_GRAPHS['fastsam-ultralytics-1024'],
    );
    await session.release();
  });

  it('finds every shape of every fixture scene exactly once, in SA-1B records', async () => {
    for (const s of scenes) {
      const { records, stats } = (await seg.everything(images.get(s.name)!)) as FastSamEverythingResult;
      expect(stats).toMatchObject({ family: 'fastsam', inputSize: { width: 1024, height: 1024 }, settings: { conf: 0.4, iou: 0.9, maxDet: 300 } });
      expectEveryRegionOnce(s.name, records.map((r) => rleToMask(r.rle)));
      for (const r of records) {
        expect(r.pointCoords).toEqual([]);
        expect(r.cropBox).toEqual([0, 0, s.width, s.height]);
        expect(r.predictedIou).toBeGreaterThan(0.4);
        expect(r.stabilityScore).toBe(1); // flat colours: every logit is +2 or -2
      }
    }
  });

  it('applies the shared finishing steps: area filter and order', async () => {
    const image = images.get('landscape')!;
    const all = (await seg.everything(image)).records;
    const big = (await seg.everything(image, { minArea: 2000, order: 'area' })).records;
    expect(big.map((r) => r.area)).toEqual(all.map((r) => r.area).filter((a) => a >= 2000).sort((a, b) => b - a));
    await expect(seg.everything(image, { pointsPerSide: 16 })).rejects.toThrow(UsageError);
  });

  it('answers prompts by selecting among the masks of one cached run', async () => {
    const image = images.get('near-colours')!;
    const [, first, second, third] = truths.get('near-colours')!;
    const { shapes } = scene('near-colours');
    runs = 0;
    // Shapes 1 and 2 differ by 16 in red: a coarse mask holds both, so a click merges them.
    const click = await seg.segment(image, { points: [shapes[0].interiorPoint] });
    const union: BinaryMask = { ...first, data: first.data.map((v, i) => v | second.data[i]) };
    expect(maskIou(click.best.mask, union)).toBeGreaterThan(0.95);
    // A background click on shape 2 drops every mask holding it, the merged one included.
    const withNeg = await seg.segment(image, { points: [shapes[0].interiorPoint], negPoints: [shapes[1].interiorPoint] });
    expect(maskIou(withNeg.best.mask, first)).toBeGreaterThan(0.95);
    const b = shapes[2].bbox;
    const box = await seg.segment(image, { box: { x1: b.x1, y1: b.y1, x2: b.x2 + 1, y2: b.y2 + 1 } }, { multimask: true });
    expect(maskIou(box.best.mask, third)).toBeGreaterThan(0.95);
    expect(box.masks[0]).toBe(box.best);
    // Background points only: every mask that does not hold one (ultralytics starts from all).
    const allBut = await seg.segment(image, { negPoints: [shapes[1].interiorPoint] });
    expect(allBut.best.mask.data[shapes[0].interiorPoint.y * image.width + shapes[0].interiorPoint.x]).toBe(1);
    expect(allBut.best.mask.data[shapes[1].interiorPoint.y * image.width + shapes[1].interiorPoint.x]).toBe(0);
    expect(maskIou(allBut.best.mask, third)).toBeLessThan(1); // more than one mask joined
    expect(runs).toBe(1);
    expect(() => seg.checkPrompt(image, {})).toThrow(/needs a point or a box/);
  });

  it('keeps its results on disk like embeddings, keyed by the detection settings', async () => {
    const cacheDir = join(dir, 'cache');
    const image = images.get('box')!;
    const point = { points: [scene('box').shapes[1].interiorPoint] };
    const open = async (fastsam = {}) =>
      Segmenter.open(await resolveModel('builtin-fastsam', store), { embeddingCache: new DiskEmbeddingCache(cacheDir), fastsam, observer: () => void runs++ });
    runs = 0;
    const a = await open();
    const first = await a.segment(image, point);
    await a.close();
    const b = await open();
    const again = await b.segment(image, point);
    await b.close();
    expect(runs).toBe(1);
    expect(again.best.mask.data).toEqual(first.best.mask.data);
    const c = await open({ conf: 0.5 });
    await c.segment(image, point);
    await c.close();
    expect(runs).toBe(2);
    // A samlite that analyses images differently does not reuse the analysis.
    const analysis = FASTSAM_ANALYSIS as { revision: number };
    analysis.revision++;
    try {
      const d = await open();
      await d.segment(image, point);
      await d.close();
      expect(runs).toBe(3);
    } finally {
      analysis.revision--;
    }
  });
});

describe('the two published contracts through manifests', () => {
  it("runs Qualcomm's four-output contract at its fixed 640", async () => {
    const file = join(dir, 'qualcomm.onnx');
    writeFileSync(file, buildFastSam('fastsam-qualcomm'));
    const model = await manifestModel('q', file);
    await expect(Segmenter.open(model, { fastsam: { imgsz: 1024 } })).rejects.toThrow(
      new UsageError('model q: qualcomm.onnx fixes its input at 640x640, so imgsz 1024 cannot apply'),
    );
    const seg = await Segmenter.open(model);
    try {
      for (const name of ['landscape', 'portrait']) {
        const { records, stats } = (await seg.everything(images.get(name)!)) as FastSamEverythingResult;
        expect(stats.inputSize).toEqual({ width: 640, height: 640 });
        expectEveryRegionOnce(name, records.map((r) => rleToMask(r.rle)));
      }
      const [, shape] = truths.get('portrait')!;
      const answer = await seg.segment(images.get('portrait')!, { points: [scene('portrait').shapes[0].interiorPoint] });
      expect(maskIou(answer.best.mask, shape)).toBeGreaterThan(0.9);
    } finally {
      await seg.close();
    }
  });

  it('reads channel-last prototypes (a layout Qualcomm documents) as the same masks', async () => {
    const open = async (graph: 'fastsam-qualcomm' | 'fastsam-qualcomm-channels-last') => {
      const file = join(dir, `${graph}.onnx`);
      writeFileSync(file, buildFastSam(graph));
      return Segmenter.open(await manifestModel(graph, file));
    };
    const [first, last] = [await open('fastsam-qualcomm'), await open('fastsam-qualcomm-channels-last')];
    try {
      for (const name of ['landscape', 'portrait']) {
        const want = ((await first.everything(images.get(name)!)) as FastSamEverythingResult).records;
        const got = ((await last.everything(images.get(name)!)) as FastSamEverythingResult).records;
        expect(got.length).toBeGreaterThan(0);
        expect(got.map((r) => [r.bbox, r.area, r.rle.counts])).toEqual(want.map((r) => [r.bbox, r.area, r.rle.counts]));
      }
    } finally {
      await first.close();
      await last.close();
    }
  });

  it.each(['fastsam-ultralytics-dynamic', 'fastsam-repo-dynamic'] as const)(
    'runs a dynamic export (%s, declared as the exporter writes it) at the manifest imgsz, on the minimum rectangle',
    async (graph) => {
      const file = join(dir, `${graph}.onnx`);
      writeFileSync(file, buildFastSam(graph, 640));
      const session = await ort.InferenceSession.create(file);
      const dims = (meta: readonly ort.InferenceSession.ValueMetadata[]) => meta.map((m) => [...(m as unknown as { shape: (number | string)[] }).shape]);
      expect(dims(session.outputMetadata)).toEqual(FASTSAM_GRAPHS[graph].outputs.map((o) => o.dims));
      await session.release();
      const seg = await Segmenter.open(await manifestModel('dyn', file, { imgsz: 608 }));
      try {
        const { records, stats } = (await seg.everything(images.get('box')!)) as FastSamEverythingResult;
        // 320x240 at 608: 608x456, padded to the next multiple of 32 rows (as ultralytics'
        // predictor feeds a file whose output batch axis is symbolic), not to 608x608.
        expect(stats.inputSize).toEqual({ width: 608, height: 480 });
        expectEveryRegionOnce('box', records.map((r) => rleToMask(r.rle)));
      } finally {
        await seg.close();
      }
    },
  );

  // The static model pads each image differently (top and bottom, then left and right), the
  // dynamic one feeds input rectangles of different sizes from the same buffer.
  it.each(['builtin-fastsam (padding)', 'dynamic export (rectangles)'])('reuses one input buffer from image to image and for images at once: the same inputs and answers (%s)', async (which) => {
    const dynamic = async () => {
      const file = join(dir, 'reuse-dynamic.onnx');
      writeFileSync(file, buildFastSam('fastsam-ultralytics-dynamic', 640));
      return manifestModel('reuse', file, { imgsz: 640 });
    };
    const model = which.startsWith('builtin') ? await resolveModel('builtin-fastsam', store) : await dynamic();
    const order = ['landscape', 'portrait', 'box', 'landscape'];
    // Each run's input tensor as it was fed (its shape and a digest of its bytes).
    const fed: string[] = [];
    const observer: RunObserver = (_role, feeds) => {
      const t = feeds.images;
      fed.push(`${t.dims.join('x')}:${createHash('sha256').update(t.data as Float32Array).digest('hex')}`);
    };
    const answers = async (seg: Segmenter, name: string) => ((await seg.everything(images.get(name)!)) as FastSamEverythingResult).records.map((r) => [r.bbox, r.area, r.rle.counts]);
    // Each image alone on a fresh segmenter: nothing left from an earlier image.
    const alone: unknown[] = [];
    for (const name of order) {
      const seg = await Segmenter.open(model, { observer });
      alone.push(await answers(seg, name));
      await seg.close();
    }
    const aloneFed = fed.splice(0);
    if (!which.startsWith('builtin')) expect(new Set(aloneFed.map((f) => f.split(':')[0])).size, 'the images need input rectangles of different sizes').toBeGreaterThan(1);
    const seg = await Segmenter.open(model, { observer });
    try {
      for (const [i, name] of order.entries()) expect(await answers(seg, name), `${name} after the images before it`).toEqual(alone[i]);
      expect(fed.splice(0), 'inputs fed one image after another').toEqual(aloneFed);
      expect(await Promise.all(order.map((name) => answers(seg, name))), 'four images at once').toEqual(alone);
      expect([...fed].sort(), 'inputs fed four at once').toEqual([...aloneFed].sort());
    } finally {
      await seg.close();
    }
  });
});

/** A graph with `signature` whose outputs are zeros (only its metadata matters). */
function zerosModel(signature: GraphSignature): string {
  const g = new GraphBuilder({ name: 'wrong' });
  const inputs = declareInputs(g, signature);
  const anchor = inputs[signature.inputs[0].name];
  const values = signature.outputs.map((o) => g.fill(o.dims.map((d) => (typeof d === 'number' ? d : 1)), 0));
  declareOutputs(g, signature, values, anchor);
  const path = join(dir, `wrong-${Math.random().toString(36).slice(2)}.onnx`);
  writeFileSync(path, g.toBytes());
  return path;
}

describe('files that are not FastSAM', () => {
  const openAs = async (file: string): Promise<Error> => {
    try {
      await (await Segmenter.open(await manifestModel('wrong', file))).close();
    } catch (err) {
      return err as Error;
    }
    throw new Error(`${file} opened as a FastSAM model`);
  };

  it('a SAM decoder: one line naming the file and its inputs', async () => {
    const file = join(import.meta.dirname, '..', 'models', 'builtin', 'builtin-sam-decoder.onnx');
    const err = await openAs(file);
    expect(err).toBeInstanceOf(ModelContractError);
    expect(err.message).toBe(
      `${file}: does not follow the fastsam contract: it has 6 inputs (image_embeddings, point_coords, point_labels, mask_input, has_mask_input, orig_im_size), ` +
        'expected one: images [1, 3, ?, ?] (ultralytics export) or image [1, 3, 640, 640] (Qualcomm AI Hub export)',
    );
  });

  it('an 80-class YOLOv8-seg model: the row count and what it means', async () => {
    const yolo: GraphSignature = {
      inputs: [{ name: 'images', type: 'float32', dims: [1, 3, 640, 640] }],
      outputs: [
        { name: 'output0', type: 'float32', dims: [1, 116, 8400] },
        { name: 'output1', type: 'float32', dims: [1, 32, 160, 160] },
      ],
    };
    const file = zerosModel(yolo);
    const err = await openAs(file);
    expect(err).toBeInstanceOf(ModelContractError);
    expect(err.message).toBe(
      `${file}: does not follow the fastsam contract: output output0 has shape [1, 116, 8400], the contract needs [1, 37, ?]: ` +
        'a YOLO segmentation model with 80 classes? FastSAM has 1 class (37 rows)',
    );
  });

  it('a YOLOv8 detection model: no prototypes', async () => {
    const file = zerosModel({ inputs: [{ name: 'images', type: 'float32', dims: [1, 3, 640, 640] }], outputs: [{ name: 'output0', type: 'float32', dims: [1, 84, 8400] }] });
    const err = await openAs(file);
    expect(err.message).toBe(
      `${file}: does not follow the fastsam contract: missing output output1 of the ultralytics export (its outputs: output0): a YOLO detection model without masks?`,
    );
  });
});
