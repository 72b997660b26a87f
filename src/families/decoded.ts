import type * as ort from 'onnxruntime-node';
import { ModelContractError } from '../errors.js';
import type { FamilyContract } from './contracts.js';
import type { CheckedDecoder } from './open-sessions.js';
import type { TensorMap } from './session.js';
import type { MaskLogits } from '../masks/types.js';
import type { Size } from './types.js';

/** Masks and scores of one decoder run, before a family applies its choice rule. */
export interface RawDecoderResult {
  readonly logits: Float32Array[];
  readonly iou: number[];
  /** One low-resolution logit map per mask, when the contract reads them. */
  readonly lowRes?: MaskLogits[];
}

/**
 * Split a decoder's outputs into one logit map per mask. Both families put the masks on
 * the last two axes at `orig_im_size`; checking that here catches an export that ignores
 * the requested size before a wrong-sized mask reaches a writer.
 */
export function readDecoderOutputs(
  outputs: TensorMap,
  decoder: CheckedDecoder,
  contract: FamilyContract,
  size: Size,
): RawDecoderResult {
  const masks = outputs[decoder.outputs.masks] as ort.Tensor;
  const iouTensor = outputs[decoder.outputs.iou] as ort.Tensor;
  const dims = masks.dims;
  const h = dims[dims.length - 2];
  const w = dims[dims.length - 1];
  const path = decoder.session.path;
  if (h !== size.height || w !== size.width) {
    throw new ModelContractError(`${path}: decoder returned ${w}x${h} masks for orig_im_size ${size.width}x${size.height}`);
  }
  const count = dims.slice(0, -2).reduce((a, b) => a * b, 1);
  if (!contract.maskCounts.includes(count)) {
    throw new ModelContractError(
      `${path}: decoder returned ${count} masks, the ${contract.family} contract allows ${contract.maskCounts.join(' or ')}`,
    );
  }
  const scores = iouTensor.data as Float32Array;
  if (scores.length !== count) {
    throw new ModelContractError(`${path}: decoder returned ${scores.length} IoU predictions for ${count} masks`);
  }
  const data = masks.data as Float32Array;
  const plane = w * h;
  const logits: Float32Array[] = [];
  for (let i = 0; i < count; i++) logits.push(data.subarray(i * plane, (i + 1) * plane));
  const lowRes = decoder.outputs.lowRes === undefined ? undefined : splitLowRes(outputs[decoder.outputs.lowRes] as ort.Tensor, count, path);
  return { logits, iou: Array.from(scores), ...(lowRes ? { lowRes } : {}) };
}

/**
 * The low-resolution logits, one map per mask: the maps must pair with the masks, or a
 * refinement would feed back another mask's logits.
 */
function splitLowRes(tensor: ort.Tensor, count: number, path: string): MaskLogits[] {
  const dims = tensor.dims;
  const height = dims[dims.length - 2];
  const width = dims[dims.length - 1];
  const maps = dims.slice(0, -2).reduce((a, b) => a * b, 1);
  if (dims.length < 3 || maps !== count) {
    throw new ModelContractError(`${path}: decoder returned low-resolution logits of shape [${dims.join(', ')}] for ${count} masks`);
  }
  const data = tensor.data as Float32Array;
  const plane = width * height;
  // Views, like the masks' logits: each run's outputs are fresh buffers. A caller keeping a
  // map for long copies it (the server's refinement cache does).
  return Array.from({ length: count }, (_, i) => ({ width, height, data: data.subarray(i * plane, (i + 1) * plane) }));
}

/** Index of the largest value among `indices` of `values` (first one on ties). */
export function argmaxAmong(values: readonly number[], indices: readonly number[]): number {
  let best = indices[0];
  for (const i of indices) if (values[i] > values[best]) best = i;
  return best;
}
