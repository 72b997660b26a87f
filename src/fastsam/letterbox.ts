/**
 * FastSAM's input: the image scaled to fit the model's input with its aspect ratio kept,
 * centred, and padded with grey 114 (ultralytics' LetterBox), as RGB planes on 0..1.
 */
import { stretchToPlanes } from '../image/bilinear.js';
import type { RgbImage } from '../image/types.js';
import type { Size } from '../families/types.js';

/** The letterbox padding level, on 0..255. */
export const PAD_LEVEL = 114;

/** Where the scaled image sits inside the model input. */
export interface Letterbox {
  /** The model input. */
  readonly input: Size;
  /** The original image. */
  readonly image: Size;
  /** Scale from image to input pixels (ultralytics' gain r). */
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
 * ultralytics' LetterBox geometry (scale-up allowed, centred): gain = min(H/h, W/w), the
 * scaled size rounded, and the padding split with round(d - 0.1) before and the rest after,
 * so an odd remainder puts the extra pixel after.
 */
export function letterboxGeometry(image: Size, input: Size): Letterbox {
  const gain = Math.min(input.height / image.height, input.width / image.width);
  const scaled = {
    width: Math.max(1, Math.min(input.width, roundHalfEven(image.width * gain))),
    height: Math.max(1, Math.min(input.height, roundHalfEven(image.height * gain))),
  };
  const left = roundHalfEven((input.width - scaled.width) / 2 - 0.1);
  const top = roundHalfEven((input.height - scaled.height) / 2 - 0.1);
  return { input, image, gain, scaled, left, top };
}

/**
 * The model's input tensor data, float32 [3, H, W] RGB on 0..1: the image resized with
 * OpenCV's INTER_LINEAR rule (bilinear at half-pixel centres, no antialiasing, rounded to
 * whole levels as cv2 returns bytes) into a frame of grey 114.
 */
export function letterboxPlanes(image: RgbImage, box: Letterbox): Float32Array {
  const { width, height } = box.input;
  const data = new Float32Array(3 * width * height).fill(PAD_LEVEL / 255);
  return stretchToPlanes(image, box.scaled.width, box.scaled.height, 1 / 255, {
    round: true,
    into: { data, width, height, x: box.left, y: box.top },
  });
}

/** A box from input pixels back to image pixels, clipped to the image (ultralytics' scale_boxes). */
export function boxToImage(box: Letterbox, x1: number, y1: number, x2: number, y2: number): [number, number, number, number] {
  const { gain, image, input } = box;
  // scale_boxes recomputes the pad from the unrounded scaled size.
  const padX = roundHalfEven((input.width - image.width * gain) / 2 - 0.1);
  const padY = roundHalfEven((input.height - image.height * gain) / 2 - 0.1);
  const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  return [
    clip((x1 - padX) / gain, image.width),
    clip((y1 - padY) / gain, image.height),
    clip((x2 - padX) / gain, image.width),
    clip((y2 - padY) / gain, image.height),
  ];
}

/**
 * The part of a prototype grid of `protos` size that shows the image rather than the
 * padding (ultralytics' scale_masks: gain min(mh/h, mw/w), the padding halves rounded with
 * round(p - 0.1) before and round(p + 0.1) after). Half-open [x0, x1) x [y0, y1).
 */
export function protoWindow(box: Letterbox, protos: Size): { x0: number; y0: number; x1: number; y1: number } {
  const { image } = box;
  const gain = Math.min(protos.height / image.height, protos.width / image.width);
  const padX = (protos.width - image.width * gain) / 2;
  const padY = (protos.height - image.height * gain) / 2;
  const x0 = roundHalfEven(padX - 0.1);
  const y0 = roundHalfEven(padY - 0.1);
  const x1 = protos.width - roundHalfEven(padX + 0.1);
  const y1 = protos.height - roundHalfEven(padY + 0.1);
  // A sliver image can round its window away: keep at least one cell.
  return { x0, y0, x1: Math.max(x1, x0 + 1), y1: Math.max(y1, y0 + 1) };
}
