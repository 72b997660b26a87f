/**
 * Benchmark models: deterministic builds, a cache that only rebuilds what changed, files
 * that pass samlite's load-time contract checks and run through the normal pipeline, and
 * cost figures close to the published ones. Uses the tiny test pairs for anything that
 * runs a model; no timing assertions.
 */
import type { EverythingResult } from '../src/everything/generator.js';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BENCH_PAIRS,
  FASTSAM_BENCH_MODELS,
  MINI_BENCH_PAIRS,
  MINI_FASTSAM_BENCH_MODELS,
  buildBenchPair,
  buildFastSamBench,
  ensureBenchModels,
  ensureFastSamBenchModels,
} from '../scripts/bench-models/index.js';
import type { FastSamEverythingResult } from '../src/fastsam/everything.js';
import { chooseModel } from '../src/store/index.js';
import { Segmenter } from '../src/segmenter/segmenter.js';
import type { RgbImage } from '../src/image/types.js';
import { modelFile } from '../src/segmenter/pipeline.js';
import { answersAtNetworkCost } from '../scripts/bench-models/answers-at-cost.js';
import { decodeModel } from '../scripts/onnx/proto.js';

/** A file whose input is not `images` (a SAM decoder's spy). */
function buildSpy(): string {
  const file = join(dir, 'not-fastsam.onnx');
  writeFileSync(file, buildBenchPair(MINI_BENCH_PAIRS[0]).decoder);
  return file;
}

const dir = mkdtempSync(join(tmpdir(), 'samlite-bench-models-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function gradient(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([(x * 255) / width, (y * 255) / height, 128], (y * width + x) * 3);
  }
  return { width, height, data };
}

describe('bench models', () => {
  it('build byte-identical files from the same spec, different ones from another seed', () => {
    const spec = MINI_BENCH_PAIRS[0];
    const a = buildBenchPair(spec);
    const b = buildBenchPair(spec);
    expect(Buffer.compare(a.encoder, b.encoder)).toBe(0);
    expect(Buffer.compare(a.decoder, b.decoder)).toBe(0);
    const c = buildBenchPair({ ...spec, seed: spec.seed + 1 });
    expect(Buffer.compare(a.encoder, c.encoder)).not.toBe(0);
  });

  it('are cached: a second ensure reuses the files, a changed spec rebuilds', () => {
    const [first] = ensureBenchModels({ dir, pairs: MINI_BENCH_PAIRS.slice(0, 1) });
    const mtime = statSync(first.files.encoder).mtimeMs;
    const [again] = ensureBenchModels({ dir, pairs: MINI_BENCH_PAIRS.slice(0, 1) });
    expect(statSync(again.files.encoder).mtimeMs).toBe(mtime);
    expect(again.sha256).toEqual(first.sha256);
    const [changed] = ensureBenchModels({ dir, pairs: [{ ...MINI_BENCH_PAIRS[0], seed: 70 }] });
    expect(changed.sha256.encoder).not.toBe(first.sha256.encoder);
  });

  for (const spec of MINI_BENCH_PAIRS) {
    it(`${spec.name} loads through its manifest, passes the ${spec.family} contract checks and segments`, async () => {
      const [info] = ensureBenchModels({ dir, pairs: [spec] });
      const model = chooseModel(info.manifest).model;
      expect(model.family).toBe(spec.family);
      const seg = await Segmenter.open(model, { embeddingCache: false });
      try {
        const image = gradient(96, 64);
        const { best, masks } = await seg.segment(image, { points: [{ x: 40, y: 30 }] }, { multimask: true });
        expect([best.mask.width, best.mask.height]).toEqual([96, 64]);
        expect(masks).toHaveLength(3);
        const { stats } = (await seg.everything(image, { pointsPerSide: 2 })) as EverythingResult;
        expect(stats.decoderRuns).toBe(4);
      } finally {
        await seg.close();
      }
    });
  }

  it('have the parameter counts the real models publish (within 15 %)', () => {
    for (const spec of BENCH_PAIRS.filter((p) => p.name !== 'bench-efficientsam-s')) {
      const { cost } = buildBenchPair(spec);
      const p = spec.published!.params;
      if (p.encoder) expect(Math.abs(cost.encoder.params / p.encoder - 1)).toBeLessThan(0.15);
      if (p.decoder) expect(Math.abs(cost.decoder.params / p.decoder - 1)).toBeLessThan(0.15);
      if (p.total) expect(Math.abs((cost.encoder.params + cost.decoder.params) / p.total - 1)).toBeLessThan(0.15);
    }
  });

  it('FastSAM stand-ins: deterministic, cached, FastSAM contract, a stated share of detections', async () => {
    const spec = MINI_FASTSAM_BENCH_MODELS[0];
    expect(Buffer.compare(buildFastSamBench(spec).bytes, buildFastSamBench(spec).bytes)).toBe(0);
    const [info] = ensureFastSamBenchModels({ dir, models: [spec] });
    const [again] = ensureFastSamBenchModels({ dir, models: [spec] });
    expect(statSync(again.file).mtimeMs).toBe(statSync(info.file).mtimeMs);
    const seg = await Segmenter.open(chooseModel(info.manifest).model, { embeddingCache: false });
    try {
      // A textured square image: a flat letterboxed one makes a two-valued score map.
      let seed = 5;
      const noise: RgbImage = { width: 160, height: 160, data: Uint8Array.from({ length: 160 * 160 * 3 }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 256) };
      const { stats } = (await seg.everything(noise)) as FastSamEverythingResult;
      expect(stats.inputSize).toEqual({ width: 640, height: 640 });
      // About 0.5 % of the anchors pass conf 0.4 by construction (yolo-seg.ts SCORE_BIAS); the
      // share depends on the tail of the score map, so allow 0.1 to 2.5 % of the 8400.
      expect(stats.counts.aboveConf).toBeGreaterThan(8400 * 0.001);
      expect(stats.counts.aboveConf).toBeLessThan(8400 * 0.025);
      expect(stats.counts.kept).toBeGreaterThan(0);
    } finally {
      await seg.close();
    }
  });

  it('FastSAM-s stand-in: YOLOv8s-seg parameters (11.8M, within 5 %) and GFLOPs at 640 (42.6, within 15 %)', () => {
    const spec = FASTSAM_BENCH_MODELS.find((m) => m.side === 640)!;
    const { cost } = buildFastSamBench(spec);
    expect(Math.abs(cost.params / spec.published!.params - 1)).toBeLessThan(0.05);
    expect(Math.abs((2 * cost.macs) / 1e9 / spec.published!.gflops640 - 1)).toBeLessThan(0.15);
  });

  it('answers at a network cost: the built-in model\'s outputs and masks, with every node of the network kept', async () => {
    const spec = MINI_FASTSAM_BENCH_MODELS.find((m) => m.side === 1024)!;
    const [net] = ensureFastSamBenchModels({ dir, models: [spec] });
    const builtin = chooseModel('builtin-fastsam').model;
    const builtinFile = modelFile(builtin, 'model');
    const file = join(dir, 'answers-at-cost.onnx');
    writeFileSync(file, answersAtNetworkCost(net.file, builtinFile));
    const nodes = (f: string) => ((decodeModel(readFileSync(f)).graph as { node: unknown[] }).node.length);
    expect(nodes(file)).toBe(nodes(net.file) + nodes(builtinFile) + 4);
    const image = gradient(1024, 1024);
    const feeds = { images: new ort.Tensor('float32', Float32Array.from(image.data.subarray(0, 3 * 1024 * 1024), (v) => v / 255), [1, 3, 1024, 1024]) };
    const run = async (f: string) => {
      const session = await ort.InferenceSession.create(f);
      try {
        return await session.run(feeds);
      } finally {
        await session.release();
      }
    };
    const [want, got] = [await run(builtinFile), await run(file)];
    for (const name of ['output0', 'output1']) expect(Buffer.compare(Buffer.from((got[name].data as Float32Array).buffer), Buffer.from((want[name].data as Float32Array).buffer)), name).toBe(0);
    // Through samlite, as the floor table opens it: the built-in model's masks.
    const records = async (model: Parameters<typeof Segmenter.open>[0]) => {
      const seg = await Segmenter.open(model, { embeddingCache: false });
      try {
        return ((await seg.everything(gradient(400, 300))) as FastSamEverythingResult).records.map((r) => [r.bbox, r.area, r.rle.counts]);
      } finally {
        await seg.close();
      }
    };
    const manifest = join(dir, 'answers-at-cost.json');
    writeFileSync(manifest, JSON.stringify({ name: 'answers-at-cost', family: 'fastsam', files: { model: { path: file } } }));
    const expected = await records(builtin);
    expect(expected.length).toBeGreaterThan(0);
    expect(await records(chooseModel(manifest).model)).toEqual(expected);
    expect(() => answersAtNetworkCost(buildSpy(), builtinFile)).toThrow(/one input of the same name/);
  });
});
