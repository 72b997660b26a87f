/**
 * FastSAM's pre- and post-processing in isolation: the letterbox, the detection rules,
 * masks from coefficients x prototypes against a plain full-image reference, prompt
 * selection, the cache packing and the settings.
 */
import { describe, expect, it, vi } from 'vitest';
import { UsageError } from '../src/util/errors.js';
import { PROTO_CHANNELS, type RawDetections } from '../src/families/fastsam.js';
import { analysisOf, packAnalysis, unpackAnalysis, type FastSamAnalysis } from '../src/fastsam/analysis.js';
import { boxIou } from '../src/everything/boxes.js';
import { float32BoxIou, keepDetections } from '../src/fastsam/detections.js';
import { resolveFastSamEverythingOptions } from '../src/fastsam/everything.js';
import { boxToImage, letterboxGeometry, letterboxPlanes, PAD_LEVEL, protoWindow, roundHalfEven } from '../src/fastsam/letterbox.js';
import { CROP_ROUNDS_BELOW, DetectionMasks } from '../src/fastsam/masks.js';
import { selectMasks } from '../src/fastsam/select.js';
import { MAX_NMS, resolveFastSamSettings } from '../src/fastsam/settings.js';
import { windowMaskToRle } from '../src/masks/resize.js';

describe('letterbox', () => {
  it("rounds like Python's round()", () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, 2.4, 2.6, -0.1].map(roundHalfEven)).toEqual([0, 2, 2, 4, 0, -2, 2, 3, 0]);
  });

  it('scales to fit and centres, the odd pixel of padding after', () => {
    expect(letterboxGeometry({ width: 320, height: 240 }, { width: 1024, height: 1024 })).toMatchObject({
      gain: 3.2,
      scaled: { width: 1024, height: 768 },
      left: 0,
      top: 128,
    });
    // 300x200 into 64: gain 0.2133, 64x42.67 -> 43 rows, 21 rows of padding: 10 above, 11 below.
    expect(letterboxGeometry({ width: 300, height: 200 }, { width: 64, height: 64 })).toMatchObject({ scaled: { width: 64, height: 43 }, left: 0, top: 10 });
  });

  it('fills the padding with grey 114 and the window with the image on 0..1', () => {
    const image = { width: 4, height: 2, data: new Uint8Array(4 * 2 * 3).fill(255) };
    const box = letterboxGeometry(image, { width: 8, height: 8 });
    expect(box).toMatchObject({ scaled: { width: 8, height: 4 }, top: 2 });
    const planes = letterboxPlanes(image, box);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 8; y++) {
        const want = y >= 2 && y < 6 ? 1 : PAD_LEVEL / 255;
        for (let x = 0; x < 8; x++) expect(planes[c * 64 + y * 8 + x]).toBeCloseTo(want, 6);
      }
    }
  });

  it('maps boxes back to the image and cuts the padding off the prototype grid', () => {
    const box = letterboxGeometry({ width: 320, height: 240 }, { width: 1024, height: 1024 });
    expect(boxToImage(box, 0, 128, 1024, 896)).toEqual([0, 0, 320, 240]);
    expect(boxToImage(box, 32, 0, 64, 160)).toEqual([10, 0, 20, 10]);
    expect(protoWindow(box, { width: 256, height: 256 })).toEqual({ x0: 0, y0: 32, x1: 256, y1: 224 });
  });

  it('measures the padding from the rounded scaled size, as scale_boxes and scale_masks do now', () => {
    // 1800x1200 into 256 prototype cells: 170.67 rows of image, 171 rounded; padding
    // (256 - 171) / 2 = 42.5 cuts 42 cells above (the unrounded 42.67 would cut 43).
    const box = letterboxGeometry({ width: 1800, height: 1200 }, { width: 1024, height: 1024 });
    expect(protoWindow(box, { width: 256, height: 256 })).toEqual({ x0: 0, y0: 42, x1: 256, y1: 213 });
    // Box pixels: (v - 170) / float32(gain) in float32; 683 rows, 170 padding above.
    const g = Math.fround(1024 / 1800);
    expect(boxToImage(box, 100, 171, 200, 853)).toEqual([Math.fround(100 / g), Math.fround(1 / g), Math.fround(200 / g), 1200]);
  });

  it('gives a dynamic export the minimum rectangle: each side padded to a multiple of 32', () => {
    // 1800x1200 at 1024: 1024x683, 341 rows short of the square, 341 mod 32 = 21 -> 704 rows,
    // 10 above and 11 below.
    const box = letterboxGeometry({ width: 1800, height: 1200 }, { width: 1024, height: 1024 }, true);
    expect(box).toMatchObject({ input: { width: 1024, height: 704 }, scaled: { width: 1024, height: 683 }, left: 0, top: 10 });
    expect(letterboxGeometry({ width: 1800, height: 1200 }, { width: 1024, height: 1024 }).input).toEqual({ width: 1024, height: 1024 });
    // Back from the rectangle: the padding is 10, not the square's 170.
    expect(boxToImage(box, 0, 10, 1024, 693)).toEqual([0, 0, 1800, 1200]);
    expect(protoWindow(box, { width: 256, height: 176 })).toEqual({ x0: 0, y0: 2, x1: 256, y1: 173 });
  });
});

/** Raw detections from [x1, y1, x2, y2, score] rows, coefficient k of detection i = i + k/100. */
function raw(rows: number[][], protos = new Float32Array(PROTO_CHANNELS), protoSize = { width: 1, height: 1 }): RawDetections {
  const coefficients = new Float32Array(rows.length * PROTO_CHANNELS).map((_, j) => Math.floor(j / PROTO_CHANNELS) + (j % PROTO_CHANNELS) / 100);
  return { boxes: Float32Array.from(rows.flatMap((r) => r.slice(0, 4))), scores: Float32Array.from(rows.map((r) => r[4])), coefficients, protos, protoSize };
}

describe('keepDetections', () => {
  it('sorts by score, drops boxes overlapping a better one above iou, keeps maxDet, carries the coefficients', () => {
    const kept = keepDetections(
      raw([
        [100, 100, 200, 200, 0.5],
        [100, 100, 200, 201, 0.9], // IoU 0.99 with the first
        [300, 300, 400, 400, 0.7],
        [300, 300, 400, 420, 0.6], // IoU 100/120 = 0.83 with the third
      ]),
      { iou: 0.9, maxDet: 300 },
    );
    expect(kept.scores.map((s) => Math.round(s * 10) / 10)).toEqual([0.9, 0.7, 0.6]);
    expect(Array.from(kept.coefficients.subarray(0, 2))).toEqual([1, Math.fround(1.01)]);
    expect(Array.from(kept.coefficients.subarray(PROTO_CHANNELS, PROTO_CHANNELS + 1))).toEqual([2]);
    expect(keepDetections(raw([[100, 100, 200, 200, 0.5], [300, 300, 400, 400, 0.7]]), { iou: 0.9, maxDet: 1 }).scores).toHaveLength(1);
    // iou 0.8: the 0.83 overlap now goes too.
    expect(keepDetections(raw([[300, 300, 400, 400, 0.7], [300, 300, 400, 420, 0.6]]), { iou: 0.8, maxDet: 9 }).scores).toHaveLength(1);
  });

  it('lets only the best MAX_NMS detections into NMS', () => {
    // The lowest-scored detection comes first in anchor order and overlaps no other: it
    // survives NMS only if it enters, and with MAX_NMS others above it it must not.
    const rows = [[500, 500, 600, 600, 0.5], ...Array.from({ length: MAX_NMS }, (_, i) => [100, 100, 200, 200, i === 7 ? 0.9 : 0.6])];
    const kept = keepDetections(raw(rows), { iou: 0.9, maxDet: 300 });
    expect(kept.boxes).toEqual([[100, 100, 200, 200]]);
    expect(kept.scores).toEqual([Math.fround(0.9)]);
    expect(kept.coefficients[0]).toBe(8);
    // One fewer, and it does enter.
    expect(keepDetections(raw(rows.slice(0, MAX_NMS)), { iou: 0.9, maxDet: 300 }).scores).toEqual([Math.fround(0.9), 0.5]);
  });

  it('leaves boxes at the border as NMS left them (ultralytics snaps only the boxes it reports)', () => {
    const kept = keepDetections(raw([[25, 25, 625, 625, 0.8], [10, 300, 100, 630, 0.6]]), { iou: 0.9, maxDet: 9 });
    expect(kept.boxes).toEqual([
      [25, 25, 625, 625],
      [10, 300, 100, 630],
    ]);
  });

  it('measures IoU in float32 and compares it with the threshold as float32', () => {
    // In double these two overlap with IoU 0.90000002 > 0.9, and a double NMS would drop the
    // second; torch's float32 arithmetic gives 0.89999998, which does not exceed 0.9 as
    // float32, so both stay (found by a random search over boxes).
    const a: [number, number, number, number] = [488.2170715332031, 138.27352905273438, 814.0150146484375, 309.32061767578125];
    const b: [number, number, number, number] = [488.2170715332031, 138.27352905273438, 814.0150146484375, 292.2159118652344];
    expect(boxIou(a, b)).toBeGreaterThan(0.9);
    expect(float32BoxIou(a, b)).toBe(Math.fround(0.9));
    expect(keepDetections(raw([[...a, 0.8], [...b, 0.7]]), { iou: 0.9, maxDet: 9 }).scores).toHaveLength(2);
    expect(keepDetections(raw([[...a, 0.8], [...b, 0.7]]), { iou: 0.89, maxDet: 9 }).scores).toHaveLength(1);
  });
});

/** torch's bilinear (align_corners=False) of a whole map, for reference. */
function bilinear(src: Float32Array, sw: number, sh: number, ow: number, oh: number): Float32Array {
  const axis = (o: number, out: number, len: number) => {
    const s = Math.max(0, ((o + 0.5) * len) / out - 0.5);
    const i0 = Math.min(Math.floor(s), len - 1);
    return { i0, i1: Math.min(i0 + 1, len - 1), w: s - i0 };
  };
  const out = new Float32Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    const ay = axis(y, oh, sh);
    for (let x = 0; x < ow; x++) {
      const ax = axis(x, ow, sw);
      const top = src[ay.i0 * sw + ax.i0] * (1 - ax.w) + src[ay.i0 * sw + ax.i1] * ax.w;
      const bottom = src[ay.i1 * sw + ax.i0] * (1 - ax.w) + src[ay.i1 * sw + ax.i1] * ax.w;
      out[y * ow + x] = top * (1 - ay.w) + bottom * ay.w;
    }
  }
  return out;
}

/** An analysis of a `width` x `height` image over a random 7x5 prototype grid. */
function randomAnalysis(boxes: number[][], width = 23, height = 17, seed = 1): FastSamAnalysis {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const protoSize = { width: 7, height: 5 };
  const protos = Float32Array.from({ length: PROTO_CHANNELS * 35 }, rand);
  const coefficients = Float32Array.from({ length: PROTO_CHANNELS * boxes.length }, rand);
  return { image: { width, height }, boxes: Float32Array.from(boxes.flat()), scores: Float32Array.from(boxes.map((_, i) => 0.9 - i / 10)), coefficients, protos, protoSize };
}

describe('DetectionMasks', () => {
  const boxes = [
    [2.5, 1.2, 19.5, 14],
    [0, 0, 23, 17],
    [10, 3, 11, 4],
    [5, 5, 5, 9], // no pixel
    [3.5, 0.5, 8.7, 6.2],
  ];
  /** Checks every pixel of every mask of `analysis` against a full-image reference with the box rule `keep`. */
  const check = (analysis: FastSamAnalysis, keep: (v: number, lo: number, hi: number) => boolean) => {
    const masks = new DetectionMasks(analysis);
    for (let i = 0; i < analysis.scores.length; i++) {
      const [x1, y1, x2, y2] = analysis.boxes.subarray(4 * i, 4 * i + 4);
      const logits = new Float32Array(35);
      for (let k = 0; k < PROTO_CHANNELS; k++) for (let p = 0; p < 35; p++) logits[p] += analysis.coefficients[i * PROTO_CHANNELS + k] * analysis.protos[k * 35 + p];
      const full = bilinear(logits, 7, 5, 23, 17);
      const m = masks.render(i);
      let area = 0;
      for (let y = 0; y < 17; y++) {
        for (let x = 0; x < 23; x++) {
          const want = keep(x, x1, x2) && keep(y, y1, y2) && full[y * 23 + x] > 0 ? 1 : 0;
          const inWindow = x >= m.window.x && x < m.window.x + m.window.width && y >= m.window.y && y < m.window.y + m.window.height;
          const got = inWindow ? m.window.data[(x - m.window.x) * m.window.height + (y - m.window.y)] : 0;
          expect(got, `detection ${i} pixel ${x},${y}`).toBe(want);
          area += want;
        }
      }
      expect(m.area).toBe(area);
      // A click's pixel test and its row-major union give the same pixels without the window.
      const painted = new Uint8Array(23 * 17);
      masks.paint(i, painted);
      for (let y = 0; y < 17; y++) {
        for (let x = 0; x < 23; x++) {
          const want = keep(x, x1, x2) && keep(y, y1, y2) && full[y * 23 + x] > 0;
          if (masks.holds(i, x, y) !== want) expect(masks.holds(i, x, y), `holds: detection ${i} pixel ${x},${y}`).toBe(want);
          if (painted[y * 23 + x] !== (want ? 1 : 0)) expect(painted[y * 23 + x], `paint: detection ${i} pixel ${x},${y}`).toBe(want ? 1 : 0);
        }
      }
      // segment-everything's outline renderer gives the same pixels.
      const r = masks.renderRle(i);
      expect(Array.from(r.rle.counts)).toEqual(Array.from(windowMaskToRle(m.window, 23, 17).counts));
      expect([r.area, r.stability]).toEqual([m.area, m.stability]);
    }
    expect(masks.render(3).area).toBe(0);
  };

  it('equals coefficients x prototypes, bilinear to the image, > 0, cropped to the rounded box below 50 detections', () => {
    // crop_mask's loop: rows and columns [round(v1), round(v2)), torch.round halves to even (2.5 -> 2, 19.5 -> 20).
    check(randomAnalysis(boxes), (v, lo, hi) => v >= roundHalfEven(lo) && v < roundHalfEven(hi));
  });

  it('crops to the float box (x1 <= c < x2) from 50 detections on, as crop_mask does then', () => {
    const many = Array.from({ length: CROP_ROUNDS_BELOW }, (_, i) => boxes[i % boxes.length]);
    check(randomAnalysis(many), (v, lo, hi) => v >= lo && v < hi);
  });
});

/**
 * An analysis whose masks are exactly the given rectangles of a 20x10 image: prototype
 * channel i is +1 inside rectangle i and -1 outside, at full resolution.
 */
function rectAnalysis(rects: number[][]): FastSamAnalysis {
  const width = 20;
  const height = 10;
  const protos = new Float32Array(PROTO_CHANNELS * width * height).fill(-1);
  rects.forEach(([x1, y1, x2, y2], i) => {
    for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) protos[i * width * height + y * width + x] = 1;
  });
  const coefficients = new Float32Array(PROTO_CHANNELS * rects.length);
  rects.forEach((_, i) => (coefficients[i * PROTO_CHANNELS + i] = 1));
  return {
    image: { width, height },
    boxes: Float32Array.from(rects.flat()),
    scores: Float32Array.from(rects.map((_, i) => 0.9 - i / 100)),
    coefficients,
    protos,
    protoSize: { width, height },
  };
}

const area = (m: { data: Uint8Array }) => m.data.reduce((n, v) => n + v, 0);
const at = (m: { width: number; data: Uint8Array }, x: number, y: number) => m.data[y * m.width + x];

describe('selectMasks', () => {
  // 0: the whole left half; 1: a part of it; 2: elsewhere.
  const masks = new DetectionMasks(rectAnalysis([[0, 0, 10, 10], [2, 2, 6, 6], [12, 0, 20, 5]]));

  it('takes the mask with the highest box IoU for a box', () => {
    const { best, masks: all } = selectMasks(masks, { box: { x1: 1, y1: 1, x2: 7, y2: 7 } }, true);
    expect(best.index).toBe(1); // 16 / 36 beats 36 / 100
    expect(area(best.mask)).toBe(16);
    expect(all.map((m) => m.index)).toEqual([1, 0]);
    // A box over no mask: every IoU is 0 and torch.argmax takes the first, the best-scored mask.
    expect(selectMasks(masks, { box: { x1: 11, y1: 6, x2: 19, y2: 9 } }, false).best).toMatchObject({ index: 0, predictedIou: Math.fround(0.9) });
  });

  it('joins every mask holding a foreground point', () => {
    const { best } = selectMasks(masks, { points: [{ x: 3, y: 3 }, { x: 15, y: 1 }] }, false);
    expect(area(best.mask)).toBe(100 + 40);
    expect(best.index).toBe(0);
  });

  it('deselects whole masks holding a background point', () => {
    // The click at (3, 3) selects masks 0 and 1; the background click at (8, 8) lies only in
    // mask 0, which is deselected; mask 1 stays.
    const { best, masks: all } = selectMasks(masks, { points: [{ x: 3, y: 3 }], negPoints: [{ x: 8, y: 8 }] }, true);
    expect(area(best.mask)).toBe(16);
    expect(at(best.mask, 3, 3)).toBe(1);
    expect(all).toHaveLength(1); // the one remaining candidate is the answer itself
    // A background click on the part lies in the whole too, so both go: it cannot carve
    // the part out of mask 0 as a SAM decoder would.
    expect(area(selectMasks(masks, { points: [{ x: 1, y: 1 }], negPoints: [{ x: 3, y: 3 }] }, false).best.mask)).toBe(0);
  });

  it('renders no mask to answer a click: it tests the clicked pixel and paints only the masks it selects', () => {
    const spied = new DetectionMasks(rectAnalysis([[0, 0, 10, 10], [2, 2, 6, 6], [12, 0, 20, 5]]));
    const render = vi.spyOn(spied, 'render');
    const paint = vi.spyOn(spied, 'paint');
    const { best } = selectMasks(spied, { points: [{ x: 3, y: 3 }] }, false);
    expect(area(best.mask)).toBe(100);
    expect(render).not.toHaveBeenCalled();
    expect(paint.mock.calls.map(([i]) => i)).toEqual([0, 1]);
  });

  it('answers a click on no mask with an empty mask', () => {
    expect(area(selectMasks(masks, { points: [{ x: 15, y: 8 }] }, false).best.mask)).toBe(0);
  });

  it('selects, for background points only, every mask that does not hold one', () => {
    const { best } = selectMasks(masks, { negPoints: [{ x: 15, y: 1 }] }, false);
    expect(area(best.mask)).toBe(100); // masks 0 and 1; mask 2 holds the point
    expect(best.index).toBe(0);
  });

  it('adds the box pick to the point merge', () => {
    const { best } = selectMasks(masks, { box: { x1: 12, y1: 0, x2: 20, y2: 5 }, points: [{ x: 3, y: 3 }] }, false);
    expect(area(best.mask)).toBe(100 + 40);
  });
});

describe('cache packing', () => {
  it('round-trips an analysis through one float32 array', () => {
    const a = randomAnalysis([[1, 2, 3, 4], [5, 6, 7, 8]]);
    const e = packAnalysis(a, 'key');
    expect(e).toMatchObject({ family: 'fastsam', modelKey: 'key', dims: [e.data.length] });
    expect(unpackAnalysis(e)).toEqual(a);
    expect(() => unpackAnalysis({ ...e, data: e.data.subarray(1) })).toThrow(/not a FastSAM analysis/);
  });

  it('keeps only the prototype cells that show the image', () => {
    const protos = Float32Array.from({ length: PROTO_CHANNELS * 16 }, (_, i) => i);
    const box = letterboxGeometry({ width: 8, height: 4 }, { width: 16, height: 16 });
    const a = analysisOf({ boxes: [], scores: [], coefficients: new Float32Array(0) }, { protos, protoSize: { width: 4, height: 4 } }, box);
    expect(a.protoSize).toEqual({ width: 4, height: 2 });
    expect(Array.from(a.protos.subarray(0, 8))).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
  });
});

describe('settings', () => {
  it("fills in FastSAM's defaults and names an out-of-range setting", () => {
    expect(resolveFastSamSettings()).toEqual({ conf: 0.4, iou: 0.9, maxDet: 300, imgsz: undefined });
    expect(() => resolveFastSamSettings({ conf: 1.5 })).toThrow(new UsageError('fastsam option conf must be a number from 0 to 1 (got 1.5)'));
    expect(() => resolveFastSamSettings({ maxDet: 0 })).toThrow(/maxDet must be a whole number from 1 to 30000/);
    expect(() => resolveFastSamSettings({ imgsz: 1000 })).toThrow(/imgsz must be a multiple of 32 from 32 to 4096/);
  });

  it('refuses grid options for a FastSAM everything run', () => {
    expect(resolveFastSamEverythingOptions({ minArea: '1%', order: 'area' })).toMatchObject({ minArea: { fraction: 0.01 }, order: 'area', minRegionArea: 0 });
    expect(() => resolveFastSamEverythingOptions({ pointsPerSide: 16 })).toThrow(/pointsPerSide does not apply to fastsam models/);
  });
});
