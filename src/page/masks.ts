/**
 * Masks on the page: COCO RLE (as the API answers) painted into a canvas of the mask's own
 * size, in a colour, with its outline; the overlay scales it onto the displayed image.
 */
import { fromCocoRle } from '../masks/rle.js';
import type { CocoRle } from './api.js';

/** An RGB colour. */
export type Rgb = readonly [number, number, number];

/** Colours for accepted objects, far apart in hue; the current object is drawn in the first. */
export const PALETTE: readonly Rgb[] = [
  [59, 140, 255], [255, 99, 132], [75, 192, 120], [255, 179, 64], [170, 110, 255],
  [0, 200, 210], [240, 90, 210], [190, 210, 60], [255, 130, 80], [120, 160, 255],
];

/** A decoded mask: its size, its bytes (row-major, 1 = set) and its area. */
export interface PageMask {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  readonly area: number;
}

/** Decode COCO RLE (column-major runs) to a row-major mask. */
export function decodeMask(coco: CocoRle): PageMask {
  const rle = fromCocoRle(coco);
  const [h, w] = rle.size;
  const data = new Uint8Array(w * h);
  let pos = 0;
  let area = 0;
  for (let i = 0; i < rle.counts.length; i++) {
    const run = rle.counts[i];
    if (i % 2 === 1) {
      for (let p = pos; p < pos + run; p++) data[(p % h) * w + Math.floor(p / h)] = 1;
      area += run;
    }
    pos += run;
  }
  return { width: w, height: h, data, area };
}

/**
 * The mask as an RGBA canvas: `fill` at `alpha` inside, the boundary (set pixels with an
 * unset 4-neighbour) opaque, transparent outside.
 */
export function paintMask(mask: PageMask, colour: Rgb, alpha: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = mask.width;
  canvas.height = mask.height;
  const ctx = canvas.getContext('2d')!;
  const pixels = ctx.createImageData(mask.width, mask.height);
  const { width: w, height: h, data } = mask;
  const out = pixels.data;
  const a = Math.round(alpha * 255);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!data[i]) continue;
      const edge = x === 0 || y === 0 || x === w - 1 || y === h - 1 || !data[i - 1] || !data[i + 1] || !data[i - w] || !data[i + w];
      out[i * 4] = colour[0];
      out[i * 4 + 1] = colour[1];
      out[i * 4 + 2] = colour[2];
      out[i * 4 + 3] = edge ? 255 : a;
    }
  }
  ctx.putImageData(pixels, 0, 0);
  return canvas;
}
