/**
 * Benchmark models: deterministic builds, a cache that only rebuilds what changed, files
 * that pass samlite's load-time contract checks and run through the normal pipeline, and
 * cost figures close to the published ones. Uses the tiny test pairs for anything that
 * runs a model; no timing assertions.
 */
import type { EverythingResult } from '../src/everything/generator.js';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BENCH_PAIRS, MINI_BENCH_PAIRS, buildBenchPair, ensureBenchModels } from '../scripts/bench-models/index.js';
import { chooseModel } from '../src/store/index.js';
import { Segmenter } from '../src/segmenter.js';
import type { RgbImage } from '../src/image/types.js';

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
});
