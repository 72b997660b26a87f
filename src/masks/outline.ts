import type { MaskCrop } from './crop.js';

/**
 * The inner outline of a mask crop: foreground pixels that have a background pixel within
 * Chebyshev distance `thickness` (8-neighbourhood for thickness 1). Returns a 0/1 map the
 * size of the crop.
 *
 * The band lies inside the mask, so drawing it never covers a neighbouring object. Pixels
 * beyond the crop count as background: the crop is the mask's bounding box, and a mask
 * touching the image border gets an outline along the border too. Computed as a square
 * erosion done in two separable passes, so the cost does not grow with the thickness.
 */
export function maskOutline(crop: MaskCrop, thickness = 1): Uint8Array {
  const { width: w, height: h, data } = crop;
  const r = Math.max(1, Math.floor(thickness));
  const horizontal = erodeLines(data, w, h, 1, w, r);
  const eroded = erodeLines(horizontal, h, w, w, 1, r);
  const out = new Uint8Array(w * h);
  for (let i = 0; i < out.length; i++) out[i] = data[i] !== 0 && eroded[i] === 0 ? 1 : 0;
  return out;
}

/**
 * 1-D erosion with a window of radius `r` along `lines` lines of `length` pixels; `step`
 * moves along a line and `stride` from one line to the next. A pixel survives when every
 * pixel within `r` along the line is foreground and inside the crop.
 */
function erodeLines(
  src: Uint8Array,
  length: number,
  lines: number,
  step: number,
  stride: number,
  r: number,
): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let line = 0; line < lines; line++) {
    const base = line * stride;
    // Length of the foreground streak ending at each position, then the streak must reach
    // r pixels beyond the position: walking once from the left is enough.
    let streak = 0;
    for (let i = 0; i < length; i++) {
      streak = src[base + i * step] !== 0 ? streak + 1 : 0;
      // Position i - r survives when the streak ending at i covers [i - 2r, i].
      const c = i - r;
      if (c >= r && streak >= 2 * r + 1) out[base + c * step] = 1;
    }
  }
  return out;
}
