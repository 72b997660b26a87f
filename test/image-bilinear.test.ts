/**
 * stretchToPlanes' options for a letterbox: rounding to whole levels (OpenCV's 8-bit
 * resize) and writing into a window of larger planes.
 */
import { describe, expect, it } from 'vitest';
import { stretchToPlanes } from '../src/image/bilinear.js';
import type { RgbImage } from '../src/image/types.js';

// Two pixels, red 0 and 3: stretched to 4 the samples are 0, 0.75, 2.25, 3 (torch's rule).
const image: RgbImage = { width: 2, height: 1, data: Uint8Array.from([0, 10, 20, 3, 10, 20]) };

describe('stretchToPlanes', () => {
  it("keeps torch's float samples by default", () => {
    const planes = stretchToPlanes(image, 4, 1, 1);
    expect(Array.from(planes.subarray(0, 4))).toEqual([0, 0.75, 2.25, 3]);
  });

  it('rounds to whole levels before scaling with round', () => {
    const planes = stretchToPlanes(image, 4, 1, 0.5, { round: true });
    expect(Array.from(planes.subarray(0, 4))).toEqual([0, 0.5, 1, 1.5]);
    expect(Array.from(planes.subarray(4, 8))).toEqual([5, 5, 5, 5]);
  });

  it('writes into a window of larger planes and leaves the rest alone', () => {
    const data = new Float32Array(3 * 6 * 3).fill(-1);
    const out = stretchToPlanes(image, 4, 1, 1, { into: { data, width: 6, height: 3, x: 1, y: 1 } });
    expect(out).toBe(data);
    const row = (c: number, y: number) => Array.from(data.subarray(c * 18 + y * 6, c * 18 + y * 6 + 6));
    expect(row(0, 0)).toEqual([-1, -1, -1, -1, -1, -1]);
    expect(row(0, 1)).toEqual([-1, 0, 0.75, 2.25, 3, -1]);
    expect(row(2, 1)).toEqual([-1, 20, 20, 20, 20, -1]);
    expect(row(1, 2)).toEqual([-1, -1, -1, -1, -1, -1]);
  });
});
