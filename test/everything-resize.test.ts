import { describe, expect, it } from 'vitest';
import { boundsAbove } from '../src/everything/boxes.js';
import { storeLowRes } from '../src/everything/lowres.js';
import { upsampleLogitWindow, upsampledMaskStats, windowMaskToRle } from '../src/masks/resize.js';
import { boxFromMask } from '../src/everything/boxes.js';
import { stabilityScore } from '../src/everything/stability.js';
import { maskToRle, rleToMask } from '../src/masks/rle.js';
import { rng } from './everything-fake.js';

/** torch's bilinear (align_corners=False) resize of a whole map, thresholded at > t, row-major. */
function reference(logits: Float32Array, w: number, h: number, W: number, H: number, t = 0): Uint8Array {
  const out = new Uint8Array(W * H);
  const src = (o: number, inLen: number, outLen: number) => Math.max(0, (inLen / outLen) * (o + 0.5) - 0.5);
  for (let y = 0; y < H; y++) {
    const sy = src(y, h, H);
    const y0 = Math.min(Math.floor(sy), h - 1);
    const y1 = y0 < h - 1 ? y0 + 1 : y0;
    const ly = sy - y0;
    for (let x = 0; x < W; x++) {
      const sx = src(x, w, W);
      const x0 = Math.min(Math.floor(sx), w - 1);
      const x1 = x0 < w - 1 ? x0 + 1 : x0;
      const lx = sx - x0;
      const v =
        (1 - ly) * ((1 - lx) * logits[y0 * w + x0] + lx * logits[y0 * w + x1]) +
        ly * ((1 - lx) * logits[y1 * w + x0] + lx * logits[y1 * w + x1]);
      out[y * W + x] = v > t ? 1 : 0;
    }
  }
  return out;
}

function blob(w: number, h: number, rand: () => number): Float32Array {
  // A few smooth bumps: realistic logits with curved boundaries and uniform areas.
  const bumps = Array.from({ length: 3 }, () => ({ x: rand() * w, y: rand() * h, r: 1 + rand() * Math.max(w, h) * 0.4 }));
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = -6;
      for (const b of bumps) v = Math.max(v, 8 * (1 - Math.hypot(x - b.x, y - b.y) / b.r));
      out[y * w + x] = v + (rand() - 0.5) * 0.5;
    }
  }
  return out;
}

describe('bilinear upsampling of logits to a mask window', () => {
  it('matches a per-pixel torch-style resize, from the whole map or from box + 1 cell', () => {
    const rand = rng(11);
    let flips = 0;
    let total = 0;
    for (let t = 0; t < 60; t++) {
      const w = 2 + Math.floor(rand() * 20);
      const h = 2 + Math.floor(rand() * 20);
      const W = w + Math.floor(rand() * 90);
      const H = h + Math.floor(rand() * 90);
      const logits = blob(w, h, rand);
      const want = reference(logits, w, h, W, H);
      const full = upsampleLogitWindow({ frameWidth: w, frameHeight: h, x: 0, y: 0, width: w, height: h, data: logits }, W, H);
      expect(rleToMask(windowMaskToRle(full, W, H)).data).toEqual(want);
      const box = boundsAbove(logits, w, h, 0);
      if (!box) continue;
      const stored = storeLowRes(logits, { width: w, height: h }, box, false);
      const win = upsampleLogitWindow(stored, W, H);
      expect(win.width * win.height).toBeLessThanOrEqual(W * H);
      const got = rleToMask(windowMaskToRle(win, W, H)).data;
      // Exact against the quantised map (cells outside the window keep their negative logits) ...
      const quantised = Float32Array.from(logits);
      for (let y = 0; y < stored.height; y++) {
        for (let x = 0; x < stored.width; x++) quantised[(y + stored.y) * w + x + stored.x] = stored.data[y * stored.width + x] / 256;
      }
      expect(got).toEqual(reference(quantised, w, h, W, H));
      // ... and quantisation flips only pixels whose interpolated logit is within a step of 0.
      for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) flips++;
      total += got.length;
    }
    expect(flips / total).toBeLessThan(1e-3);
  });

  it('fills uniform cells without interpolating (hand-computed 2x2 to 4x4)', () => {
    // All-positive corners: every pixel foreground; one negative corner: the pixels near it are background.
    const pos = upsampleLogitWindow({ frameWidth: 2, frameHeight: 2, x: 0, y: 0, width: 2, height: 2, data: [1, 1, 1, 1] }, 4, 4);
    expect([...pos.data]).toEqual(new Array(16).fill(1));
    const one = upsampleLogitWindow({ frameWidth: 2, frameHeight: 2, x: 0, y: 0, width: 2, height: 2, data: [-3, 1, 1, 1] }, 4, 4);
    // Source positions per output index: -0.25 (clamped to 0), 0.25, 0.75, 1.25 (upper cell
    // only), so the weights of the second cell are 0, 1/4, 3/4, 1 on both axes and
    // v = (1 - wy) * (4 wx - 3) + wy. Exact zeros (wx = 3/4 on row 0, wx = 0 at wy = 3/4) are background.
    expect(rleToMask(windowMaskToRle(one, 4, 4)).data).toEqual(
      Uint8Array.from([
        0, 0, 0, 1,
        0, 0, 1, 1,
        0, 1, 1, 1,
        1, 1, 1, 1,
      ]),
    );
  });

  it('places a window at an offset (a crop) in the image RLE', () => {
    const win = { x: 1, y: 0, width: 2, height: 2, data: Uint8Array.from([1, 0, 1, 1]) }; // column-major
    const rle = windowMaskToRle(win, 5, 4, 2, 1);
    const expected = new Uint8Array(20);
    expected[1 * 5 + 3] = 1; // (3,1)
    expected[1 * 5 + 4] = 1; // (4,1)
    expected[2 * 5 + 4] = 1; // (4,2)
    expect(rle).toEqual(maskToRle({ width: 5, height: 4, data: expected }));
    expect(() => windowMaskToRle(win, 4, 4, 2, 1)).toThrow(RangeError);
    expect([...windowMaskToRle({ x: 0, y: 0, width: 0, height: 0, data: new Uint8Array(0) }, 3, 2).counts]).toEqual([6]);
  });
});

describe('stats of the upsampled mask without building it', () => {
  it('counts pixels above t + o, t, t - o and boxes the mask exactly like a full resize', () => {
    const rand = rng(5);
    const count = (m: Uint8Array) => m.reduce((n, v) => n + v, 0);
    for (let t = 0; t < 60; t++) {
      const w = 2 + Math.floor(rand() * 20);
      const h = 2 + Math.floor(rand() * 20);
      const W = w + Math.floor(rand() * 90);
      const H = h + Math.floor(rand() * 90);
      const logits = blob(w, h, rand);
      const st = upsampledMaskStats(logits, w, h, W, H, 0, 1);
      const mid = reference(logits, w, h, W, H, 0);
      expect(st.aboveHigh).toBe(count(reference(logits, w, h, W, H, 1)));
      expect(st.above).toBe(count(mid));
      expect(st.aboveLow).toBe(count(reference(logits, w, h, W, H, -1)));
      const box = boxFromMask({ width: W, height: H, data: mid });
      expect(st.box ?? [0, 0, 0, 0]).toEqual(box);
    }
  });

  it('is the plain count when the sizes are equal (hand-computed)', () => {
    const st = upsampledMaskStats([2, 0.5, -0.5, -2, 1, -1], 3, 2, 3, 2, 0, 1);
    expect(st).toEqual({ aboveHigh: 1, above: 3, aboveLow: 4, box: [0, 0, 1, 1] });
    expect(upsampledMaskStats([-3, -2], 2, 1, 8, 4, 0, 1)).toEqual({ aboveHigh: 0, above: 0, aboveLow: 0, box: undefined });
  });

  it('weighs a boundary by its upsampled width, not by whole cells', () => {
    // A step edge rendered with one half-way sample: at 1:1 that sample is a whole band cell,
    // upsampled 8x it is a thin band, so the full-resolution stability is much higher.
    const row = [8, 8, 8, 0.25, -8, -8, -8, -8];
    const logits = Float32Array.from({ length: 64 }, (_, i) => row[i % 8]);
    const lowStab = stabilityScore(logits, 0, 1);
    expect(lowStab).toBe(24 / 32);
    const st = upsampledMaskStats(logits, 8, 8, 64, 64, 0, 1);
    expect(st.aboveHigh / st.aboveLow).toBeGreaterThan(0.9);
    expect(lowStab).toBeLessThan(0.8);
  });
});
