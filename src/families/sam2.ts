import * as ort from 'onnxruntime-node';
import { antialiasToPlanes } from '../image/antialias.js';
import type { RgbImage } from '../image/types.js';
import type { MaskLogits } from '../masks/types.js';
import type { Prompt } from '../prompts/types.js';
import type { FamilyRules } from './adapter.js';
import { SAM2_CONTRACT, SAM2_SAMEXPORTER_CONTRACT } from './contracts.js';
import { argmaxAmong } from './decoded.js';
import { scaledPromptPoints } from './prompt-points.js';
import type { Size } from './types.js';

/** SAM 2's image side: the encoder sees every image stretched to 1024x1024. */
const MODEL_SIDE = 1024;
/** Side of the decoder's low-resolution logits, which the predictor resizes straight to the image. */
const LOW_RES_SIDE = 256;
/** SAM2Transforms' Normalize, on 0..1 values. */
const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;
/**
 * `build_sam2`'s post-processing (`dynamic_multimask_via_stability`): the single-mask token
 * is kept only when its low-resolution logits are stable under a +-0.05 cut-off (score at
 * least 0.98); otherwise the best multi-mask token answers.
 */
const STABILITY_DELTA = 0.05;
const STABILITY_THRESH = 0.98;
/** The multi-mask tokens of osam's 4-token decoder. */
const MULTIMASK_TOKENS = [1, 2, 3] as const;
/** samexporter's decoder returns only the multi-mask tokens. */
const SAMEXPORTER_TOKENS = [0, 1, 2] as const;

/**
 * The image as SAM 2's encoders want it (SAM2Transforms): stretched to 1024x1024 by
 * torch's antialiased bilinear resize, aspect not kept, then `(x / 255 - mean) / std` per
 * channel (not osam's `x / 255 - mean / std`).
 */
export async function sam2EncoderInput(image: RgbImage): Promise<ort.Tensor> {
  const scale = [0, 1, 2].map((c) => 1 / (255 * STD[c])) as [number, number, number];
  const offset = [0, 1, 2].map((c) => -MEAN[c] / STD[c]) as [number, number, number];
  const planes = antialiasToPlanes(image, MODEL_SIDE, MODEL_SIDE, { scale, offset });
  return new ort.Tensor('float32', planes, [1, 3, MODEL_SIDE, MODEL_SIDE]);
}

/**
 * Prompt tensors as SAM2ImagePredictor builds them: coordinates in the stretched 1024
 * frame (x * 1024 / width, y * 1024 / height), box corners first (labels 2, 3), then the
 * points (1 foreground, 0 background). No padding point: both exports' graphs append it
 * themselves, as the upstream prompt encoder does. `orig_im_size` (int64, osam's export
 * only) is the size masks are rendered at.
 */
export function sam2PromptTensors(prompt: Prompt, image: Size, render: Size): Record<string, ort.Tensor> {
  const sx = MODEL_SIDE / image.width;
  const sy = MODEL_SIDE / image.height;
  // osam's and SAM2ImagePredictor's order: the box's corners first, then the points.
  const { coords, labels } = scaledPromptPoints(prompt, sx, sy, ['box', 'points', 'negPoints']);
  const n = labels.length;
  return {
    point_coords: new ort.Tensor('float32', Float32Array.from(coords), [1, n, 2]),
    point_labels: new ort.Tensor('float32', Float32Array.from(labels), [1, n]),
    mask_input: new ort.Tensor('float32', new Float32Array(LOW_RES_SIDE * LOW_RES_SIDE), [1, 1, LOW_RES_SIDE, LOW_RES_SIDE]),
    has_mask_input: new ort.Tensor('float32', Float32Array.from([0]), [1]),
    orig_im_size: new ort.Tensor('int64', BigInt64Array.from([BigInt(render.height), BigInt(render.width)]), [2]),
  };
}

/** The mask decoder's stability score of one low-resolution logit map (1 when it is empty). */
export function sam2Stability(logits: MaskLogits): number {
  let inner = 0;
  let outer = 0;
  for (const v of logits.data) {
    if (v > STABILITY_DELTA) inner++;
    if (v > -STABILITY_DELTA) outer++;
  }
  return outer > 0 ? inner / outer : 1;
}

/**
 * Whether SAM2ImagePredictor answers `prompt` in multi-mask mode. Its `multimask_output`
 * is the caller's; samlite asks for it where SAM's own advice does: a single click is
 * ambiguous, so three candidates; several points or a box pin the object down, so the
 * single-mask answer.
 */
export function sam2Multimask(prompt: Prompt): boolean {
  const clicks = (prompt.points?.length ?? 0) + (prompt.negPoints?.length ?? 0);
  return clicks === 1 && !prompt.box;
}

/**
 * SAM2ImagePredictor's mask choice, made here because neither export makes it. osam's
 * 4-token decoder: multi-mask mode takes the best of tokens 1..3 by predicted IoU;
 * single-mask mode takes token 0 unless its low-resolution logits are unstable, then the
 * best of 1..3 (not osam's argmax over all four). `multimask` is the predictor's
 * `multimask_output`, by default chosen from the prompt (sam2Multimask). samexporter's
 * decoder has only tokens 1..3: the best of them whatever is asked, as its own client does.
 */
export function sam2Choose(
  prompt: Prompt,
  iou: readonly number[],
  lowRes?: readonly MaskLogits[],
  multimask = sam2Multimask(prompt),
): { best: number; candidates: readonly number[] } {
  if (iou.length === SAMEXPORTER_TOKENS.length) return { best: argmaxAmong(iou, SAMEXPORTER_TOKENS), candidates: SAMEXPORTER_TOKENS };
  const multi = argmaxAmong(iou, MULTIMASK_TOKENS);
  if (multimask) return { best: multi, candidates: MULTIMASK_TOKENS };
  if (!lowRes) throw new Error('SAM 2 mask choice: the decoder returned no low-resolution logits');
  return { best: sam2Stability(lowRes[0]) >= STABILITY_THRESH ? 0 : multi, candidates: MULTIMASK_TOKENS };
}

/** SAM 2.1 (osam's export, and samexporter's): what sets it apart from the SAM family. */
export const SAM2_RULES: FamilyRules = {
  contract: SAM2_CONTRACT,
  variants: [SAM2_SAMEXPORTER_CONTRACT],
  inputRevision: 1,
  encoderInput: (image) => sam2EncoderInput(image),
  promptFeeds: sam2PromptTensors,
  choose: sam2Choose,
  // The predictor resizes its 256x256 low-resolution logits straight to the image size.
  maskGrid: () => ({ width: LOW_RES_SIDE, height: LOW_RES_SIDE }),
  // Any number of foreground and background points and an optional box: all honoured.
  checkPrompt: () => {},
};
