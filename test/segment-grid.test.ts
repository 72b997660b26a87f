/**
 * `segment` on large images: the decoder renders at its own mask grid (EfficientSAM's
 * 256x256, SAM's resized 1024 frame) and samlite upsamples, which must give the masks the
 * decoder renders at full size. Small images are rendered at full size by the decoder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MINI_BENCH_PAIRS, ensureBenchModels } from '../scripts/bench-models/index.js';
import { makeScene } from '../scripts/fixtures/index.js';
import type { TensorMap } from '../src/families/session.js';
import type { RgbImage } from '../src/image/types.js';
import { maskToRle } from '../src/masks/rle.js';
import { logitsToMask } from '../src/masks/threshold.js';
import { Segmenter, type ModelToOpen } from '../src/segmenter/segmenter.js';
import { chooseModel, resolveModel } from '../src/store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'samlite-segment-grid-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Open `model`, recording the (H, W) of every decoder run's orig_im_size. */
async function openRecording(model: ModelToOpen) {
  const renders: number[][] = [];
  const seg = await Segmenter.open(model, {
    embeddingCache: false,
    observer: (role: string, feeds: Readonly<TensorMap>) => {
      if (role === 'decoder') renders.push(Array.from(feeds.orig_im_size.data as ArrayLike<number | bigint>, Number));
    },
  });
  return { seg, renders };
}

/** segment()'s masks against the decoder's own full-size render of the same prompt. */
async function compare(model: ModelToOpen, image: RgbImage, point: { x: number; y: number }) {
  const { seg, renders } = await openRecording(model);
  try {
    const viaSegment = await seg.segment(image, { points: [point] }, { multimask: true });
    const direct = await seg.adapter.decode(await seg.embed(image), { points: [point] });
    const counts = viaSegment.masks.map((m) => {
      const own = logitsToMask(direct.logits[m.index], image.width, image.height);
      let differ = 0;
      let foreground = 0;
      for (let i = 0; i < own.data.length; i++) {
        if (own.data[i] !== m.mask.data[i]) differ++;
        foreground += own.data[i];
      }
      // The RLE a PromptMask gives (made from the logits, not the bytes) is the bytes' RLE.
      const rle = m.rle;
      const rleIsTheMasks = Buffer.from(rle.counts.buffer, rle.counts.byteOffset, rle.counts.byteLength).equals(Buffer.from(maskToRle(m.mask).counts.buffer));
      return { differ, foreground, size: [m.mask.width, m.mask.height], rleIsTheMasks };
    });
    return { counts, renders, best: viaSegment.best.index, directBest: direct.best };
  } finally {
    await seg.close();
  }
}

describe('segment renders large images at the decoder grid', () => {
  it('EfficientSAM: 256x256 render upsampled equals the full-size render (built-in model, 1024x768)', async () => {
    const scene = makeScene({ width: 1024, height: 768, seed: 5, shapes: 6 });
    const point = scene.shapes[0].interiorPoint;
    const { counts, renders, best, directBest } = await compare(await resolveModel('builtin-efficientsam'), scene.image, point);
    expect(renders[0]).toEqual([256, 256]);
    expect(renders[1]).toEqual([768, 1024]);
    expect(best).toBe(directBest);
    for (const c of counts) {
      expect(c.size).toEqual([1024, 768]);
      expect(c.rleIsTheMasks).toBe(true);
      // Float rounding may flip a pixel that sits exactly on the cutoff; nothing more.
      expect(c.differ).toBeLessThanOrEqual(Math.max(2, c.foreground * 1e-4));
    }
    expect(counts.some((c) => c.foreground > 1000)).toBe(true);
  });

  it('SAM: a render at the resized 1024 frame upsampled equals the full-size render (SAM-shaped decoder, 2200x1650)', async () => {
    const [info] = ensureBenchModels({ dir, pairs: MINI_BENCH_PAIRS.filter((p) => p.family === 'sam') });
    const scene = makeScene({ width: 2200, height: 1650, seed: 3, shapes: 4 });
    const { counts, renders } = await compare(chooseModel(info.manifest).model, scene.image, { x: 1100, y: 800 });
    expect(renders[0]).toEqual([768, 1024]);
    expect(renders[1]).toEqual([1650, 2200]);
    for (const c of counts) {
      expect(c.size).toEqual([2200, 1650]);
      expect(c.rleIsTheMasks).toBe(true);
      expect(c.differ).toBeLessThanOrEqual(Math.max(2, c.foreground * 1e-4));
    }
    // The random decoder's masks are noise: plenty of pixels on both sides to disagree on.
    expect(counts.every((c) => c.foreground > 10000 && c.foreground < 2200 * 1650 - 10000)).toBe(true);
  });

  it('small images are rendered at full size by the decoder', async () => {
    const scene = makeScene({ width: 320, height: 240, seed: 1, shapes: 3 });
    for (const name of ['builtin', 'builtin-efficientsam']) {
      const { seg, renders } = await openRecording(await resolveModel(name));
      try {
        const { masks } = await seg.segment(scene.image, { points: [{ x: 10, y: 10 }] }, { multimask: true });
        expect(renders).toEqual([[240, 320]]);
        // Each candidate's RLE, made from its logits in one pass, is its bytes' RLE.
        for (const m of masks) expect([...m.rle.counts]).toEqual([...maskToRle(m.mask).counts]);
      } finally {
        await seg.close();
      }
    }
  });
});
