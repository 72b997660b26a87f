import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/util/errors.js';
import { parseAreaLimit, resolveAreaLimit, areaKeepFlags } from '../src/everything/area.js';
import {
  boxArea,
  boxFromLogits,
  boxFromMask,
  boxIou,
  inclusiveToCocoXywh,
  scaleInclusiveBox,
  xyxyToXywh,
} from '../src/everything/boxes.js';
import { cropRgb, generateCropBoxes, isBoxNearCropEdge, uncropBox, uncropPoint } from '../src/everything/crops.js';
import { buildAllLayerPointGrids, buildPointGrid, scaleGrid } from '../src/everything/grid.js';
import { storeLowRes } from '../src/everything/lowres.js';
import { MaskData } from '../src/everything/mask-data.js';
import { nms } from '../src/everything/nms.js';
import { EVERYTHING_DEFAULTS, resolveEverythingOptions } from '../src/everything/options.js';
import { renderSizeFor } from '../src/everything/generator.js';
import { stabilityScore } from '../src/everything/stability.js';
import { maskToRle, rleToMask } from '../src/masks/rle.js';
import { mask } from './helpers/ascii-mask.js';

describe('grid', () => {
  it('puts points at cell centres, x fastest', () => {
    expect([...buildPointGrid(1)]).toEqual([0.5, 0.5]);
    expect([...buildPointGrid(2)]).toEqual([0.25, 0.25, 0.75, 0.25, 0.25, 0.75, 0.75, 0.75]);
    const g = buildPointGrid(32);
    expect(g.length).toBe(32 * 32 * 2);
    expect(g[0]).toBe(1 / 64);
    expect(g[2]).toBe(3 / 64); // second point: next column, same row
    expect(g[3]).toBe(1 / 64);
    expect(g[32 * 2 + 1]).toBe(3 / 64); // point 32 starts row 1
    expect(g[g.length - 2]).toBe(63 / 64);
  });

  it('divides points per side by downscale^layer, truncating', () => {
    const grids = buildAllLayerPointGrids(32, 2, 3);
    expect(grids.map((g) => Math.sqrt(g.length / 2))).toEqual([32, 10, 3]);
  });

  it('scales to a frame in pixels', () => {
    expect([...scaleGrid(buildPointGrid(2), 100, 40)]).toEqual([25, 10, 75, 10, 25, 30, 75, 30]);
  });

  it('rejects a non-positive side', () => {
    expect(() => buildPointGrid(0)).toThrow(RangeError);
  });
});

describe('stability score', () => {
  it('is |L > t + o| / |L > t - o| (hand-computed)', () => {
    // > 1: {2}; > -1: {2, 0.5, -0.5, 1}; boundaries are strict.
    expect(stabilityScore([2, 0.5, -0.5, -2, 1, -1], 0, 1)).toBe(0.25);
    expect(stabilityScore([3, 3, 0.5, -3], 0, 1)).toBeCloseTo(2 / 3, 12);
    // threshold shifts both cutoffs: > 2.5 {3, 3}, > 0.5 {3, 3, 1}
    expect(stabilityScore([3, 3, 1, 0.5], 1.5, 1)).toBeCloseTo(2 / 3, 12);
  });

  it('is 1 for a mask with steep edges and 0 with nothing above t - o', () => {
    expect(stabilityScore([5, 5, -5, -5], 0, 1)).toBe(1);
    expect(stabilityScore([-2, -3], 0, 1)).toBe(0);
  });
});

describe('boxes', () => {
  it('box from mask uses inclusive min/max indices', () => {
    const m = mask(['.....', '..#..', '.##..', '.....']);
    expect(boxFromMask(m)).toEqual([1, 1, 2, 2]);
    expect(boxFromMask(mask(['...', '...']))).toEqual([0, 0, 0, 0]);
    expect(boxFromMask(mask(['#..', '...']))).toEqual([0, 0, 0, 0]); // a real one-pixel mask at the origin
    expect(boxFromLogits([0, 0.1, 0, -1, 0, 0], 3, 2, 0)).toEqual([1, 0, 1, 0]);
  });

  it('measures area and IoU like torchvision', () => {
    expect(boxArea([0, 0, 10, 10])).toBe(100);
    expect(boxArea([3, 3, 3, 8])).toBe(0); // one pixel wide as inclusive indices
    expect(boxIou([0, 0, 10, 10], [5, 5, 15, 15])).toBeCloseTo(25 / 175, 12);
    expect(boxIou([0, 0, 10, 10], [20, 20, 30, 30])).toBe(0);
    expect(boxIou([1, 1, 1, 5], [1, 2, 1, 5])).toBeNaN(); // two different zero-area boxes: 0 / 0
  });

  it('converts between conventions', () => {
    expect(xyxyToXywh([10, 20, 110, 70])).toEqual([10, 20, 100, 50]);
    expect(inclusiveToCocoXywh([1, 1, 2, 2])).toEqual([1, 1, 2, 2]);
    expect(inclusiveToCocoXywh(undefined)).toEqual([0, 0, 0, 0]);
  });

  it('scales a low-resolution box to the footprint of its cells', () => {
    expect(scaleInclusiveBox([1, 1, 2, 2], { width: 4, height: 4 }, { width: 16, height: 16 })).toEqual([4, 4, 11, 11]);
    expect(scaleInclusiveBox([0, 0, 3, 1], { width: 4, height: 2 }, { width: 10, height: 5 })).toEqual([0, 0, 9, 4]);
    expect(scaleInclusiveBox([2, 1, 3, 1], { width: 4, height: 4 }, { width: 4, height: 4 })).toEqual([2, 1, 3, 1]);
  });
});

describe('NMS', () => {
  it('keeps by decreasing score, suppressing IoU strictly above the threshold (hand-computed)', () => {
    const boxes: [number, number, number, number][] = [
      [0, 0, 10, 10], // A .9
      [1, 1, 11, 11], // B .8: IoU(A, B) = 81 / 119 = 0.68
      [0, 0, 10, 9], // C .95: IoU(C, A) = 90 / 100
      [50, 50, 60, 60], // D .1
    ];
    expect(nms(boxes, [0.9, 0.8, 0.95, 0.1], 0.7)).toEqual([2, 1, 3]);
    // IoU(C, B) = 80 / 120: kept at 0.7, suppressed at 0.6
    expect(nms(boxes, [0.9, 0.8, 0.95, 0.1], 0.6)).toEqual([2, 3]);
  });

  it('does not suppress at exactly the threshold', () => {
    const boxes: [number, number, number, number][] = [
      [0, 0, 4, 1],
      [0, 0, 2, 1], // IoU 2 / 4 = 0.5
    ];
    expect(nms(boxes, [1, 0.5], 0.5)).toEqual([0, 1]);
    expect(nms(boxes, [1, 0.5], 0.49)).toEqual([0]);
  });

  it('breaks score ties by index, so the earlier candidate wins', () => {
    const b: [number, number, number, number] = [0, 0, 10, 10];
    expect(nms([b, b, b], [0.5, 0.5, 0.5], 0.7)).toEqual([0]);
    expect(nms([[0, 0, 1, 1], b, [20, 20, 30, 30]], [0.5, 0.9, 0.5], 0.7)).toEqual([1, 0, 2]);
  });

  it('suppresses identical zero-area boxes (unlike torchvision, whose 0/0 IoU never suppresses)', () => {
    expect(boxIou([2, 2, 2, 9], [2, 2, 2, 9])).toBe(1);
    // Identical boxes with an area give exactly 1 from the arithmetic itself, fractions too.
    for (const box of [[0.1, 0.2, 3.7, 9.3], [1e-7, 3, 2e-7, 1e6], [5, 5, 4, 4]] as const) expect(boxIou(box, box)).toBe(1);
    expect(nms([[2, 2, 2, 9], [2, 2, 2, 9], [0, 0, 0, 0], [0, 0, 0, 0]], [1, 1, 0.5, 0.5], 0.7)).toEqual([0, 2]);
    // Different zero-area boxes keep torchvision's NaN: neither suppresses the other.
    expect(boxIou([2, 2, 2, 9], [2, 3, 2, 9])).toBeNaN();
    expect(nms([[2, 2, 2, 9], [2, 3, 2, 9]], [1, 1], 0.1)).toEqual([0, 1]);
  });
});

describe('crops', () => {
  it('matches the reference crop boxes (hand-computed for 1500x1000)', () => {
    const crops = generateCropBoxes(1500, 1000, 1, 512 / 1500);
    // overlap = int(512/1500 * 1000) = 341; w = ceil((341 + 1500) / 2) = 921; h = ceil((341 + 1000) / 2) = 671
    expect(crops).toEqual([
      { box: [0, 0, 1500, 1000], layer: 0 },
      { box: [0, 0, 921, 671], layer: 1 },
      { box: [0, 330, 921, 1000], layer: 1 },
      { box: [580, 0, 1500, 671], layer: 1 },
      { box: [580, 330, 1500, 1000], layer: 1 },
    ]);
    const two = generateCropBoxes(1500, 1000, 2, 512 / 1500);
    expect(two.length).toBe(1 + 4 + 16);
    // layer 2: overlap = int(341.33 / 2) = 170; w = ceil((170 * 3 + 1500) / 4) = 503, x0 = 0, 333, 666, 999;
    // h = ceil((170 * 3 + 1000) / 4) = 378, y0 = 0, 208, 416, 624
    const l2 = two.filter((c) => c.layer === 2).map((c) => c.box);
    expect(l2[0]).toEqual([0, 0, 503, 378]);
    expect(l2[1]).toEqual([0, 208, 503, 586]);
    expect(l2[15]).toEqual([999, 624, 1500, 1000]);
  });

  it('flags boxes within 20 px of an inner crop edge, not of an image edge', () => {
    const crop: [number, number, number, number] = [580, 330, 1500, 1000];
    const img: [number, number, number, number] = [0, 0, 1500, 1000];
    expect(isBoxNearCropEdge([20, 100, 50, 200], crop, img)).toBe(true); // x0 = 600: exactly 20 px
    expect(isBoxNearCropEdge([21, 100, 50, 200], crop, img)).toBe(false);
    expect(isBoxNearCropEdge([100, 100, 919, 669], crop, img)).toBe(false); // right/bottom are image edges
    expect(isBoxNearCropEdge([100, 0, 200, 50], crop, img)).toBe(true); // top edge y = 330 is inside the image
    expect(isBoxNearCropEdge([0, 0, 10, 10], img, img)).toBe(false); // the whole image has no inner edges
  });

  it('uncrops boxes, points and copies crop pixels', () => {
    expect(uncropBox([1, 2, 3, 4], [10, 20, 30, 40])).toEqual([11, 22, 13, 24]);
    expect(uncropPoint([1.5, 2.5], [10, 20, 30, 40])).toEqual([11.5, 22.5]);
    const image = { width: 3, height: 2, data: Uint8Array.from({ length: 18 }, (_, i) => i) };
    const c = cropRgb(image, [1, 1, 3, 2]);
    expect(c.width).toBe(2);
    expect(c.height).toBe(1);
    expect([...c.data]).toEqual([12, 13, 14, 15, 16, 17]);
    expect(cropRgb(image, [0, 0, 3, 2])).toBe(image);
  });
});

describe('MaskData', () => {
  it('filters every column by flags or ordered indices, and concatenates', () => {
    const d = new MaskData<{ a: number; b: string }>(['a', 'b']);
    [1, 2, 3, 4].forEach((a) => d.push({ a, b: `x${a}` }));
    d.filter([true, false, true, true]);
    expect(d.get('a')).toEqual([1, 3, 4]);
    expect(d.get('b')).toEqual(['x1', 'x3', 'x4']);
    d.filter([2, 0]);
    expect(d.get('a')).toEqual([4, 1]);
    expect(d.row(0)).toEqual({ a: 4, b: 'x4' });
    const e = new MaskData<{ a: number; b: string }>(['a', 'b']);
    e.push({ a: 9, b: 'x9' });
    d.cat(e);
    expect(d.length).toBe(3);
    expect(d.get('b')).toEqual(['x4', 'x1', 'x9']);
    expect(() => d.set('a', [1])).toThrow(/3 candidates/);
    expect(() => d.filter([5])).toThrow(/out of range/);
  });
});

describe('low-resolution storage', () => {
  it('stores the box plus one cell, quantised, never flipping a sign', () => {
    const logits = Float32Array.from([-3, -1, -2, -1, 0.001, -0.001, -2, 200, -0]);
    const l = storeLowRes(logits, { width: 3, height: 3 }, [1, 1, 1, 2], false);
    expect([l.x, l.y, l.width, l.height]).toEqual([0, 0, 3, 3]);
    expect(l.data[4]).toBe(1); // 0.001 * 256 rounds to 0, kept positive
    expect(l.data[5]).toBe(0);
    expect(l.data[7]).toBe(32767);
    expect(l.data[1]).toBe(-256);
    const small = storeLowRes(new Float32Array(25), { width: 5, height: 5 }, [3, 3, 3, 3], false);
    expect([small.x, small.y, small.width, small.height]).toEqual([2, 2, 3, 3]);
  });
});

describe('area limits and options', () => {
  it('reads pixels, fractions and percentages', () => {
    expect(parseAreaLimit('500')).toEqual({ pixels: 500 });
    expect(parseAreaLimit('1')).toEqual({ pixels: 1 });
    expect(parseAreaLimit('0.02')).toEqual({ fraction: 0.02 });
    expect(parseAreaLimit('2%')).toEqual({ fraction: 0.02 });
    expect(parseAreaLimit(0.5)).toEqual({ fraction: 0.5 });
    expect(resolveAreaLimit({ fraction: 0.25 }, 400)).toBe(100);
    expect(() => parseAreaLimit('12.5')).toThrow(UsageError);
    expect(() => parseAreaLimit('-3')).toThrow(UsageError);
    expect(() => parseAreaLimit('big')).toThrow(/pixel count/);
    expect(areaKeepFlags([5, 10, 20], 10, 20)).toEqual([false, true, true]);
  });

  it('defaults to the reference values', () => {
    const o = resolveEverythingOptions();
    expect(o).toMatchObject({
      pointsPerSide: 32,
      pointsPerBatch: 64,
      predIouThresh: 0.88,
      stabilityThresh: 0.95,
      stabilityOffset: 1,
      boxNmsThresh: 0.7,
      cropLayers: 0,
      cropNmsThresh: 0.7,
      cropOverlapRatio: 512 / 1500,
      cropPointsDownscale: 1,
      minRegionArea: 0,
      minArea: null,
      maxArea: null,
      lowResSize: 256,
      scoreResolution: 'full',
      order: 'reference',
    });
    expect(o).toEqual(EVERYTHING_DEFAULTS);
  });

  it('rejects bad values with a UsageError naming the option', () => {
    expect(() => resolveEverythingOptions({ pointsPerSide: 0 })).toThrow(/pointsPerSide must be a whole number from 1 to 256 \(got 0\)/);
    expect(() => resolveEverythingOptions({ stabilityThresh: 1.5 })).toThrow(UsageError);
    expect(() => resolveEverythingOptions({ boxNmsThresh: Number.NaN })).toThrow(/boxNmsThresh/);
    expect(() => resolveEverythingOptions({ pointsPerSide: 4, cropLayers: 2, cropPointsDownscale: 4 })).toThrow(/crop layer 2 without grid points/);
    expect(() => resolveEverythingOptions({ minArea: '50%', maxArea: '10%' })).toThrow(/minArea is larger/);
    expect(() => resolveEverythingOptions({ lowResSize: 4 })).toThrow(/lowResSize/);
    expect(() => resolveEverythingOptions({ scoreResolution: 'half' as never })).toThrow(/scoreResolution must be "full" or "low"/);
    expect(() => resolveEverythingOptions({ bogus: 1 } as never)).toThrow(/unknown everything option bogus/);
    expect(resolveEverythingOptions({ minArea: '0.1', lowResSize: 'full' })).toMatchObject({ minArea: { fraction: 0.1 }, lowResSize: 'full' });
  });

  it('renders candidates at the requested longest side, never above the frame', () => {
    expect(renderSizeFor(4000, 3000, 256)).toEqual({ width: 256, height: 192 });
    expect(renderSizeFor(3000, 4000, 256)).toEqual({ width: 192, height: 256 });
    expect(renderSizeFor(200, 100, 256)).toEqual({ width: 200, height: 100 });
    expect(renderSizeFor(4000, 3000, 'full')).toEqual({ width: 4000, height: 3000 });
  });
});

// RLE round trip of what the clean-up works on, as a guard for the region tests' helper.
describe('mask helper', () => {
  it('round-trips', () => {
    const m = mask(['#..#', '.##.']);
    expect(rleToMask(maskToRle(m))).toEqual(m);
  });
});
