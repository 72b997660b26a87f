import type { RgbImage } from '../image/types.js';
import type { MaskCrop } from '../masks/crop.js';

/** An sRGB colour, 0..255 per channel. */
export type Rgb = readonly [number, number, number];

/** A mutable RGB image the overlays paint on (interleaved, row-major, like RgbImage). */
export interface Canvas {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** A copy of `image` to paint on, leaving the decoded input untouched for other writers. */
export function canvasFrom(image: RgbImage): Canvas {
  return { width: image.width, height: image.height, data: Uint8Array.from(image.data) };
}

/**
 * Blend `colour` over the canvas where `map` (a crop-sized 0/1 map, the crop's own data by
 * default) is set: out = round(src * (1 - alpha) + colour * alpha). alpha 1 paints opaque.
 */
export function blendCrop(canvas: Canvas, crop: MaskCrop, colour: Rgb, alpha: number, map: Uint8Array = crop.data): void {
  const { width: W, height: H, data } = canvas;
  const keep = 1 - alpha;
  const [r, g, b] = colour;
  for (let y = 0; y < crop.height; y++) {
    const iy = y + crop.y;
    if (iy < 0 || iy >= H) continue;
    for (let x = 0; x < crop.width; x++) {
      if (map[y * crop.width + x] === 0) continue;
      const ix = x + crop.x;
      if (ix < 0 || ix >= W) continue;
      const o = (iy * W + ix) * 3;
      data[o] = Math.round(data[o] * keep + r * alpha);
      data[o + 1] = Math.round(data[o + 1] * keep + g * alpha);
      data[o + 2] = Math.round(data[o + 2] * keep + b * alpha);
    }
  }
}

/** Paint the pixels whose index (px, py) lies within `radius` of (cx, cy). */
export function fillDisc(canvas: Canvas, cx: number, cy: number, radius: number, colour: Rgb): void {
  const r2 = radius * radius;
  fillWhere(canvas, cx - radius, cy - radius, cx + radius, cy + radius, colour, (px, py) => (px - cx) ** 2 + (py - cy) ** 2 <= r2);
}

/** Paint the axis-aligned square of half-side `half` centred on pixel (cx, cy). */
export function fillSquare(canvas: Canvas, cx: number, cy: number, half: number, colour: Rgb): void {
  fillWhere(canvas, cx - half, cy - half, cx + half, cy + half, colour, () => true);
}

/**
 * Stroke the rectangle with corner pixels (x1, y1) and (x2, y2), `thickness` pixels wide,
 * drawn inside the corners so the line covers the box edge the user gave.
 */
export function strokeRect(
  canvas: Canvas,
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  thickness: number,
  colour: Rgb,
): void {
  const [ax, bx] = [Math.round(Math.min(x1, x2)), Math.round(Math.max(x1, x2))];
  const [ay, by] = [Math.round(Math.min(y1, y2)), Math.round(Math.max(y1, y2))];
  const t = Math.max(1, Math.round(thickness));
  fillWhere(canvas, ax, ay, bx, by, colour, (px, py) => px < ax + t || px > bx - t || py < ay + t || py > by - t);
}

function fillWhere(
  canvas: Canvas,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  colour: Rgb,
  inside: (px: number, py: number) => boolean,
): void {
  const { width: W, height: H, data } = canvas;
  const xa = Math.max(0, Math.ceil(x0));
  const xb = Math.min(W - 1, Math.floor(x1));
  const ya = Math.max(0, Math.ceil(y0));
  const yb = Math.min(H - 1, Math.floor(y1));
  for (let py = ya; py <= yb; py++) {
    for (let px = xa; px <= xb; px++) {
      if (!inside(px, py)) continue;
      const o = (py * W + px) * 3;
      data[o] = colour[0];
      data[o + 1] = colour[1];
      data[o + 2] = colour[2];
    }
  }
}

/**
 * Outline width in pixels for an image: 1 px up to ~900 px on the long side, growing with
 * the image so outlines stay visible when a 12 MP overlay is viewed scaled down.
 */
export function defaultOutlineWidth(width: number, height: number): number {
  return Math.max(1, Math.round(Math.max(width, height) / 600));
}

/**
 * Colour for mask `id` (1-based): hues stepped by the golden ratio, so masks with
 * neighbouring ids — often neighbouring objects — get far-apart hues, and a given id has
 * the same colour in every overlay.
 */
export function distinctColour(id: number): Rgb {
  const h = (id * 0.618033988749895) % 1;
  // Alternate two saturation/value pairs so hues that come close again still differ.
  const s = id % 2 === 0 ? 0.85 : 0.65;
  const v = id % 2 === 0 ? 0.95 : 0.85;
  return hsvToRgb(h, s, v);
}

function hsvToRgb(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const [r, g, b] = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][i % 6];
  return [Math.round(r * 255), Math.round(g * 255), Math.round(b * 255)];
}
