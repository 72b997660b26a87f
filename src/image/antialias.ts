/**
 * torch's antialiased bilinear resize (`interpolate(mode="bilinear", align_corners=False,
 * antialias=True)`, torchvision's default `Resize` of a tensor), the resize SAM 2's
 * preprocessing (SAM2Transforms) applies to the image as floats in 0..1. Pillow's triangle
 * filter in floating point: no rounding to bytes between the passes, unlike
 * {@link resizeRgb}, which reproduces Pillow's 8-bit result.
 */
import { triangleWeights } from './resize.js';
import type { RgbImage } from './types.js';

/** Per channel: output = resized 0..255 value * scale + offset. */
export interface ChannelAffine {
  readonly scale: readonly [number, number, number];
  readonly offset: readonly [number, number, number];
}

/**
 * Resize an RGB image to `width` x `height` with torch's antialiased bilinear filter and
 * return float32 planes [3, height, width] of `value * scale[c] + offset[c]` (value on the
 * 0..255 scale): the resize, the conversion to a tensor and a per-channel normalisation in
 * one pass. Separable, horizontal first as in Pillow and torch; the filter's weights sum
 * to 1, so normalising after resizing equals resizing the normalised image.
 */
export function antialiasToPlanes(image: RgbImage, width: number, height: number, affine: ChannelAffine): Float32Array {
  const { width: w, height: h, data } = image;
  const hx = triangleWeights(w, width);
  const vy = triangleWeights(h, height);
  // Horizontal pass: interleaved RGB, float32 as in torch.
  const rows = new Float32Array(h * width * 3);
  for (let y = 0; y < h; y++) {
    const src = y * w * 3;
    const dst = y * width * 3;
    for (let x = 0; x < width; x++) {
      const n = hx.count[x];
      const k0 = x * hx.size;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let i = 0, p = src + hx.start[x] * 3; i < n; i++, p += 3) {
        const k = hx.weights[k0 + i];
        r += data[p] * k;
        g += data[p + 1] * k;
        b += data[p + 2] * k;
      }
      const o = dst + x * 3;
      rows[o] = r;
      rows[o + 1] = g;
      rows[o + 2] = b;
    }
  }
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  const [sr, sg, sb] = affine.scale;
  const [or, og, ob] = affine.offset;
  const stride = width * 3;
  for (let y = 0; y < height; y++) {
    const n = vy.count[y];
    const k0 = y * vy.size;
    const base = vy.start[y] * stride;
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let i = 0, p = base + x * 3; i < n; i++, p += stride) {
        const k = vy.weights[k0 + i];
        r += rows[p] * k;
        g += rows[p + 1] * k;
        b += rows[p + 2] * k;
      }
      out[row + x] = r * sr + or;
      out[plane + row + x] = g * sg + og;
      out[2 * plane + row + x] = b * sb + ob;
    }
  }
  return out;
}
