/**
 * resizeLinearOpenCv against cv2.resize(INTER_LINEAR) itself: each case's image comes from a
 * seeded mulberry32 stream (byte = next & 255) that the conformance kit's Python generator
 * repeats, and the expected value is the sha256 of OpenCV's output for it (opencv-python
 * 5.0.0, ../shared/conformance/fastsam/opencv_resize_cases.py). Upscales, downscales, one-pixel
 * sides, non-uniform aspect changes, a pure row resize and the 2:1 INTER_AREA path.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resizeLinearOpenCv } from '../src/image/opencv-linear.js';
import { letterboxPlanes, PAD_LEVEL, type Letterbox } from '../src/fastsam/letterbox.js';

/** [seed, from width, from height, to width, to height, sha256 of cv2's result]. */
const CASES: [number, number, number, number, number, string][] = [
  [1, 1, 1, 5, 3, '293a34a5b0bfb36bfc979cb91d592fb354924014427241c3e843a9d5872c0311'],
  [2, 3, 1, 640, 213, 'f3eb97648388cd7723a9a4779b02222766290d260f9acd0cc5203f107c7d4392'],
  [3, 7, 5, 3, 2, '64edcc2d85abec3b43a49147b6e52d9fde8dc2252068c87a9c1bc4a0dbbbcc21'],
  [4, 40, 30, 20, 15, 'fa87a2ed0915b50b051cfe82f8cbf5449ee14df95a9a1f852021bbd60b8019bd'],
  [5, 37, 23, 64, 40, '0aad2af33ed062688ef5a7bbd6b39ffc2e249c1036ddd848c1c16739ca27a1f4'],
  [6, 200, 133, 97, 65, 'ed5d64aa109842ba7458facb11035a7b25f137147156c41f900de6a55a71dfb1'],
  [7, 33, 77, 14, 32, '01007b4e1617a746d031c2b38d413256852fbd197971eebb182e169251544e75'],
  [8, 120, 90, 1024, 768, 'cf0de9b97b90f870f72a5ab9034d8c5ebf1eb70f4ee147c42b1fd0c4f2d30171'],
  [9, 256, 255, 640, 638, '8da9e63f4d46b778575cff9b5ccfc28ee0cd11397d8404e15a5820eea3c85dbd'],
  [10, 300, 200, 301, 201, '32478e6aaba11aa757cb2e0d4c7b23d0d0940dd05434442f6bd150daab2767b9'],
  [11, 5, 300, 1, 64, '1ecc91ccb12c140ed497a05d329a8f7f668a0d4f68d8fd168713d1ce6a7e1a64'],
  [12, 300, 5, 64, 1, '4208f1c32326259f5c5e3ea47666cc5cd405a7e19212d6f43d210321cd3061ee'],
  [13, 97, 131, 640, 864, '3c80c67014c059e26216ab5c57fee0c82ceec864d068fd33568795bc03d56720'],
  [14, 64, 48, 64, 20, '1a27273729af6820bb141252ed13af19b102d946985231972e774f7dd076d542'],
  [15, 80, 60, 40, 30, '0ce45b599e4d78639f05bd476bb4b85992ec4f5ab69926a1f02096f2d1bef329'],
];

/** mulberry32 seeded directly (the kit's generator does the same), one byte per draw. */
function image(seed: number, width: number, height: number) {
  let a = seed >>> 0;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    data[i] = ((t ^ (t >>> 14)) >>> 0) & 255;
  }
  return { width, height, data };
}

describe('resizeLinearOpenCv', () => {
  it.each(CASES)('seed %i: %ix%i -> %ix%i equals cv2.resize INTER_LINEAR', (seed, w, h, W, H, sha) => {
    const out = resizeLinearOpenCv(image(seed, w, h), W, H);
    expect([out.width, out.height]).toEqual([W, H]);
    expect(createHash('sha256').update(out.data).digest('hex')).toBe(sha);
  });

  it('returns a copy at the same size and refuses a side that is not a whole positive number', () => {
    const src = image(99, 4, 3);
    const same = resizeLinearOpenCv(src, 4, 3);
    expect(same.data).toEqual(src.data);
    expect(same.data).not.toBe(src.data);
    expect(() => resizeLinearOpenCv(src, 0, 3)).toThrow(/whole positive/);
    expect(() => resizeLinearOpenCv(src, 2.5, 3)).toThrow(/whole positive/);
  });
});

describe("FastSAM's letterbox planes", () => {
  // letterboxPlanes resizes row by row straight into the float planes: the bytes under the
  // planes must still be cv2's, each divided by 255 in float32, and the frame grey 114.
  it.each(CASES)('seed %i: %ix%i -> %ix%i placed in a grey frame holds cv2.resize INTER_LINEAR / 255', (seed, w, h, W, H, sha) => {
    const [left, top, right, bottom] = [seed % 3, (seed * 7) % 4, (seed * 5) % 3, seed % 2];
    const input = { width: W + left + right, height: H + top + bottom };
    const box: Letterbox = { input, image: { width: w, height: h }, gain: W / w, scaled: { width: W, height: H }, left, top };
    const planes = letterboxPlanes(image(seed, w, h), box);
    const plane = input.width * input.height;
    const bytes = new Uint8Array(W * H * 3);
    const grey = Math.fround(PAD_LEVEL / 255);
    let greyWrong = 0;
    let notLevel = 0;
    for (let y = 0; y < input.height; y++) {
      for (let x = 0; x < input.width; x++) {
        const inside = x >= left && x < left + W && y >= top && y < top + H;
        for (let c = 0; c < 3; c++) {
          const v = planes[c * plane + y * input.width + x];
          if (!inside) greyWrong += v === grey ? 0 : 1;
          else {
            const b = Math.round(v * 255);
            if (v !== Math.fround(b / 255)) notLevel++;
            bytes[((y - top) * W + x - left) * 3 + c] = b;
          }
        }
      }
    }
    expect([greyWrong, notLevel]).toEqual([0, 0]);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(sha);
  });
});
