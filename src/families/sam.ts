import * as ort from 'onnxruntime-node';
import type { RgbImage } from '../image/types.js';
import { resizeRgb } from '../image/resize.js';
import type { Prompt } from '../prompts/types.js';
import { SAM_CONTRACT, resizeLongestSide, type EncoderInputLayout } from './contracts.js';
import type { FamilyRules } from './adapter.js';
import { argmaxAmong } from './decoded.js';
import { scaledPromptPoints } from './prompt-points.js';
import type { Size } from './types.js';

const contract = SAM_CONTRACT;
const MODEL_SIDE = 1024;
/** SAM's pixel normalisation on 0..255 values. */
const PIXEL_MEAN = [123.675, 116.28, 103.53] as const;
const PIXEL_STD = [58.395, 57.12, 57.375] as const;

/**
 * The image as a SAM-family encoder wants it, for either published variant. Both first
 * resize the longest side to 1024 (ResizeLongestSide's rounding).
 */
export async function samEncoderInput(image: RgbImage, layout: EncoderInputLayout): Promise<ort.Tensor> {
  const target = resizeLongestSide(image.width, image.height, MODEL_SIDE);
  const resized =
    target.width === image.width && target.height === image.height ? image : await resizeRgb(image, target.width, target.height);
  const { width: w, height: h, data } = resized;
  if (layout === 'hwc-resized-1024') {
    // MobileSAM: HWC 0..255, no batch; the graph normalises and pads.
    // The constructor converts a typed array in one native pass (3x faster than .from).
    return new ort.Tensor('float32', new Float32Array(data), [h, w, 3]);
  }
  // SAM ViT-B: normalise, then zero-pad bottom/right to 1024x1024 (padding after
  // normalising, so the padding is 0 in normalised space, as in SAM's preprocess).
  const plane = MODEL_SIDE * MODEL_SIDE;
  const out = new Float32Array(3 * plane);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = (y * w + x) * 3;
      const q = y * MODEL_SIDE + x;
      out[q] = (data[p] - PIXEL_MEAN[0]) / PIXEL_STD[0];
      out[plane + q] = (data[p + 1] - PIXEL_MEAN[1]) / PIXEL_STD[1];
      out[2 * plane + q] = (data[p + 2] - PIXEL_MEAN[2]) / PIXEL_STD[2];
    }
  }
  return new ort.Tensor('float32', out, [1, 3, MODEL_SIDE, MODEL_SIDE]);
}

/**
 * Prompt tensors in the resized longest-side-1024 frame. Points first, then the box
 * corners (labels 2, 3); with no box, SAM expects one padding point (0, 0) labelled -1.
 * `orig_im_size` is the size masks are rendered at (float32 in this family).
 *
 * A single-mask export (`maskCount` 1) picks its mask by point count (`select_masks`): a
 * box alone is 2 points, for which the graph takes the best multi-mask candidate where
 * SamPredictor answers a box with the single-mask output. The padding point after the box
 * makes it 3 points and so that answer, as osam and labelme do. Multi-mask exports get the
 * box alone, which is exactly what SamPredictor feeds its decoder.
 */
export function samPromptTensors(prompt: Prompt, image: Size, render: Size, maskCount?: number) {
  const frame = resizeLongestSide(image.width, image.height, MODEL_SIDE);
  const sx = frame.width / image.width;
  const sy = frame.height / image.height;
  const { coords, labels } = scaledPromptPoints(prompt, sx, sy, ['points', 'negPoints', 'box']);
  if (!prompt.box || (maskCount === 1 && labels.length === 2)) {
    coords.push(0, 0);
    labels.push(-1);
  }
  const n = labels.length;
  return {
    point_coords: new ort.Tensor('float32', Float32Array.from(coords), [1, n, 2]),
    point_labels: new ort.Tensor('float32', Float32Array.from(labels), [1, n]),
    mask_input: new ort.Tensor('float32', new Float32Array(256 * 256), [1, 1, 256, 256]),
    has_mask_input: new ort.Tensor('float32', Float32Array.from([0]), [1]),
    orig_im_size: new ort.Tensor('float32', Float32Array.from([render.height, render.width]), [2]),
  };
}

/**
 * SAM's choice among a multi-mask export's 4 masks: a single click is ambiguous, so the
 * best of the three candidates (1..3) by predicted IoU; several points or a box pin the
 * object down, so the single-mask answer (0).
 */
export function samBestMask(prompt: Prompt, iou: readonly number[]): number {
  if (iou.length === 1) return 0;
  const clicks = (prompt.points?.length ?? 0) + (prompt.negPoints?.length ?? 0);
  return clicks === 1 && !prompt.box ? argmaxAmong(iou, [1, 2, 3]) : 0;
}

/** Meta's SAM decoder export with either published encoder (MobileSAM, SAM ViT-B). */
export const SAM_RULES: FamilyRules = {
  contract,
  inputRevision: 1,
  encoderInput: samEncoderInput,
  promptFeeds: samPromptTensors,
  choose: (prompt, iou) => ({ best: samBestMask(prompt, iou), candidates: iou.length === 1 ? [0] : [1, 2, 3] }),
  // The graph upsamples to 1024x1024, crops to the resized image, then resizes to orig_im_size.
  maskGrid: (image: Size) => resizeLongestSide(image.width, image.height, MODEL_SIDE),
  // Any number of foreground and background points and an optional box: all honoured.
  checkPrompt: () => {},
};
