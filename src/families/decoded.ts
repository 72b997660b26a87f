import type * as ort from 'onnxruntime-node';
import { ModelContractError } from '../util/errors.js';
import { resizeLogitMap } from '../masks/resize.js';
import type { MaskLogits } from '../masks/types.js';
import type { FamilyContract } from './contracts.js';
import type { CheckedDecoder } from './open-sessions.js';
import type { TensorMap } from './session.js';
import type { Size } from './types.js';

/** Masks and scores of one decoder run, before a family applies its choice rule. */
export interface RawDecoderResult {
  readonly logits: Float32Array[];
  readonly iou: number[];
  /** The low-resolution logits per mask, when the contract reads them. */
  readonly lowRes?: MaskLogits[];
}

/** The planes of a [..., k, H, W] tensor, one view per mask. */
function planes(tensor: ort.Tensor): Float32Array[] {
  const dims = tensor.dims;
  const plane = dims[dims.length - 2] * dims[dims.length - 1];
  const count = dims.slice(0, -2).reduce((a, b) => a * b, 1);
  const data = tensor.data as Float32Array;
  return Array.from({ length: count }, (_, i) => data.subarray(i * plane, (i + 1) * plane));
}

/**
 * Split a decoder's outputs into one logit map per mask. The families' decoders put the
 * masks on the last two axes at `orig_im_size`; checking that here catches an export that
 * ignores the requested size before a wrong-sized mask reaches a writer. A decoder that
 * returns only low-resolution logits has them resized to `size` here, as its upstream
 * predictor does.
 */
export function readDecoderOutputs(
  outputs: TensorMap,
  decoder: CheckedDecoder,
  contract: FamilyContract,
  size: Size,
): RawDecoderResult {
  const iouTensor = outputs[decoder.outputs.iou] as ort.Tensor;
  const path = decoder.session.path;
  const low = decoder.outputs.lowRes === undefined ? undefined : (outputs[decoder.outputs.lowRes] as ort.Tensor);
  let lowRes: MaskLogits[] | undefined;
  if (low) {
    const [lh, lw] = low.dims.slice(-2);
    lowRes = planes(low).map((data) => ({ width: lw, height: lh, data }));
  }
  const masks = decoder.outputs.masks === undefined ? low! : (outputs[decoder.outputs.masks] as ort.Tensor);
  const dims = masks.dims;
  const h = dims[dims.length - 2];
  const w = dims[dims.length - 1];
  if (decoder.outputs.masks !== undefined && (h !== size.height || w !== size.width)) {
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
  if (lowRes && lowRes.length !== count) {
    throw new ModelContractError(`${path}: decoder returned ${lowRes.length} low-resolution masks for ${count} masks`);
  }
  let logits = planes(masks);
  if (decoder.outputs.masks === undefined && (w !== size.width || h !== size.height)) {
    logits = logits.map((l) => resizeLogitMap(l, { width: w, height: h }, size));
  }
  return { logits, iou: Array.from(scores), ...(lowRes ? { lowRes } : {}) };
}

/** Index of the largest value among `indices` of `values` (first one on ties). */
export function argmaxAmong(values: readonly number[], indices: readonly number[]): number {
  let best = indices[0];
  for (const i of indices) if (values[i] > values[best]) best = i;
  return best;
}
