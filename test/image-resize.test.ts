import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { resizePixels, resizeRgb } from '../src/image/resize.js';
import { createRng } from '../scripts/fixtures/index.js';

const row = (values: number[]) => new Uint8Array(values);

describe('resizePixels (Pillow BILINEAR)', () => {
  // Expected values worked out by hand from Pillow's algorithm: pixel centres at i + 0.5,
  // triangle filter widened by the reduction factor, weights normalised per output pixel.
  it('enlarges on the half-pixel grid, clamping at the edges', () => {
    // 4 -> 8: output centres fall at input positions 0.25, 0.75, ... (in pixel-centre units).
    expect([...resizePixels(row([0, 100, 200, 40]), 4, 1, 1, 8, 1)]).toEqual([0, 25, 75, 125, 175, 160, 80, 40]);
  });

  it('antialiases when shrinking: the filter spans more than two inputs', () => {
    // 4 -> 2: output 0 weighs inputs 0,1,2 by 0.75,0.75,0.25 (/1.75): (75 + 50) / 1.75 = 71.4.
    expect([...resizePixels(row([0, 100, 200, 40]), 4, 1, 1, 2, 1)]).toEqual([71, 117]);
    // 3 -> 1: all three inputs, weights 2/3,1,2/3 (support 3): (0 + 90 + 60 * 2/3) / (7/3) = 55.7.
    expect([...resizePixels(row([0, 90, 60]), 3, 1, 1, 1, 1)]).toEqual([56]);
  });

  it('treats rows and columns alike (a transposed input gives the transposed output)', () => {
    const rng = createRng(5);
    const w = 13;
    const h = 7;
    const src = Uint8Array.from({ length: w * h }, () => rng.int(0, 255));
    const transposed = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) transposed[x * h + y] = src[y * w + x];
    // Same filter both ways, but Pillow rounds between passes, so only a 1-level difference is allowed.
    const a = resizePixels(src, w, h, 1, 5, 11);
    const b = resizePixels(transposed, h, w, 1, 11, 5);
    for (let y = 0; y < 11; y++) for (let x = 0; x < 5; x++) expect(Math.abs(a[y * 5 + x] - b[x * 11 + y])).toBeLessThanOrEqual(1);
  });

  it('keeps a flat image flat at any size', () => {
    const flat = new Uint8Array(37 * 23 * 3);
    for (let i = 0; i < flat.length; i += 3) flat.set([255, 0, 131], i);
    for (const [w, h] of [[1024, 1024], [5, 3], [37, 1], [100, 23]]) {
      const out = resizePixels(flat, 37, 23, 3, w, h);
      let wrong = 0;
      for (let i = 0; i < out.length; i += 3) if (out[i] !== 255 || out[i + 1] !== 0 || out[i + 2] !== 131) wrong++;
      expect(wrong, `${w}x${h}`).toBe(0);
    }
  });

  it('agrees with libvips linear when shrinking (independent implementation, same filter)', async () => {
    const rng = createRng(11);
    const w = 300;
    const h = 200;
    const src = new Uint8Array(w * h * 3);
    for (let i = 0; i < src.length; i++) src[i] = Math.round(128 + 100 * Math.sin(i / 97) + rng.range(-20, 20));
    const ours = resizePixels(src, w, h, 3, 97, 71);
    const vips = await sharp(src, { raw: { width: w, height: h, channels: 3 } })
      .resize(97, 71, { fit: 'fill', kernel: 'linear' })
      .raw()
      .toBuffer();
    let sum = 0;
    for (let i = 0; i < ours.length; i++) sum += Math.abs(ours[i] - vips[i]);
    expect(sum / ours.length).toBeLessThan(1);
  });

  it('returns a copy for the same size and rejects bad sizes', () => {
    const src = row([1, 2, 3, 4, 5, 6]);
    const out = resizePixels(src, 2, 1, 3, 2, 1);
    expect(out).toEqual(src);
    expect(out).not.toBe(src);
    expect(() => resizePixels(src, 2, 1, 3, 0, 1)).toThrow(RangeError);
    expect(() => resizePixels(src, 2, 1, 3, 1.5, 1)).toThrow(RangeError);
    expect(() => resizePixels(src, 3, 1, 3, 1, 1)).toThrow(RangeError);
  });
});

describe('resizeRgb', () => {
  it('resizes an RgbImage to the exact size asked, aspect not kept', async () => {
    const image = { width: 4, height: 2, data: new Uint8Array(4 * 2 * 3).fill(9) };
    const out = await resizeRgb(image, 1024, 1024);
    expect([out.width, out.height, out.data.length]).toEqual([1024, 1024, 1024 * 1024 * 3]);
    expect(out.data.every((v) => v === 9)).toBe(true);
  });
});
