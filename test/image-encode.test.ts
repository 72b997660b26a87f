import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeMaskPng, encodeMaskPng, encodePng } from '../src/image/encode.js';
import { loadImage } from '../src/image/load.js';
import { makeScene } from '../scripts/fixtures/index.js';

describe('encodePng', () => {
  it('round-trips RGB exactly', async () => {
    const { image } = makeScene({ width: 50, height: 30, seed: 2, shapes: 2 });
    const png = await encodePng(image);
    expect((await sharp(png).metadata()).format).toBe('png');
    expect(Buffer.from((await loadImage(png)).data).equals(Buffer.from(image.data))).toBe(true);
  });

  it('writes 1, 2 and 4 channels as grey, grey + alpha and RGBA', async () => {
    const data = (n: number) => Uint8Array.from({ length: 6 * n }, (_, i) => (i * 37) % 256);
    for (const [channels, space] of [[1, 'b-w'], [2, 'b-w'], [4, 'srgb']] as const) {
      const png = await encodePng({ width: 3, height: 2, channels, data: data(channels) });
      const meta = await sharp(png).metadata();
      expect([meta.channels, meta.space]).toEqual([channels, space]);
      // Decoded as sRGB(A): grey comes back in every colour channel, alpha last.
      const { data: rgb, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      const back: number[] = [];
      for (let i = 0; i < rgb.length; i += info.channels) {
        if (channels === 1) back.push(rgb[i]);
        else if (channels === 2) back.push(rgb[i], rgb[i + 3]);
        else back.push(rgb[i], rgb[i + 1], rgb[i + 2], rgb[i + 3]);
      }
      expect(back).toEqual([...data(channels)]);
    }
  });

  it('rejects a buffer of the wrong size', async () => {
    await expect(encodePng({ width: 3, height: 2, data: new Uint8Array(17) })).rejects.toThrow(RangeError);
  });
});

describe('mask PNGs', () => {
  it('write 0/255 grey and read back as 0/1', async () => {
    const mask = { width: 4, height: 2, data: new Uint8Array([0, 1, 1, 0, 1, 0, 0, 7]) };
    const png = await encodeMaskPng(mask);
    expect([...(await sharp(png).toColourspace('b-w').raw().toBuffer())]).toEqual([0, 255, 255, 0, 255, 0, 0, 255]);
    const back = await decodeMaskPng(png);
    expect([...back.data]).toEqual([0, 1, 1, 0, 1, 0, 0, 1]);
    expect([back.width, back.height]).toEqual([4, 2]);
  });
});
