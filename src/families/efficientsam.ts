import * as ort from 'onnxruntime-node';
import { InputError } from '../util/errors.js';
import type { RgbImage } from '../image/types.js';
import { stretchToPlanes } from '../image/bilinear.js';
import type { Prompt } from '../prompts/types.js';
import { EFFICIENTSAM_CONTRACT } from './contracts.js';
import type { FamilyRules } from './adapter.js';
import { argmaxAmong } from './decoded.js';
import { scaledPromptPoints } from './prompt-points.js';

const contract = EFFICIENTSAM_CONTRACT;
/** The graph stretches every image to this square before its ViT. */
const MODEL_SIDE = 1024;
const CANDIDATES = [0, 1, 2] as const;
/** Side of the decoder's low-resolution mask logits. */
const LOW_RES_SIDE = 256;

/**
 * The image as the encoder's `batched_images`: [1, 3, H, W], RGB in 0..1.
 *
 * The graph stretches any size to 1024x1024 itself (torch bilinear, no antialiasing), so
 * an image with more pixels than that is stretched here first by the same rule: the graph's
 * resize is then the identity and the embedding the one the full image gives, while a
 * 12 MP photo no longer ships 36 M floats into the session.
 */
export async function efficientSamEncoderInput(image: RgbImage): Promise<ort.Tensor> {
  if (image.width * image.height > MODEL_SIDE * MODEL_SIDE) {
    return new ort.Tensor('float32', stretchToPlanes(image, MODEL_SIDE, MODEL_SIDE, 1 / 255), [1, 3, MODEL_SIDE, MODEL_SIDE]);
  }
  const { width: w, height: h, data } = image;
  const plane = w * h;
  const out = new Float32Array(3 * plane);
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    out[i] = data[p] / 255;
    out[plane + i] = data[p + 1] / 255;
    out[2 * plane + i] = data[p + 2] / 255;
  }
  return new ort.Tensor('float32', out, [1, 3, h, w]);
}

/**
 * Points and labels in the frame of `orig_im_size` (the render size): the graph rescales
 * x by 1024/W and y by 1024/H itself. Labels: 1 foreground, 2/3 box corners. No padding:
 * the graph pads to 6 points on its own.
 */
export function efficientSamPromptTensors(prompt: Prompt, image: { width: number; height: number }, render: { width: number; height: number }) {
  const sx = render.width / image.width;
  const sy = render.height / image.height;
  // No background points: EfficientSAM's rules refuse them before this runs.
  const { coords, labels } = scaledPromptPoints(prompt, sx, sy, ['points', 'box']);
  const n = labels.length;
  return {
    batched_point_coords: new ort.Tensor('float32', Float32Array.from(coords), [1, 1, n, 2]),
    batched_point_labels: new ort.Tensor('float32', Float32Array.from(labels), [1, 1, n]),
    orig_im_size: new ort.Tensor('int64', BigInt64Array.from([BigInt(render.height), BigInt(render.width)]), [2]),
  };
}

/** EfficientSAM (labelme's export): what sets it apart from the SAM family. */
export const EFFICIENTSAM_RULES: FamilyRules = {
  contract,
  // 2: images over 1 MP stretched by the graph's rule (torch bilinear), not Pillow's filter.
  inputRevision: 2,
  encoderInput: (image) => efficientSamEncoderInput(image),
  promptFeeds: efficientSamPromptTensors,
  // The three masks come unsorted: the best is the highest predicted IoU.
  choose: (_prompt, iou) => ({ best: argmaxAmong(iou, CANDIDATES), candidates: CANDIDATES }),
  // The graph stretches its 256x256 low-resolution logits straight to orig_im_size.
  maskGrid: () => ({ width: LOW_RES_SIDE, height: LOW_RES_SIDE }),
  // A prompt this family cannot honour is an error: the graph would silently ignore
  // background labels and every point after the sixth.
  checkPrompt(prompt, model) {
    if ((prompt.negPoints?.length ?? 0) > 0) {
      throw new InputError(
        `background points are not supported by ${model} (EfficientSAM was not trained with negative points); use a sam-family model such as mobilesam`,
      );
    }
    const n = (prompt.points?.length ?? 0) + (prompt.box ? 2 : 0);
    if (n > contract.maxPoints) throw new InputError(`${n} points (a box counts as 2) but ${model} reads at most ${contract.maxPoints}`);
  },
};
