/**
 * Compact storage of a candidate's low-resolution logits between the filters and the final
 * rendering: only the window around the mask (its box plus one cell, every value a bilinear
 * upsampling can reach from a positive cell) and as 16-bit integers.
 *
 * Quantisation: steps of 1/256 logit, clamped to +-127.996. Rendering only needs the sign of
 * an interpolated value, and a step of 1/256 moves a zero crossing by at most 1/256 of a
 * cell divided by the logit difference across it, far below a pixel at any upsampling
 * factor. Signs are kept exactly: a positive logit never rounds to 0.
 */
import type { Size } from '../families/types.js';
import type { LogitWindow } from '../masks/resize.js';
import type { Xyxy } from './boxes.js';

/** Logits per integer step. */
export const LOGIT_QUANT_SCALE = 256;

/** Largest storable magnitude: 32767 steps. */
const MAX_LOGIT = 32767 / LOGIT_QUANT_SCALE;

/** A candidate's logits as stored: a window of the rendered map, quantised. */
export interface LowResLogits extends LogitWindow {
  readonly data: Int16Array;
}

/** Bytes held by a stored window (the budget's unit). */
export function lowResBytes(l: LowResLogits | null): number {
  return l ? l.data.byteLength : 0;
}

/**
 * Store the window of `logits` (row-major at `frame`) around `box` (inclusive, in the same
 * frame) plus one cell, quantised. An empty mask (`empty`) stores nothing: it renders empty.
 */
export function storeLowRes(logits: ArrayLike<number>, frame: Size, box: Readonly<Xyxy>, empty: boolean): LowResLogits {
  if (empty) return { frameWidth: frame.width, frameHeight: frame.height, x: 0, y: 0, width: 0, height: 0, data: new Int16Array(0) };
  const x0 = Math.max(0, box[0] - 1);
  const y0 = Math.max(0, box[1] - 1);
  const x1 = Math.min(frame.width - 1, box[2] + 1);
  const y1 = Math.min(frame.height - 1, box[3] + 1);
  const width = x1 - x0 + 1;
  const height = y1 - y0 + 1;
  const data = new Int16Array(width * height);
  for (let y = 0; y < height; y++) {
    const src = (y + y0) * frame.width + x0;
    const dst = y * width;
    for (let x = 0; x < width; x++) {
      const v = logits[src + x];
      // Round half away from zero by truncation; clamp first so the int conversion cannot wrap.
      const c = v > MAX_LOGIT ? MAX_LOGIT : v < -MAX_LOGIT ? -MAX_LOGIT : v;
      let q = (c * LOGIT_QUANT_SCALE + (c >= 0 ? 0.5 : -0.5)) | 0;
      if (v > 0 && q === 0) q = 1;
      // NaN logits become 0 (background), like a NaN fails `> 0`.
      data[dst + x] = q;
    }
  }
  return { frameWidth: frame.width, frameHeight: frame.height, x: x0, y: y0, width, height, data };
}
