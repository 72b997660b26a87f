/**
 * FastSAM's input as current ultralytics makes it (LetterBox in its predictor), and the way
 * back from the input to the image (scale_boxes, scale_masks): the image resized with
 * OpenCV's INTER_LINEAR to fit the frame with its aspect ratio kept, centred, padded with grey
 * 114, as RGB planes on 0..1. A model whose output batch axis is symbolic (a `dynamic=True`
 * export) gets the minimum rectangle instead of the whole frame: the padding only rounds each
 * side up to a multiple of the stride, as ultralytics' predictor does for such files.
 */
import { resizeLinearOpenCvRows } from '../image/opencv-linear.js';
import type { RgbImage } from '../image/types.js';
import type { Size } from '../families/types.js';

/** The letterbox padding level, on 0..255. */
export const PAD_LEVEL = 114;

/** The largest stride of a YOLOv8-seg network: a minimum-rectangle input is padded to its multiples. */
export const LETTERBOX_STRIDE = 32;

/** Where the scaled image sits inside the model input. */
export interface Letterbox {
  /** The model input (the whole frame, or the minimum rectangle). */
  readonly input: Size;
  /** The original image. */
  readonly image: Size;
  /** Scale from image to input pixels (ultralytics' ratio r). */
  readonly gain: number;
  /** Size of the scaled image inside the input. */
  readonly scaled: Size;
  /** Padding left of and above the scaled image. */
  readonly left: number;
  readonly top: number;
}

/** Python's round(): halves go to the even neighbour (ultralytics' geometry is written with it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // + 0 turns -0 into 0.
  return (Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r) + 0;
}

/**
 * ultralytics' LetterBox geometry (scale-up allowed, centred): r = min(H/h, W/w), the scaled
 * size round(w r) x round(h r), the padding d per axis (the rest of the frame, or with
 * `minimumRectangle` that rest modulo the stride), split as round(d/2 - 0.1) before and
 * round(d/2 + 0.1) after, so an odd d puts the extra pixel after.
 */
export function letterboxGeometry(image: Size, frame: Size, minimumRectangle = false): Letterbox {
  const gain = Math.min(frame.height / image.height, frame.width / image.width);
  // ultralytics lets a sliver image round a side to 0, which OpenCV then refuses; keep one pixel.
  const scaled = {
    width: Math.max(1, Math.min(frame.width, roundHalfEven(image.width * gain))),
    height: Math.max(1, Math.min(frame.height, roundHalfEven(image.height * gain))),
  };
  const pad = (rest: number) => (minimumRectangle ? rest % LETTERBOX_STRIDE : rest) / 2;
  const dw = pad(frame.width - scaled.width);
  const dh = pad(frame.height - scaled.height);
  const left = roundHalfEven(dw - 0.1);
  const top = roundHalfEven(dh - 0.1);
  const input = { width: scaled.width + left + roundHalfEven(dw + 0.1), height: scaled.height + top + roundHalfEven(dh + 0.1) };
  return { input, image: { width: image.width, height: image.height }, gain, scaled, left, top };
}

/**
 * The model's input tensor data, float32 [3, H, W] RGB on 0..1, exactly as ultralytics
 * builds it: the image resized by OpenCV's INTER_LINEAR (see image/opencv-linear.ts) into a
 * frame of grey 114, each byte divided by 255 in float32. One pass: each resized row goes
 * into the planes as it is made, and only the padding is filled with grey. `into`, when big
 * enough, holds the planes (a fresh view over its start) instead of a new allocation.
 */
export function letterboxPlanes(image: RgbImage, box: Letterbox, into?: ArrayBuffer): Float32Array {
  const { width, height } = box.input;
  const { width: sw, height: sh } = box.scaled;
  const { left, top } = box;
  const plane = width * height;
  // Every value is written below (padding and image), so a reused buffer needs no clearing.
  const data = into && into.byteLength >= 12 * plane ? new Float32Array(into, 0, 3 * plane) : new Float32Array(3 * plane);
  // Division, not a multiplication by 1/255: torch divides, and the two differ in the last bit.
  const level = new Float32Array(256);
  for (let v = 0; v < 256; v++) level[v] = v / 255;
  const grey = level[PAD_LEVEL];
  for (let c = 0; c < 3; c++) {
    const base = c * plane;
    data.fill(grey, base, base + top * width);
    data.fill(grey, base + (top + sh) * width, base + plane);
    for (let y = top; y < top + sh; y++) {
      data.fill(grey, base + y * width, base + y * width + left);
      data.fill(grey, base + y * width + left + sw, base + (y + 1) * width);
    }
  }
  resizeLinearOpenCvRows(image, sw, sh, (y, px) => {
    const o = (y + top) * width + left;
    for (let x = 0, p = 0; x < sw; x++, p += 3) {
      data[o + x] = level[px[p]];
      data[plane + o + x] = level[px[p + 1]];
      data[2 * plane + o + x] = level[px[p + 2]];
    }
  });
  return data;
}

/**
 * A box from input pixels back to image pixels, clipped to the image, in float32 as
 * ultralytics' scale_boxes computes it on its tensors: gain min(H/h, W/w) of the input
 * actually fed, padding round((W - round(w gain)) / 2 - 0.1), then (v - pad) / gain.
 */
export function boxToImage(box: Letterbox, x1: number, y1: number, x2: number, y2: number): [number, number, number, number] {
  const { image, input } = box;
  const gain = Math.min(input.height / image.height, input.width / image.width);
  const padX = roundHalfEven((input.width - roundHalfEven(image.width * gain)) / 2 - 0.1);
  const padY = roundHalfEven((input.height - roundHalfEven(image.height * gain)) / 2 - 0.1);
  const g = Math.fround(gain);
  const to = (v: number, pad: number, hi: number) => Math.min(Math.max(Math.fround(Math.fround(v - pad) / g), 0), hi);
  return [to(x1, padX, image.width), to(y1, padY, image.height), to(x2, padX, image.width), to(y2, padY, image.height)];
}

/**
 * The part of a prototype grid of `protos` size that shows the image rather than the
 * padding (ultralytics' scale_masks): gain min(mh/h, mw/w), padding p = (mw - round(w gain)) / 2
 * per axis, cut round(p - 0.1) before and round(p + 0.1) after. Half-open [x0, x1) x [y0, y1).
 */
export function protoWindow(box: Letterbox, protos: Size): { x0: number; y0: number; x1: number; y1: number } {
  const { image } = box;
  if (protos.width === image.width && protos.height === image.height) {
    // scale_masks leaves a grid of the image's own size as it is (padding and all).
    return { x0: 0, y0: 0, x1: protos.width, y1: protos.height };
  }
  const gain = Math.min(protos.height / image.height, protos.width / image.width);
  const padX = (protos.width - roundHalfEven(image.width * gain)) / 2;
  const padY = (protos.height - roundHalfEven(image.height * gain)) / 2;
  const x0 = roundHalfEven(padX - 0.1);
  const y0 = roundHalfEven(padY - 0.1);
  const x1 = protos.width - roundHalfEven(padX + 0.1);
  const y1 = protos.height - roundHalfEven(padY + 0.1);
  // A sliver image can round its window away: keep at least one cell.
  return { x0, y0, x1: Math.max(x1, x0 + 1), y1: Math.max(y1, y0 + 1) };
}
