/**
 * End to end: segment-everything through the real built-in models (classical segmenters
 * in ONNX, one per family contract) on generated scenes of flat-coloured shapes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FamilyAdapter, PromptFamilyName, ImageEmbedding } from '../src/families/types.js';
import { generateMasks } from '../src/everything/generator.js';
import { buildPointGrid, scaleGrid } from '../src/everything/grid.js';
import { stabilityScore } from '../src/everything/stability.js';
import { rleToMask } from '../src/masks/rle.js';
import type { BinaryMask } from '../src/masks/types.js';
import { makeScene, type SceneRegion } from '../scripts/fixtures/scene.js';
import { maskIou } from './everything-fake.js';

const MODELS: { name: string; family: PromptFamilyName; base: string }[] = [
  { name: 'builtin', family: 'sam', base: 'builtin-sam' },
  { name: 'builtin-efficientsam', family: 'efficientsam', base: 'builtin-efficientsam' },
  { name: 'builtin-sam2', family: 'sam2', base: 'builtin-sam2' },
];
const files = (base: string) => ({
  encoder: `models/builtin/${base}-encoder.onnx`,
  decoder: `models/builtin/${base}-decoder.onnx`,
});
const W = 320;
const H = 240;
// One scene per grid size and model keeps this file under 10 s a model on an idle 2-core
// machine (a 32x32 grid is 1024 decoder runs).
const CASES = [
  { seed: 3, n: 16 },
  { seed: 2, n: 32 },
];

/**
 * Whether the model's own full-resolution answer at the region's deepest point has a
 * candidate matching it that passes predicted IoU > 0.88 and stability >= 0.95: the
 * built-in models must give every flat shape such an answer.
 */
async function modelKeeps(adapter: FamilyAdapter, emb: ImageEmbedding, region: SceneRegion): Promise<boolean> {
  const d = await adapter.decode(emb, { points: [region.interiorPoint] });
  return d.candidates.some((c) => {
    if (!(d.iou[c] > 0.88) || stabilityScore(d.logits[c]) < 0.95) return false;
    const mask: BinaryMask = { width: W, height: H, data: Uint8Array.from(d.logits[c], (v) => (v > 0 ? 1 : 0)) };
    return maskIou(mask, region.mask) >= 0.9;
  });
}

describe('segment everything with the built-in models', () => {
  for (const model of MODELS) {
    describe(model.name, () => {
      let adapter: FamilyAdapter;
      beforeAll(async () => {
        const { openFamilyAdapter } = await import('../src/families/index.js');
        adapter = await openFamilyAdapter({ name: model.name, family: model.family, files: files(model.base) });
      });
      afterAll(async () => adapter?.dispose());

      it('gives a one-pixel-thin object one mask, not one per grid point on it (identical zero-area boxes overlap)', async () => {
        const one = { width: 1, height: 1, data: new Uint8Array([200, 30, 30]) };
        expect((await generateMasks(adapter, one, { pointsPerSide: 8 })).records).toHaveLength(1);
        // A blue vertical line one pixel wide on grey: the 8 grid points on it made 8 copies.
        const side = 64;
        const line = { width: side, height: side, data: new Uint8Array(side * side * 3).fill(230) };
        for (let y = 0; y < side; y++) line.data.set([20, 20, 200], (y * side + 4) * 3);
        const { records } = await generateMasks(adapter, line, { pointsPerSide: 8 });
        const thin = records.filter((r) => r.bbox[2] === 1);
        expect(records.length).toBeLessThanOrEqual(2);
        // The built-in EfficientSAM answers a click on the line with the background.
        if (model.family === 'sam') expect(thin.map((r) => r.bbox)).toEqual([[4, 0, 1, side]]);
        else expect(thin.length).toBeLessThanOrEqual(1);
      });

      for (const { seed, n } of CASES) {
        it(`finds every shape larger than a grid cell exactly once (scene ${seed}, ${n}x${n})`, async () => {
          const scene = makeScene({ width: W, height: H, seed });
          const { records, stats } = await generateMasks(adapter, scene.image, { pointsPerSide: n });
          // SAM 2's candidates come at its decoder's 256x256 grid, which its generator resizes straight to the image.
          expect(stats.renderSizes).toEqual([model.family === 'sam2' ? { width: 256, height: 256 } : { width: 256, height: 192 }]);
          const masks = records.map((r) => rleToMask(r.rle));
          const grid = scaleGrid(buildPointGrid(n), W, H);
          const emb = await adapter.encode(scene.image);
          const cell = (W / n) * (H / n);
          let checked = 0;
          for (const region of [...scene.shapes, scene.background]) {
            const found = masks.filter((m) => maskIou(m, region.mask) >= 0.9).length;
            expect(found, `duplicates of a region of ${region.area} px`).toBeLessThanOrEqual(1);
            if (region.area <= cell) continue;
            let gridPoints = 0;
            for (let k = 0; k < grid.length; k += 2) gridPoints += region.mask.data[Math.floor(grid[k + 1]) * W + Math.floor(grid[k])];
            // A shape no grid point falls on gets no prompt: the algorithm cannot find it.
            if (gridPoints === 0) continue;
            checked++;
            expect(await modelKeeps(adapter, emb, region), `model's answer for the region of ${region.area} px`).toBe(true);
            expect(found, `region of ${region.area} px at ${JSON.stringify(region.bbox)}`).toBe(1);
          }
          expect(checked).toBeGreaterThanOrEqual(scene.shapes.length - 1);
        });
      }
    });
  }
});
