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
      // Walk the run down its columns: no division per pixel.
      let x = Math.floor(pos / h);
      let y = pos - x * h;
      for (let left = run; left > 0; ) {
        const take = Math.min(left, h - y);
        for (let k = 0, at = y * w + x; k < take; k++, at += w) data[at] = 1;
        left -= take;
        x++;
        y = 0;
      }
      area += run;
    }
    pos += run;
  }
  return { width: w, height: h, data, area };
}

/** How a mask's border is drawn. */
export type Outline =
  /** In the fill colour, opaque: tells accepted objects apart. */
  | 'colour'
  /**
   * A white line on the border and a dark one just inside: the mask being made stands out
   * on any background, even a blue mask over a blue object.
   */
  | 'contrast';

const WHITE: Rgb = [255, 255, 255];
const DARK: Rgb = [16, 19, 26];

/**
 * The mask as an RGBA canvas: `fill` at `alpha` inside, its border drawn as `outline` says,
 * transparent outside. `into` is a canvas to paint over (reused between hover answers, so
 * the page does not make a canvas per mouse move).
 */
export function paintMask(mask: PageMask, colour: Rgb, alpha: number, outline: Outline = 'colour', into?: HTMLCanvasElement): HTMLCanvasElement {
  const canvas = into ?? document.createElement('canvas');
  if (canvas.width !== mask.width || canvas.height !== mask.height) {
    canvas.width = mask.width;
    canvas.height = mask.height;
  }
  const ctx = canvas.getContext('2d')!;
  const pixels = ctx.createImageData(mask.width, mask.height);
  const { width: w, height: h, data } = mask;
  const out = pixels.data;
  const a = Math.round(alpha * 255);
  // 1: the border (a set pixel with an unset 4-neighbour or on the image's edge).
  const border = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0, i = y * w; x < w; x++, i++) {
      if (data[i] && (x === 0 || y === 0 || x === w - 1 || y === h - 1 || !data[i - 1] || !data[i + 1] || !data[i - w] || !data[i + w])) border[i] = 1;
    }
  }
  const set = (i: number, c: Rgb, alphaByte: number) => {
    out[i * 4] = c[0];
    out[i * 4 + 1] = c[1];
    out[i * 4 + 2] = c[2];
    out[i * 4 + 3] = alphaByte;
  };
  for (let y = 0; y < h; y++) {
    for (let x = 0, i = y * w; x < w; x++, i++) {
      if (!data[i]) continue;
      if (border[i]) set(i, outline === 'contrast' ? WHITE : colour, 255);
      else if (outline === 'contrast' && ((x > 0 && border[i - 1]) || (x < w - 1 && border[i + 1]) || (y > 0 && border[i - w]) || (y < h - 1 && border[i + w]))) set(i, DARK, 255);
      else set(i, colour, a);
    }
  }
  ctx.putImageData(pixels, 0, 0);
  return canvas;
}
