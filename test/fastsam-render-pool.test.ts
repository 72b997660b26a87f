/**
 * FastSAM's masks rendered by several threads (render-pool.ts): the same masks, areas,
 * stability scores and RLE facts as one thread rendering them in index order, whichever
 * thread takes which mask; a stopped run stops the workers' claiming too; two images in
 * flight at once each get their own masks back. The workers run from the TypeScript
 * sources here (through tsx), as the built package runs them from dist/.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { rng } from './everything-fake.js';
import { PROTO_CHANNELS } from '../src/families/fastsam.js';
import { type FastSamAnalysis } from '../src/fastsam/analysis.js';
import { DetectionMasks } from '../src/fastsam/masks.js';
import { MaskRenderPool } from '../src/fastsam/render-pool.js';
import { cocoJsonBytes, countsToCocoString, rleArea, rleBoundsInclusive } from '../src/masks/rle.js';

/**
 * An analysis like the rebuilt graph's: random prototypes and coefficients (noise masks that
 * cross most cells), boxes of every size, some empty or outside, on an image `scale` times
 * the prototype grid.
 */
function noiseAnalysis(seed: number, detections: number, scale: number): FastSamAnalysis {
  const r = rng(seed);
  const protoSize = { width: 24, height: 16 };
  const image = { width: protoSize.width * scale + 3, height: protoSize.height * scale + 1 };
  const protos = Float32Array.from({ length: PROTO_CHANNELS * protoSize.width * protoSize.height }, () => r() * 2 - 1);
  const coefficients = Float32Array.from({ length: PROTO_CHANNELS * detections }, () => (r() < 0.2 ? 0 : r() * 2 - 1));
  const boxes = new Float32Array(4 * detections);
  for (let i = 0; i < detections; i++) {
    const x1 = r() * image.width;
    const y1 = r() * image.height;
    const box = i % 9 === 4 ? [x1, y1, x1, y1] : [x1, y1, Math.min(image.width, x1 + r() * image.width), Math.min(image.height, y1 + r() * image.height)];
    boxes.set(box, 4 * i);
  }
  const scores = Float32Array.from({ length: detections }, (_, i) => 0.9 - i / 1000);
  return { image, boxes, scores, coefficients, protos, protoSize };
}

const pools: MaskRenderPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe('MaskRenderPool', () => {
  const analysis = noiseAnalysis(7, 60, 9);
  const reference = new DetectionMasks(analysis);
  const expected = Array.from({ length: 60 }, (_, i) => reference.renderRle(i));

  it.each([
    ['the caller and a worker', true],
    ['a worker alone', false],
  ])('renders what one thread renders, with each RLE’s facts: %s', async (_, callerRenders) => {
    const pool = new MaskRenderPool(1, { minBoxPixels: 0, callerRenders });
    pools.push(pool);
    for (let round = 0; round < 2; round++) {
      const got = await pool.render(analysis);
      expect(got.map((m) => m.i)).toEqual(expected.map((_, i) => i));
      if (!callerRenders) expect(got.every((m) => m.byWorker)).toBe(true);
      got.forEach((m, i) => {
        expect(Array.from(m.rle.counts), `mask ${i}`).toEqual(Array.from(expected[i].rle.counts));
        expect(m.area).toBe(expected[i].area);
        expect(m.stability).toBe(expected[i].stability);
        // The facts the writers read instead of walking the runs (remembered for this RLE).
        const fresh = { size: m.rle.size, counts: m.rle.counts.slice() };
        expect(m.facts).toBeDefined();
        expect(rleArea(m.rle)).toBe(rleArea(fresh));
        expect(rleBoundsInclusive(m.rle)).toEqual(rleBoundsInclusive(fresh));
        expect(Buffer.from(cocoJsonBytes(m.rle)).toString('latin1')).toBe(JSON.stringify(countsToCocoString(m.rle.counts)).slice(1, -1));
      });
    }
  });

  it('renders alone below its size threshold, and with no workers', async () => {
    for (const pool of [new MaskRenderPool(1, { minBoxPixels: Number.POSITIVE_INFINITY }), new MaskRenderPool(0, { minBoxPixels: 0 })]) {
      pools.push(pool);
      const got = await pool.render(analysis);
      got.forEach((m, i) => expect(Array.from(m.rle.counts)).toEqual(Array.from(expected[i].rle.counts)));
      expect(got.every((m) => m.facts === undefined)).toBe(true);
    }
  });

  it('answers two images in flight at once, each with its own masks', async () => {
    const pool = new MaskRenderPool(1, { minBoxPixels: 0, callerRenders: false });
    pools.push(pool);
    const other = noiseAnalysis(8, 40, 6);
    const otherRef = new DetectionMasks(other);
    const [a, b] = await Promise.all([pool.render(analysis), pool.render(other)]);
    expect([...a, ...b].every((m) => m.byWorker)).toBe(true);
    a.forEach((m, i) => expect(Array.from(m.rle.counts)).toEqual(Array.from(expected[i].rle.counts)));
    b.forEach((m, i) => expect(Array.from(m.rle.counts)).toEqual(Array.from(otherRef.renderRle(i).rle.counts)));
  });

  it('stops claiming masks when the run is stopped, and renders the next image whole', async () => {
    const pool = new MaskRenderPool(1, { minBoxPixels: 0 });
    pools.push(pool);
    const stop = new AbortController();
    stop.abort(new Error('stopped'));
    await expect(pool.render(analysis, stop.signal)).rejects.toThrow('stopped');
    const got = await pool.render(analysis);
    expect(got).toHaveLength(60);
    got.forEach((m, i) => expect(m.area).toBe(expected[i].area));
  });

  it.each([
    ['a worker that fails as it starts', new URL('file:///nonexistent/samlite/render-worker.js')],
    ['a worker that cannot be started at all', new URL('http://example.invalid/render-worker.js')],
  ])('renders every mask on the caller after %s', async (_, module) => {
    const pool = new MaskRenderPool(1, { minBoxPixels: 0, callerRenders: false, module });
    pools.push(pool);
    for (let round = 0; round < 2; round++) {
      const got = await pool.render(analysis);
      expect(got.every((m) => !m.byWorker)).toBe(true);
      got.forEach((m, i) => expect(Array.from(m.rle.counts)).toEqual(Array.from(expected[i].rle.counts)));
    }
  });
});
