/**
 * The fast segment-everything mode: which grid points it decodes (counted on fakes), that
 * only a point's finest accepted mask spares other points, that nested regions survive, and
 * that the built-in models reach the targets in decoder runs and recovered masks
 * (both deterministic counts, so no timing is asserted anywhere).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coarseToFineOrder, fastSchedule, windowContains } from '../src/everything/fast-schedule.js';
import { generateMasks } from '../src/everything/generator.js';
import type { AcceptedCandidate } from '../src/everything/schedule.js';
import { resolveEverythingOptions } from '../src/everything/options.js';
import { buildPointGrid, scaleGrid } from '../src/everything/grid.js';
import type { DecodedMasks, FamilyAdapter, ImageEmbedding, Size } from '../src/families/types.js';
import type { RgbImage } from '../src/image/types.js';
import { upsampleLogitWindow } from '../src/masks/resize.js';
import type { MaskRecord } from '../src/masks/record.js';
import { rleToMask } from '../src/masks/rle.js';
import type { BinaryMask } from '../src/masks/types.js';
import type { Prompt } from '../src/prompts/types.js';
import { nestedScene, openBuiltin, recoveredCount } from '../scripts/measure-fast-mode.js';
import { assertBuilt, jsonLines, runSamlite } from './helpers/run-cli.js';
import { FakeAdapter, type FakeCandidate, type FakeContext, drawScene, labelFlatRegions, maskIou, regionLogit, regionResponder, rng, type TestShape } from './everything-fake.js';

const SHAPES: TestShape[] = [
  { kind: 'rect', x: 20, y: 20, w: 70, h: 50, color: [200, 40, 40] },
  { kind: 'ellipse', cx: 170, cy: 60, rx: 45, ry: 35, color: [40, 200, 40] },
  { kind: 'rect', x: 240, y: 130, w: 60, h: 90, color: [40, 40, 220] },
  { kind: 'ellipse', cx: 90, cy: 170, rx: 55, ry: 40, color: [220, 220, 40] },
  { kind: 'rect', x: 150, y: 150, w: 40, h: 40, color: [200, 40, 200] },
];

/** A FakeAdapter that also logs every decoded point, in order. */
class LoggingFake extends FakeAdapter {
  readonly points: { x: number; y: number }[] = [];
  override decode(embedding: ImageEmbedding, prompt: Prompt, options?: { renderSize?: Size }): Promise<DecodedMasks> {
    this.points.push(prompt.points![0]);
    return super.decode(embedding, prompt, options);
  }
}

/** Same records up to order: every record of `a` has one in `b` at IoU >= 0.99 and the counts agree. */
function sameMasks(a: readonly MaskRecord[], b: readonly MaskRecord[]): boolean {
  if (a.length !== b.length) return false;
  const bm = b.map((r) => rleToMask(r.rle));
  return a.every((r) => {
    const m = rleToMask(r.rle);
    return bm.filter((o) => maskIou(m, o) >= 0.99).length === 1;
  });
}

/** Label of the flat region under pixel (x, y). */
function labelAt(labels: Int32Array, width: number, x: number, y: number): number {
  return labels[Math.floor(y) * width + Math.floor(x)];
}

/** Grid points of an n x n grid over `image` that fall in each label. */
function gridLabels(image: RgbImage, labels: Int32Array, n: number): Set<number> {
  const grid = scaleGrid(buildPointGrid(n), image.width, image.height);
  const out = new Set<number>();
  for (let k = 0; k < grid.length; k += 2) out.add(labelAt(labels, image.width, grid[k], grid[k + 1]));
  return out;
}

describe('coarseToFineOrder and windowContains', () => {
  it('visits every grid point once, coarse points first', () => {
    for (const n of [1, 2, 3, 7, 16, 32, 64]) {
      const order = coarseToFineOrder(n);
      expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n * n }, (_, i) => i));
    }
    // 32x32: first the 4x4 points at rows and columns 4, 12, 20, 28, then 8x8 at 2, 6, ...
    const order = coarseToFineOrder(32);
    expect([...order.slice(0, 4)]).toEqual([4 * 32 + 4, 4 * 32 + 12, 4 * 32 + 20, 4 * 32 + 28]);
    expect(order.slice(0, 16).every((i) => i % 32 % 8 === 4 && Math.floor(i / 32) % 8 === 4)).toBe(true);
    expect(order.slice(16, 80).every((i) => i % 32 % 4 === 2 && Math.floor(i / 32) % 4 === 2)).toBe(true);
  });

  it('agrees with the rendered mask pixel for pixel', () => {
    const r = rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const fw = 5 + Math.floor(r() * 20);
      const fh = 5 + Math.floor(r() * 20);
      const x = Math.floor(r() * 3);
      const y = Math.floor(r() * 3);
      const width = fw - x - Math.floor(r() * 3);
      const height = fh - y - Math.floor(r() * 3);
      const data = Int16Array.from({ length: width * height }, () => Math.round((r() - 0.6) * 2000));
      const win = { frameWidth: fw, frameHeight: fh, x, y, width, height, data };
      const outW = fw + Math.floor(r() * 60);
      const outH = fh + Math.floor(r() * 60);
      const mask = upsampleLogitWindow(win, outW, outH);
      for (let py = 0; py < outH; py++) {
        for (let px = 0; px < outW; px++) {
          const inWin = px >= mask.x && px < mask.x + mask.width && py >= mask.y && py < mask.y + mask.height;
          const want = inWin ? mask.data[(px - mask.x) * mask.height + (py - mask.y)] === 1 : false;
          expect(windowContains(win, outW, outH, px + 0.5, py + 0.5)).toBe(want);
        }
      }
    }
  });
});

describe('the fast schedule on its own', () => {
  const points = scaleGrid(buildPointGrid(4), 40, 40); // centres at 5, 15, 25, 35
  /** A mask over the whole 40x40 frame's left half (columns 0..19), rendered at 40x40. */
  const leftHalf = { frameWidth: 40, frameHeight: 40, x: 0, y: 0, width: 40, height: 40, data: Int16Array.from({ length: 1600 }, (_, i) => (i % 40 < 20 ? 512 : -512)) };
  const whole = { ...leftHalf, data: new Int16Array(1600).fill(512) };
  const cand = (pointIndex: number, maskIndex: number, mask: typeof leftHalf, box: [number, number, number, number]): AcceptedCandidate => ({
    box,
    predIou: 0.95,
    point: [points[2 * pointIndex], points[2 * pointIndex + 1]],
    pointIndex,
    maskIndex,
    mask,
    nearCropEdge: false,
  });

  it('skips the points inside the finest accepted mask and keeps those only a larger one covers', () => {
    const s = fastSchedule(points, { width: 40, height: 40 });
    const first = s.next()!;
    expect(first).toHaveLength(1);
    const p = first[0].index;
    // Its candidates: the left half (finest) and the whole frame (larger).
    s.accepted!([cand(p, 1, whole, [0, 0, 39, 39]), cand(p, 2, leftHalf, [0, 0, 19, 39])]);
    const rest: number[] = [];
    for (let b = s.next(); b; b = s.next()) rest.push(...b.map((q) => q.index));
    // The 8 left-half points other than p are skipped; every right-half point is decoded.
    const left = [0, 1, 4, 5, 8, 9, 12, 13];
    expect(s.skipped!()).toBe(left.filter((i) => i !== p).length);
    expect(rest.sort((a, b) => a - b)).toEqual([2, 3, 6, 7, 10, 11, 14, 15].filter((i) => i !== p));
  });

  it('skips nothing on the word of a point that was confident only about its largest candidate', () => {
    const s = fastSchedule(points, { width: 40, height: 40 });
    const p = s.next()![0];
    // Offered the left half and the whole frame; only the frame passed the filters.
    const decoded: DecodedMasks = {
      size: { width: 40, height: 40 },
      logits: [Float32Array.from(leftHalf.data), Float32Array.from(whole.data)],
      iou: [0.5, 0.95],
      best: 1,
      candidates: [0, 1],
    };
    s.decoded!(p, decoded);
    s.accepted!([cand(p.index, 1, whole, [0, 0, 39, 39])]);
    expect(s.skipped!()).toBe(0);
    // When the frame is all the decoder offered, it is the finest mask there is.
    const t = fastSchedule(points, { width: 40, height: 40 });
    const q = t.next()![0];
    t.decoded!(q, { ...decoded, logits: [Float32Array.from(whole.data)], iou: [0.95], best: 0, candidates: [0] });
    t.accepted!([cand(q.index, 0, whole, [0, 0, 39, 39])]);
    expect(t.skipped!()).toBe(15);
    expect(t.next()).toBeUndefined();
  });

  it('suppresses nothing when a point has no accepted candidate', () => {
    const s = fastSchedule(points, { width: 40, height: 40 });
    let decoded = 0;
    for (let b = s.next(); b; b = s.next()) {
      decoded += b.length;
      s.accepted!([]);
    }
    expect(decoded).toBe(16);
    expect(s.skipped!()).toBe(0);
  });
});

describe('fast mode on a fake adapter', () => {
  const scene = drawScene(320, 240, SHAPES);
  const { labels } = labelFlatRegions(scene.image);

  it('decodes one point per region when every mask is exact, and finds what the faithful mode finds', async () => {
    for (const n of [16, 32]) {
      const faithful = await generateMasks(new FakeAdapter(regionResponder()), scene.image, { pointsPerSide: n, lowResSize: 'full' });
      const adapter = new LoggingFake(regionResponder());
      const fast = await generateMasks(adapter, scene.image, { pointsPerSide: n, lowResSize: 'full', mode: 'fast' });
      const regions = gridLabels(scene.image, labels, n);
      // Rendered at full size, each region's mask holds exactly its pixels: every later grid
      // point in it is skipped, so each region costs one decoder run.
      expect(adapter.decodeCalls).toBe(regions.size);
      expect(new Set(adapter.points.map((p) => labelAt(labels, 320, p.x, p.y)))).toEqual(regions);
      expect(fast.stats.decoderRuns).toBe(regions.size);
      expect(fast.stats.skippedPoints).toBe(n * n - regions.size);
      expect(sameMasks(fast.records, faithful.records)).toBe(true);
    }
  });

  it('at the default render size, never decodes a point inside an earlier point\'s finest mask', async () => {
    const adapter = new LoggingFake(regionResponder());
    const fast = await generateMasks(adapter, scene.image, { pointsPerSide: 32, mode: 'fast' });
    const faithful = await generateMasks(new FakeAdapter(regionResponder()), scene.image, { pointsPerSide: 32 });
    expect(sameMasks(fast.records, faithful.records)).toBe(true);
    // Every decoded point's finest accepted candidate is its region's rendered mask; no later
    // decoded point may lie inside one of those.
    const finest = fast.records.map((r) => rleToMask(r.rle));
    for (let j = 0; j < adapter.points.length; j++) {
      const p = adapter.points[j];
      const earlier = adapter.points.slice(0, j).map((q) => finest.find((m) => m.data[Math.floor(q.y) * 320 + Math.floor(q.x)] === 1));
      for (const m of earlier) if (m) expect(m.data[Math.floor(p.y) * 320 + Math.floor(p.x)]).toBe(0);
    }
    expect(adapter.decodeCalls).toBeLessThan(32 * 32 / 10);
  });

  it('larger candidates never spare a point: nested regions are all found', async () => {
    // Object A holds part B, which holds sub-part C. A click in a region is offered the
    // region, the region with everything inside it, and that plus its container (SAM's
    // sub-part / part / whole).
    const nested = drawScene(320, 240, [
      { kind: 'rect', x: 40, y: 30, w: 240, h: 180, color: [200, 40, 40] },
      { kind: 'rect', x: 90, y: 70, w: 140, h: 100, color: [40, 200, 40] },
      { kind: 'ellipse', cx: 160, cy: 120, rx: 35, ry: 25, color: [40, 40, 220] },
    ]);
    const lab = labelFlatRegions(nested.image).labels;
    const label = (x: number, y: number) => labelAt(lab, 320, x, y);
    const [bg, a, b, c] = [label(5, 5), label(50, 40), label(100, 80), label(160, 120)];
    const inside: Record<number, number[]> = { [bg]: [bg, a, b, c], [a]: [a, b, c], [b]: [b, c], [c]: [c] };
    const container: Record<number, number> = { [bg]: bg, [a]: bg, [b]: a, [c]: b };
    const unionLogit = (ctx: FakeContext, set: number[]) => {
      const parts = set.map((l) => regionLogit(ctx, l));
      return (x: number, y: number) => Math.max(...parts.map((f) => f(x, y)));
    };
    const respond = (ctx: FakeContext): FakeCandidate[] => [
      { iou: 0.95, logit: regionLogit(ctx, ctx.label), key: `r${ctx.label}` },
      { iou: 0.94, logit: unionLogit(ctx, inside[ctx.label]), key: `f${ctx.label}` },
      { iou: 0.93, logit: unionLogit(ctx, inside[container[ctx.label]]), key: `f${container[ctx.label]}` },
    ];
    const opts = { pointsPerSide: 16, lowResSize: 'full' as const };
    const faithful = await generateMasks(new FakeAdapter(respond), nested.image, opts);
    const adapter = new LoggingFake(respond);
    const fast = await generateMasks(adapter, nested.image, { ...opts, mode: 'fast' });
    // One run per region: A's whole covers B and C, yet B and C are decoded all the same.
    expect(new Set(adapter.points.map((p) => label(p.x, p.y)))).toEqual(new Set([bg, a, b, c]));
    expect(adapter.decodeCalls).toBe(4);
    expect(sameMasks(fast.records, faithful.records)).toBe(true);
    const truths: BinaryMask[] = [...nested.masks, nested.background];
    const masks = fast.records.map((r) => rleToMask(r.rle));
    for (const t of truths) expect(masks.some((m) => maskIou(m, t) === 1)).toBe(true);
  });

  it('decodes every point of a region whose finest candidate fails the filters', async () => {
    // Every candidate of a background point fails predicted IoU: nothing is accepted for
    // those points, so none of them spares another and each is decoded.
    const bgLabel = labelAt(labels, 320, 2, 2);
    const respond = regionResponder((ctx) => (ctx.label === bgLabel ? 0.5 : 0.95));
    const adapter = new LoggingFake(respond);
    const fast = await generateMasks(adapter, scene.image, { pointsPerSide: 16, mode: 'fast' });
    const grid = scaleGrid(buildPointGrid(16), 320, 240);
    let bgPoints = 0;
    for (let k = 0; k < grid.length; k += 2) if (labelAt(labels, 320, grid[k], grid[k + 1]) === bgLabel) bgPoints++;
    const decodedBg = adapter.points.filter((p) => labelAt(labels, 320, p.x, p.y) === bgLabel).length;
    expect(decodedBg).toBe(bgPoints);
    expect(fast.records.length).toBe(SHAPES.length);
  });

  it('is deterministic, and the faithful mode is the default and decodes every point in grid order', async () => {
    const a = new LoggingFake(regionResponder());
    const b = new LoggingFake(regionResponder());
    const r1 = await generateMasks(a, scene.image, { pointsPerSide: 32, mode: 'fast' });
    const r2 = await generateMasks(b, scene.image, { pointsPerSide: 32, mode: 'fast' });
    expect(r2.records).toEqual(r1.records);
    expect(b.points).toEqual(a.points);
    expect(resolveEverythingOptions().mode).toBe('faithful');
    const f = new LoggingFake(regionResponder());
    const def = await generateMasks(f, scene.image, { pointsPerSide: 8 });
    const explicit = await generateMasks(new FakeAdapter(regionResponder()), scene.image, { pointsPerSide: 8, mode: 'faithful' });
    expect(explicit.records).toEqual(def.records);
    const grid = scaleGrid(buildPointGrid(8), 320, 240);
    expect(f.points).toEqual(Array.from({ length: 64 }, (_, k) => ({ x: grid[2 * k], y: grid[2 * k + 1] })));
    expect(def.stats.skippedPoints).toBe(0);
    expect(() => resolveEverythingOptions({ mode: 'quick' as never })).toThrow(/mode must be "faithful" or "fast"/);
  });

  it('gives the same result when the candidate memory budget is full', async () => {
    const roomy = await generateMasks(new FakeAdapter(regionResponder()), scene.image, { pointsPerSide: 16, mode: 'fast' });
    const adapter = new FakeAdapter(regionResponder());
    const tight = await generateMasks(adapter, scene.image, { pointsPerSide: 16, mode: 'fast', candidateMemoryMB: 0 });
    expect(tight.stats.redecodes).toBeGreaterThan(0);
    expect(tight.stats.decoderRuns - tight.stats.redecodes).toBe(roomy.stats.decoderRuns);
    expect(tight.records).toEqual(roomy.records);
  });

  it('works with crop layers and small-region clean-up, and reports progress up to the total', async () => {
    const opts = { pointsPerSide: 16, cropLayers: 1, cropPointsDownscale: 2, minRegionArea: 30 };
    const faithful = await generateMasks(new FakeAdapter(regionResponder()), scene.image, opts);
    const adapter = new FakeAdapter(regionResponder());
    const seen: { done: number; total: number }[] = [];
    const fast = await generateMasks(adapter, scene.image, { ...opts, mode: 'fast', onProgress: (p) => seen.push(p) });
    expect(adapter.encoded.length).toBe(5);
    expect(fast.stats.decoderRuns).toBeLessThan(faithful.stats.decoderRuns / 4);
    expect(fast.stats.decoderRuns + fast.stats.skippedPoints).toBe(fast.stats.points);
    expect(sameMasks(fast.records, faithful.records)).toBe(true);
    expect(seen.at(-1)).toEqual({ done: fast.stats.points, total: fast.stats.points });
    const dones = seen.map((p) => p.done);
    expect(dones).toEqual([...dones].sort((x, y) => x - y));
  });
});

describe('fast mode with the built-in models (the issue\'s targets, as counts)', () => {
  for (const name of ['builtin', 'builtin-efficientsam']) {
    describe(name, () => {
      let adapter: FamilyAdapter;
      beforeAll(async () => {
        adapter = await openBuiltin(name);
      });
      afterAll(async () => adapter?.dispose());

      it('at 32x32 on a nested scene: at most a third of the decoder runs, at least 90 % of the faithful masks', async () => {
        const scene = nestedScene(SCENE.width, SCENE.height, 1);
        const faithful = await generateMasks(adapter, scene.image, { pointsPerSide: 32 });
        const fast = await generateMasks(adapter, scene.image, { pointsPerSide: 32, mode: 'fast' });
        expect(faithful.records.length).toBeGreaterThan(5);
        expect(fast.stats.decoderRuns * 3).toBeLessThanOrEqual(faithful.stats.decoderRuns);
        expect(recoveredCount(faithful.records, fast.records)).toBeGreaterThanOrEqual(0.9 * faithful.records.length);
      });
    });
  }
});

const SCENE = { width: 320, height: 240 };

describe('samlite everything --fast', () => {
  let work: string;
  beforeAll(async () => {
    assertBuilt();
    work = mkdtempSync(join(tmpdir(), 'samlite-fast-'));
    const scene = nestedScene(160, 120, 4);
    await sharp(scene.image.data, { raw: { width: 160, height: 120, channels: 3 } }).png().toFile(join(work, 'scene.png'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const samlite = (args: string[]) => runSamlite(['everything', 'scene.png', '--grid', '12', '--json', ...args], { cwd: work, env: { HOME: work, SAMLITE_HOME: join(work, 'home') } });

  it('runs the fast mode with --fast or --mode fast and says so; faithful lines stay as they were', async () => {
    const fast = await samlite(['--fast', '--out', 'fast']);
    expect(fast.code).toBe(0);
    const [line] = jsonLines(fast.stdout);
    expect(line.mode).toBe('fast');
    expect(line.masks as number).toBeGreaterThan(0);
    expect(fast.stderr).toMatch(/1 image done \(\d+ masks\) in [\d.]+ s with builtin \(fast mode\)/);
    const mode = await samlite(['--mode', 'fast', '--out', 'mode']);
    expect(jsonLines(mode.stdout)[0]).toMatchObject({ mode: 'fast', masks: line.masks });
    const faithful = await samlite(['--mode', 'faithful', '--out', 'faithful']);
    const plain = jsonLines(faithful.stdout)[0];
    expect('mode' in plain).toBe(false);
    expect(faithful.stderr).not.toContain('fast mode');
  });

  it('rejects contradicting or unknown modes with one line and exit 2', async () => {
    for (const [flags, message] of [
      [['--fast', '--mode', 'faithful'], '--fast contradicts --mode faithful'],
      [['--mode', 'quick'], "argument 'quick' is invalid"],
    ] as const) {
      const run = await samlite([...flags, '--out', 'never']);
      expect(run.code, flags.join(' ')).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain(message);
    }
  });
});
