/**
 * One detection's mask at the image's full resolution, the way ultralytics makes retina
 * masks (process_mask_native): logits = coefficients x prototypes, resized bilinearly
 * (scale_masks: torch, align_corners=False) from the prototype grid without its padding to
 * the image, kept only inside the detection's box (crop_mask), then > 0. Only the prototype
 * cells under the box are multiplied out and only the box is rendered, so a mask costs its
 * box, never the whole image.
 */
import type { Axis } from '../image/bilinear.js';
import { bilinearAxis } from '../image/bilinear.js';
import { bilinearPixelPositive, paintLogitWindow, upsampleLogitWindow, upsampleLogitWindowToRle, type LogitWindow, type WindowMask } from '../masks/resize.js';
import type { Rle } from '../masks/rle.js';
import { stabilityScore } from '../everything/stability.js';
import { PROTO_CHANNELS } from '../families/fastsam-layout.js';
import { detectionCount, type FastSamAnalysis } from './analysis.js';
import { roundHalfEven } from './letterbox.js';

/**
 * ultralytics' crop_mask keeps a mask's pixels inside its box in one of two ways, by the
 * number of detections: fewer than this, it rounds the box (torch.round, half to even) and
 * keeps [round(x1), round(x2)); from this many on, it compares pixel indices with the float
 * box, keeping x1 <= c < x2, which is [ceil(x1), ceil(x2)).
 */
export const CROP_ROUNDS_BELOW = 50;

/**
 * ultralytics resizes the logits with torch on float32 tensors: the renderer repeats torch's
 * float32 arithmetic, so pixels whose interpolated logit is within rounding of 0 come out as
 * in ultralytics. The logits themselves are summed over the 32 channels in order, each step
 * a float32 multiply-add, as torch's matmul does here (the Float32Array store rounds).
 */
const ARITHMETIC = 'torch-float32';

/** SAM's stability offset: the score compares the masks at logit cutoffs +1 and -1. */
const STABILITY_OFFSET = 1;

/** A detection's mask: the window of its box, and its stability score. */
export interface DetectionMask {
  /** Column-major window of the image; background outside it. */
  readonly window: WindowMask;
  /** Pixels in the mask. */
  readonly area: number;
  /**
   * SAM's stability score (pixels above logit +1 over pixels above -1), measured on the
   * prototype cells under the box rather than at full resolution.
   */
  readonly stability: number;
}

/** Renders the masks of one analysed image (the resize's axes are shared by its masks). */
export class DetectionMasks {
  private readonly ax: Axis;
  private readonly ay: Axis;

  constructor(readonly analysis: FastSamAnalysis) {
    const { image, protoSize } = analysis;
    this.ax = bilinearAxis(image.width, protoSize.width, 0, protoSize.width - 1, ARITHMETIC);
    this.ay = bilinearAxis(image.height, protoSize.height, 0, protoSize.height - 1, ARITHMETIC);
  }

  /**
   * The pixels detection `i`'s box keeps (crop_mask's rule, see {@link CROP_ROUNDS_BELOW}),
   * as half-open column and row ranges (empty when the box has no pixel).
   */
  boxPixels(i: number): { c0: number; r0: number; c1: number; r1: number } {
    const { boxes, image } = this.analysis;
    const edge = detectionCount(this.analysis) < CROP_ROUNDS_BELOW ? (v: number) => roundHalfEven(Math.max(v, 0)) : Math.ceil;
    const clip = (v: number, hi: number) => Math.min(Math.max(edge(v), 0), hi);
    return {
      c0: clip(boxes[4 * i], image.width),
      r0: clip(boxes[4 * i + 1], image.height),
      c1: clip(boxes[4 * i + 2], image.width),
      r1: clip(boxes[4 * i + 3], image.height),
    };
  }

  /** Detection `i`'s mask. */
  render(i: number): DetectionMask {
    const { c0, r0, c1, r1 } = this.boxPixels(i);
    const empty = { window: { x: c0, y: r0, width: 0, height: 0, data: new Uint8Array(0) }, area: 0, stability: 0 };
    const win = this.logitWindow(i);
    if (!win) return empty;
    const { image } = this.analysis;
    const window = cropWindow(upsampleLogitWindow(win, image.width, image.height, ARITHMETIC), c0, r0, c1, r1);
    let area = 0;
    for (let p = 0; p < window.data.length; p++) area += window.data[p];
    return { window, area, stability: stabilityScore(win.data, 0, STABILITY_OFFSET) };
  }

  /**
   * Detection `i`'s mask straight as the image's RLE, the same pixels as {@link render} at a
   * cost that follows the mask's outline, not its box (segment-everything's path).
   */
  renderRle(i: number): { rle: Rle; area: number; stability: number } {
    const { c0, r0, c1, r1 } = this.boxPixels(i);
    const { image } = this.analysis;
    const win = this.logitWindow(i);
    const crop = { x0: c0, y0: r0, x1: c1, y1: r1 };
    if (!win) return { rle: { size: [image.height, image.width], counts: Uint32Array.from([image.width * image.height]) }, area: 0, stability: 0 };
    return { ...upsampleLogitWindowToRle(win, image.width, image.height, crop, ARITHMETIC), stability: stabilityScore(win.data, 0, STABILITY_OFFSET) };
  }

  /**
   * Whether detection `i`'s mask ({@link render}) has the pixel (`x`, `y`), from the four
   * prototype cells around it alone: a click tests every detection this way and renders
   * only the ones it selects.
   */
  holds(i: number, x: number, y: number): boolean {
    const { c0, r0, c1, r1 } = this.boxPixels(i);
    if (x < c0 || x >= c1 || y < r0 || y >= r1) return false;
    const { ax, ay } = this;
    const [x0, x1, y0, y1] = [ax.i0[x], ax.i1[x], ay.i0[y], ay.i1[y]];
    return bilinearPixelPositive(this.logitAt(i, x0, y0), this.logitAt(i, x1, y0), this.logitAt(i, x0, y1), this.logitAt(i, x1, y1), ax.w1[x], ay.w1[y], ARITHMETIC);
  }

  /** Set detection `i`'s pixels ({@link render}'s) in `target`, a row-major mask of the image (a union of masks). */
  paint(i: number, target: Uint8Array): void {
    const win = this.logitWindow(i);
    if (!win) return;
    const { c0, r0, c1, r1 } = this.boxPixels(i);
    const { image } = this.analysis;
    paintLogitWindow(win, image.width, image.height, { x0: c0, y0: r0, x1: c1, y1: r1 }, target, ARITHMETIC);
  }

  /** Detection `i`'s logit at prototype cell (`x`, `y`), summed in the order and precision of {@link logits}. */
  private logitAt(i: number, x: number, y: number): number {
    const { coefficients, protos, protoSize } = this.analysis;
    const plane = protoSize.width * protoSize.height;
    const at = y * protoSize.width + x;
    let v = 0;
    for (let k = 0; k < PROTO_CHANNELS; k++) {
      const c = coefficients[PROTO_CHANNELS * i + k];
      if (c !== 0) v = Math.fround(v + c * protos[k * plane + at]);
    }
    return v;
  }

  /** The logits of the prototype cells detection `i`'s box pixels interpolate from; undefined for a box without pixels. */
  private logitWindow(i: number): (LogitWindow & { data: Float32Array }) | undefined {
    const { c0, r0, c1, r1 } = this.boxPixels(i);
    if (c1 <= c0 || r1 <= r0) return undefined;
    const sx0 = this.ax.i0[c0];
    const sx1 = this.ax.i1[c1 - 1];
    const sy0 = this.ay.i0[r0];
    const sy1 = this.ay.i1[r1 - 1];
    const { protoSize } = this.analysis;
    const width = sx1 - sx0 + 1;
    const height = sy1 - sy0 + 1;
    return { frameWidth: protoSize.width, frameHeight: protoSize.height, x: sx0, y: sy0, width, height, data: this.logits(i, sx0, sy0, width, height) };
  }

  /**
   * Row-major logits of detection `i` over prototype cells [x, x + w) x [y, y + h): each cell
   * summed over the channels in order, each step rounded to float32. Four channels per pass
   * over the window (a pass per channel cost as much memory traffic as arithmetic); the
   * roundings are the same.
   */
  private logits(i: number, x: number, y: number, w: number, h: number): Float32Array {
    const { coefficients, protos, protoSize } = this.analysis;
    const out = new Float32Array(w * h);
    const plane = protoSize.width * protoSize.height;
    const used: number[] = [];
    for (let k = 0; k < PROTO_CHANNELS; k++) if (coefficients[PROTO_CHANNELS * i + k] !== 0) used.push(k);
    const fr = Math.fround;
    let u = 0;
    for (; u + 4 <= used.length; u += 4) {
      const [k0, k1, k2, k3] = [used[u], used[u + 1], used[u + 2], used[u + 3]];
      const [c0, c1, c2, c3] = [k0, k1, k2, k3].map((k) => coefficients[PROTO_CHANNELS * i + k]);
      for (let r = 0; r < h; r++) {
        const at = (y + r) * protoSize.width + x;
        const p0 = k0 * plane + at;
        const p1 = k1 * plane + at;
        const p2 = k2 * plane + at;
        const p3 = k3 * plane + at;
        const to = r * w;
        for (let q = 0; q < w; q++) {
          let v = out[to + q];
          v = fr(v + c0 * protos[p0 + q]);
          v = fr(v + c1 * protos[p1 + q]);
          v = fr(v + c2 * protos[p2 + q]);
          out[to + q] = v + c3 * protos[p3 + q];
        }
      }
    }
    for (; u < used.length; u++) {
      const k = used[u];
      const c = coefficients[PROTO_CHANNELS * i + k];
      for (let r = 0; r < h; r++) {
        const from = k * plane + (y + r) * protoSize.width + x;
        const to = r * w;
        for (let q = 0; q < w; q++) out[to + q] += c * protos[from + q];
      }
    }
    return out;
  }
}

/** The part of `mask` inside [c0, c1) x [r0, r1) (which it must cover), as its own window. */
function cropWindow(mask: WindowMask, c0: number, r0: number, c1: number, r1: number): WindowMask {
  const width = c1 - c0;
  const height = r1 - r0;
  if (mask.x > c0 || mask.y > r0 || mask.x + mask.width < c1 || mask.y + mask.height < r1) {
    throw new Error(`FastSAM mask window ${mask.x},${mask.y} ${mask.width}x${mask.height} does not cover its box ${c0},${r0}-${c1},${r1}`);
  }
  if (width === mask.width && height === mask.height) return mask;
  const data = new Uint8Array(width * height);
  for (let x = 0; x < width; x++) {
    const from = (c0 + x - mask.x) * mask.height + (r0 - mask.y);
    data.set(mask.data.subarray(from, from + height), x * height);
  }
  return { x: c0, y: r0, width, height, data };
}
