import { describe, expect, it } from 'vitest';
import { generateMasks, type EverythingResult } from '../src/everything/generator.js';
import { generateCropBoxes } from '../src/everything/crops.js';
import { UsageError } from '../src/util/errors.js';
import { stabilityScore } from '../src/everything/stability.js';
import { upsampledMaskStats } from '../src/masks/resize.js';
import type { MaskRecord } from '../src/masks/record.js';
import { rleArea, rleBoundsInclusive, rleToMask } from '../src/masks/rle.js';
import type { BinaryMask } from '../src/masks/types.js';
import { FakeAdapter, type FakeCandidate, drawScene, maskIou, regionResponder, type TestShape } from './everything-fake.js';

const SHAPES: TestShape[] = [
  { kind: 'rect', x: 20, y: 20, w: 70, h: 50, color: [200, 40, 40] },
  { kind: 'ellipse', cx: 170, cy: 60, rx: 45, ry: 35, color: [40, 200, 40] },
  { kind: 'rect', x: 240, y: 130, w: 60, h: 90, color: [40, 40, 220] },
  { kind: 'ellipse', cx: 90, cy: 170, rx: 55, ry: 40, color: [220, 220, 40] },
  { kind: 'rect', x: 150, y: 150, w: 40, h: 40, color: [200, 40, 200] },
];

/** Every ground-truth region matched (IoU >= 0.9) by exactly one record, and every record by one region. */
function matchOnce(records: readonly MaskRecord[], truths: readonly BinaryMask[]) {
  const masks = records.map((r) => rleToMask(r.rle));
  const hits = truths.map((t) => masks.filter((m) => maskIou(m, t) >= 0.9).length);
  const matched = masks.map((m) => truths.filter((t) => maskIou(m, t) >= 0.9).length);
  return { hits, matched };
}

describe('generateMasks on a fake adapter over a flat-coloured scene', () => {
  const scene = drawScene(320, 240, SHAPES);
  const truths = [...scene.masks, scene.background];

  for (const n of [16, 32]) {
    it(`finds every region exactly once at ${n}x${n}`, async () => {
      const adapter = new FakeAdapter(regionResponder());
      const { records, stats } = await generateMasks(adapter, scene.image, { pointsPerSide: n });
      const { hits, matched } = matchOnce(records, truths);
      expect(hits).toEqual(truths.map(() => 1));
      expect(matched).toEqual(records.map(() => 1));
      expect(records.length).toBe(truths.length);
      expect(adapter.decodeCalls).toBe(n * n);
      expect(stats.decoderRuns).toBe(n * n);
      // mask 0 (the decoy, IoU 0.99) is never a candidate; 3 candidates per point
      expect(stats.counts.candidates).toBe(3 * n * n);
      expect(stats.counts.afterPredIou).toBe(2 * n * n);
      // records carry the reference's fields
      for (const r of records) {
        expect(r.area).toBe(rleArea(r.rle));
        const b = rleBoundsInclusive(r.rle)!;
        expect(r.bbox).toEqual([b[0], b[1], b[2] - b[0] + 1, b[3] - b[1] + 1]);
        expect(r.cropBox).toEqual([0, 0, 320, 240]);
        expect(r.predictedIou).toBe(0.95);
        expect(r.stabilityScore).toBeGreaterThanOrEqual(0.95);
        const [[px, py]] = r.pointCoords;
        expect(rleToMask(r.rle).data[Math.floor(py) * 320 + Math.floor(px)]).toBe(1);
      }
    });
  }

  it('orders records by predicted IoU (reference) or by area', async () => {
    const iouByArea = (ctx: { regionArea: number }) => 0.9 + (ctx.regionArea % 97) / 1000;
    const ref = await generateMasks(new FakeAdapter(regionResponder(iouByArea)), scene.image, { pointsPerSide: 16 });
    const ious = ref.records.map((r) => r.predictedIou);
    expect(ious).toEqual([...ious].sort((a, b) => b - a));
    const byArea = await generateMasks(new FakeAdapter(regionResponder(iouByArea)), scene.image, { pointsPerSide: 16, order: 'area' });
    const areas = byArea.records.map((r) => r.area);
    expect(areas).toEqual([...areas].sort((a, b) => b - a));
    expect(new Set(areas)).toEqual(new Set(ref.records.map((r) => r.area)));
  });

  it('filters by min and max area, in pixels or as a fraction, as a subset of the default result', async () => {
    const all = (await generateMasks(new FakeAdapter(regionResponder()), scene.image, { pointsPerSide: 16 })).records;
    const areas = all.map((r) => r.area).sort((a, b) => a - b);
    const lo = areas[1];
    const hi = areas[areas.length - 2];
    const { records, stats } = await generateMasks(new FakeAdapter(regionResponder()), scene.image, {
      pointsPerSide: 16,
      minArea: lo,
      maxArea: { fraction: hi / (320 * 240) },
    });
    expect(records.map((r) => r.area).sort((a, b) => a - b)).toEqual(areas.slice(1, -1));
    expect(stats.counts.afterArea).toBe(all.length - 2);
    const pct = await generateMasks(new FakeAdapter(regionResponder()), scene.image, { pointsPerSide: 16, maxArea: '50%' });
    expect(pct.records.map((r) => r.area).sort((a, b) => a - b)).toEqual(areas.filter((a) => a <= 0.5 * 320 * 240));
    expect(pct.records.length).toBe(all.length - 1); // the background is the only region above half the image
  });

  it('never asks for full-size renders, and renders at a longest side of 256 by default', async () => {
    const big = drawScene(1200, 900, SHAPES.map((s) => scaleShape(s, 3.75)));
    const adapter = new FakeAdapter(regionResponder());
    const { records, stats } = await generateMasks(adapter, big.image, { pointsPerSide: 8 });
    expect(adapter.renderRequests.length).toBe(64);
    for (const r of adapter.renderRequests) expect(r).toEqual({ width: 256, height: 192 });
    expect(stats.renderSizes).toEqual([{ width: 256, height: 192 }]);
    // the upsampled masks still match the ground truth closely
    const { hits } = matchOnce(records, [...big.masks, big.background]);
    expect(hits.filter((h) => h === 1).length).toBeGreaterThanOrEqual(big.masks.length); // every shape; background if a point hit it
    const small = await generateMasks(new FakeAdapter(regionResponder()), big.image, { pointsPerSide: 8, lowResSize: 64 });
    expect(small.stats.renderSizes).toEqual([{ width: 64, height: 48 }]);
  });

  it('measures stability and boxes on the upsampled mask, or on the render with scoreResolution low', async () => {
    // One candidate: a bar with a soft band, at 1200x900 rendered at 256x192.
    const logit = (_x: number, y: number) => (Math.abs(y - 450) < 5 ? 8 : Math.abs(y - 450) < 10 ? 0.25 : -8);
    const image = { width: 1200, height: 900, data: new Uint8Array(1200 * 900 * 3) };
    const run = async (scoreResolution: 'full' | 'low') => {
      const adapter = new FakeAdapter(() => [{ iou: 0.95, logit }]);
      const { records } = await generateMasks(adapter, image, { pointsPerSide: 1, stabilityThresh: 0, scoreResolution });
      expect(records).toHaveLength(1);
      return { record: records[0], render: adapter.decoded[0].logits[1] };
    };
    const full = await run('full');
    const st = upsampledMaskStats(full.render, 256, 192, 1200, 900, 0, 1);
    expect(full.record.stabilityScore).toBe(st.aboveHigh / st.aboveLow);
    expect(full.record.area).toBe(st.above);
    const low = await run('low');
    expect(low.record.stabilityScore).toBe(stabilityScore(low.render, 0, 1));
    expect(low.record.stabilityScore).not.toBeCloseTo(full.record.stabilityScore, 2);
    // the records' masks are the same either way: only the scores differ
    expect(low.record.rle).toEqual(full.record.rle);
  });

  it('gives the same result when the candidate memory budget forces decoding survivors again', async () => {
    const roomy = await generateMasks(new FakeAdapter(regionResponder()), scene.image, { pointsPerSide: 16 });
    const adapter = new FakeAdapter(regionResponder());
    const tight = await generateMasks(adapter, scene.image, { pointsPerSide: 16, candidateMemoryMB: 0 });
    expect(tight.stats.peakLogitBytes).toBeGreaterThan(0); // survivors get their logits back
    expect(tight.stats.redecodes).toBeGreaterThan(0);
    expect(tight.stats.redecodes).toBeLessThanOrEqual(tight.records.length);
    expect(adapter.decodeCalls).toBe(256 + tight.stats.redecodes);
    expect(tight.records).toEqual(roomy.records);
    expect(roomy.stats.redecodes).toBe(0);
  });

  it('rejects bad options before running the model', async () => {
    const adapter = new FakeAdapter(regionResponder());
    await expect(generateMasks(adapter, scene.image, { predIouThresh: Number.NaN })).rejects.toThrow(UsageError);
    expect(adapter.encoded.length).toBe(0);
  });
});

describe('filters', () => {
  /** A 100x100 image; one grid point; one candidate with the given IoU and a mask of
   *  `inner` pixels at logit 2 plus `ring` pixels at 0.5 (rendered at full size, as 100 <= 256). */
  function scripted(iou: number, inner: number, ring: number): FakeAdapter {
    return new FakeAdapter(() => [
      {
        iou,
        logit: (x, y) => {
          const k = Math.round(y) * 100 + Math.round(x);
          return k < inner ? 2 : k < inner + ring ? 0.5 : -2;
        },
      },
    ]);
  }
  const image = { width: 100, height: 100, data: new Uint8Array(100 * 100 * 3) };
  const one = async (adapter: FakeAdapter, extra = {}) => (await generateMasks(adapter, image, { pointsPerSide: 1, ...extra })).records;

  it('keeps predicted IoU strictly greater than 0.88', async () => {
    expect(await one(scripted(0.88, 1000, 0))).toHaveLength(0);
    expect(await one(scripted(0.8800001, 1000, 0))).toHaveLength(1);
    expect(await one(scripted(0.5, 1000, 0), { predIouThresh: 0 })).toHaveLength(1);
  });

  it('keeps stability of at least 0.95: 950 / 1000 passes, 949 / 1000 does not', async () => {
    const pass = await one(scripted(0.95, 950, 50));
    expect(pass).toHaveLength(1);
    expect(pass[0].stabilityScore).toBe(0.95);
    expect(pass[0].area).toBe(1000); // binarised at > 0: the 0.5 ring is foreground
    expect(await one(scripted(0.95, 949, 51))).toHaveLength(0);
    expect(await one(scripted(0.95, 949, 51), { stabilityThresh: 0.9 })).toHaveLength(1);
    // offset 0.25 puts both cutoffs below 0.5: the ring counts on both sides
    expect((await one(scripted(0.95, 500, 500), { stabilityOffset: 0.25 }))[0]?.stabilityScore).toBe(1);
  });

  it('drops a changed mask in favour of an unchanged duplicate after small-region clean-up', async () => {
    // Point (25, 25): a square plus a far one-pixel island, IoU 0.99. Point (75, 25): the same square alone, IoU 0.9.
    // Before clean-up their boxes differ (the island stretches the first), so both pass box NMS;
    // after it the boxes coincide and the unchanged mask wins despite its lower IoU.
    const square = (x: number, y: number) => x >= 10 && x < 40 && y >= 10 && y < 40;
    const adapter = new FakeAdapter((ctx) => {
      const island = ctx.point.x < 50;
      const r = (x: number, y: number) => {
        const px = Math.round(x);
        const py = Math.round(y);
        return square(px, py) || (island && px === 95 && py === 95) ? 4 : -4;
      };
      return [{ iou: island ? 0.99 : 0.9, logit: r }];
    });
    const before = await generateMasks(adapter, image, { pointsPerSide: 2 });
    expect(before.records.map((r) => r.predictedIou)).toEqual([0.99, 0.9]);
    const after = await generateMasks(adapter, image, { pointsPerSide: 2, minRegionArea: 5 });
    expect(after.records.map((r) => r.predictedIou)).toEqual([0.9]);
    expect(after.records[0].area).toBe(900);
    expect(after.stats.counts.afterRegionCleanup).toBe(1);
  });

  it('fills holes in the final masks with min-region-area', async () => {
    const holed = drawScene(120, 90, [
      { kind: 'rect', x: 20, y: 20, w: 60, h: 50, color: [200, 40, 40] },
      { kind: 'rect', x: 45, y: 40, w: 3, h: 3, color: [40, 200, 40] },
    ]);
    const red = (recs: readonly MaskRecord[]) => recs.find((r) => rleToMask(r.rle).data[25 * 120 + 25] === 1 && r.area < 5000)!;
    const plain = await generateMasks(new FakeAdapter(regionResponder()), holed.image, { pointsPerSide: 8 });
    expect(red(plain.records).area).toBe(60 * 50 - 9);
    const cleaned = await generateMasks(new FakeAdapter(regionResponder()), holed.image, { pointsPerSide: 8, minRegionArea: 10 });
    expect(red(cleaned.records).area).toBe(60 * 50);
  });
});

describe('crop layers', () => {
  it('encodes every crop, uncrops masks to the right place and prefers smaller crops', async () => {
    const scene = drawScene(320, 240, SHAPES);
    const adapter = new FakeAdapter(regionResponder());
    const { records, stats } = await generateMasks(adapter, scene.image, { pointsPerSide: 16, cropLayers: 1, cropPointsDownscale: 2 });
    const crops = generateCropBoxes(320, 240, 1, 512 / 1500);
    expect(adapter.encoded).toEqual(crops.map((c) => ({ width: c.box[2] - c.box[0], height: c.box[3] - c.box[1] })));
    expect(stats.points).toBe(256 + 4 * 64);
    const truths = [...scene.masks, scene.background];
    const { hits, matched } = matchOnce(records, truths);
    expect(hits).toEqual(truths.map(() => 1));
    expect(matched).toEqual(records.map(() => 1));
    const fromCrops = records.filter((r) => r.cropBox[2] < 320);
    expect(fromCrops.length).toBeGreaterThan(0);
    for (const r of records) {
      const [cx, cy, cw, ch] = r.cropBox;
      expect(crops.some((c) => c.box[0] === cx && c.box[1] === cy && c.box[2] - c.box[0] === cw && c.box[3] - c.box[1] === ch)).toBe(true);
      const [[px, py]] = r.pointCoords;
      expect(px).toBeGreaterThanOrEqual(cx);
      expect(px).toBeLessThan(cx + cw);
      expect(py).toBeGreaterThanOrEqual(cy);
      expect(py).toBeLessThan(cy + ch);
      expect(rleToMask(r.rle).data[Math.floor(py) * 320 + Math.floor(px)]).toBe(1);
    }
    // a shape wholly inside one crop, away from its inner edges, is taken from that crop (score 1 / crop area)
    const rect = records.find((r) => maskIou(rleToMask(r.rle), scene.masks[0]) >= 0.9)!;
    expect(rect.cropBox[2]).toBeLessThan(320);
    expect(stats.counts.afterCropNms).toBeLessThan(stats.counts.afterBoxNms);
  });
});

describe('cancellation and progress', () => {
  const scene = drawScene(160, 120, SHAPES.map((s) => scaleShape(s, 0.5)));

  it('reports progress per batch and stops early on abort', async () => {
    const adapter = new FakeAdapter(regionResponder());
    const controller = new AbortController();
    const seen: { done: number; total: number }[] = [];
    const run = generateMasks(adapter, scene.image, {
      pointsPerSide: 16,
      pointsPerBatch: 32,
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p);
        if (p.done >= 64) controller.abort();
      },
    });
    await expect(run).rejects.toThrow(/abort/i);
    expect(adapter.decodeCalls).toBe(64);
    expect(seen).toEqual([0, 32, 64].map((done) => ({ done, total: 256 })));
  });

  it('does not run the encoder when already aborted', async () => {
    const adapter = new FakeAdapter(regionResponder());
    const controller = new AbortController();
    controller.abort(new Error('stop now'));
    await expect(generateMasks(adapter, scene.image, { signal: controller.signal })).rejects.toThrow('stop now');
    expect(adapter.encoded.length).toBe(0);
  });

  it('reports the final progress of a complete run', async () => {
    const seen: number[] = [];
    const result: EverythingResult = await generateMasks(new FakeAdapter(regionResponder()), scene.image, {
      pointsPerSide: 4,
      onProgress: (p) => seen.push(p.done),
    });
    expect(seen).toEqual([0, 16]);
    expect(result.stats.timings.totalMs).toBeGreaterThan(0);
  });
});

function scaleShape(s: TestShape, k: number): TestShape {
  return s.kind === 'rect'
    ? { ...s, x: Math.round(s.x * k), y: Math.round(s.y * k), w: Math.round(s.w * k), h: Math.round(s.h * k) }
    : { ...s, cx: s.cx * k, cy: s.cy * k, rx: s.rx * k, ry: s.ry * k };
}

export type { FakeCandidate };
