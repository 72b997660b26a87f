import type { PromptFamilyName } from './types.js';

/** onnxruntime element type names used by the contracts. */
export type TensorType = 'float32' | 'int64';

/**
 * Expected signature of one tensor. `dims` lists the fixed sizes the contract requires;
 * `null` marks a dimension the export may leave symbolic (or fix to any value).
 */
export interface TensorSpec {
  readonly name: string;
  readonly type: TensorType;
  readonly dims: readonly (number | null)[];
}

/** What a decoder output holds: the masks, their predicted IoU, or their low-resolution logits. */
export type DecoderOutputRole = 'masks' | 'iou' | 'lowRes';

/** How an encoder wants its image: the three published encoder inputs. */
export type EncoderInputLayout =
  /** EfficientSAM: [1, 3, H, W] RGB 0..1 at any size; the graph stretches to 1024x1024. */
  | 'nchw-unit-any-size'
  /** MobileSAM (Acly): [H, W, 3] RGB 0..255 resized to longest side 1024; the graph normalises and pads. */
  | 'hwc-resized-1024'
  /** SAM ViT-B (labelme): [1, 3, 1024, 1024] resized, normalised, then zero-padded by the caller. */
  | 'nchw-normalized-padded-1024';

export interface EncoderContract {
  readonly layout: EncoderInputLayout;
  readonly input: TensorSpec;
}

/** Everything one family fixes about its ONNX files. */
export interface FamilyContract {
  readonly family: PromptFamilyName;
  /** Accepted encoder variants; the one whose input matches the file is used. */
  readonly encoders: readonly EncoderContract[];
  readonly encoderOutput: TensorSpec;
  readonly decoderInputs: readonly TensorSpec[];
  /**
   * The decoder outputs samlite reads, by role and name. Only these are checked. A family
   * whose decoder takes the previous answer back as a mask input lists its low-resolution
   * logits as `lowRes`; EfficientSAM's export has such an output too, but its decoder has
   * no mask input and the name is the exporter's own (`onnx::Shape_<n>`), so it is not read.
   */
  readonly decoderOutputs: readonly (TensorSpec & { readonly role: DecoderOutputRole })[];
  /**
   * Mask counts the decoder may return per run. The exports often leave the count symbolic
   * in their metadata: it is then checked on every run (and learned from the first where a
   * family's feeds depend on it).
   */
  readonly maskCounts: readonly number[];
  /** Most points the decoder looks at; more is an error, not silence. */
  readonly maxPoints: number;
  readonly supportsNegativePoints: boolean;
}

const EMBEDDING: TensorSpec = { name: 'image_embeddings', type: 'float32', dims: [1, 256, 64, 64] };

/** labelme's EfficientSAM export (efficientsam-ti, efficientsam-s). */
export const EFFICIENTSAM_CONTRACT: FamilyContract = {
  family: 'efficientsam',
  encoders: [{ layout: 'nchw-unit-any-size', input: { name: 'batched_images', type: 'float32', dims: [1, 3, null, null] } }],
  encoderOutput: EMBEDDING,
  decoderInputs: [
    EMBEDDING,
    { name: 'batched_point_coords', type: 'float32', dims: [1, 1, null, 2] },
    { name: 'batched_point_labels', type: 'float32', dims: [1, 1, null] },
    { name: 'orig_im_size', type: 'int64', dims: [2] },
  ],
  // The exporter names these two; the third output (the low-res logits, rank 4, named by
  // the exporter as onnx::Shape_<n>) is not read. The real files leave the mask axis
  // symbolic: 3 is checked on every run.
  decoderOutputs: [
    { role: 'masks', name: 'output_masks', type: 'float32', dims: [1, 1, null, null, null] },
    { role: 'iou', name: 'iou_predictions', type: 'float32', dims: [1, 1, null] },
  ],
  maskCounts: [3],
  maxPoints: 6,
  supportsNegativePoints: false,
};

/** Meta's SAM decoder export and the encoders published with it (mobilesam, sam-vit-b). */
export const SAM_CONTRACT: FamilyContract = {
  family: 'sam',
  encoders: [
    { layout: 'hwc-resized-1024', input: { name: 'input_image', type: 'float32', dims: [null, null, 3] } },
    { layout: 'nchw-normalized-padded-1024', input: { name: 'x', type: 'float32', dims: [1, 3, 1024, 1024] } },
  ],
  encoderOutput: EMBEDDING,
  decoderInputs: [
    EMBEDDING,
    { name: 'point_coords', type: 'float32', dims: [1, null, 2] },
    { name: 'point_labels', type: 'float32', dims: [1, null] },
    { name: 'mask_input', type: 'float32', dims: [1, 1, 256, 256] },
    { name: 'has_mask_input', type: 'float32', dims: [1] },
    { name: 'orig_im_size', type: 'float32', dims: [2] },
  ],
  // Every dim of `masks` is symbolic in the real files; `iou_predictions` fixes the mask
  // count (4 for MobileSAM's multi-mask export, 1 for the single-mask SAM ViT-B).
  // `low_res_masks` [1, k, 256, 256] (symbolic in the files) are what SamPredictor feeds
  // back as `mask_input` to refine an answer.
  decoderOutputs: [
    { role: 'masks', name: 'masks', type: 'float32', dims: [1, null, null, null] },
    { role: 'iou', name: 'iou_predictions', type: 'float32', dims: [1, null] },
    { role: 'lowRes', name: 'low_res_masks', type: 'float32', dims: [1, null, null, null] },
  ],
  maskCounts: [1, 4],
  maxPoints: Number.POSITIVE_INFINITY,
  supportsNegativePoints: true,
};

/** The contract of each family, by name. */
export const FAMILY_CONTRACTS: Readonly<Record<PromptFamilyName, FamilyContract>> = {
  efficientsam: EFFICIENTSAM_CONTRACT,
  sam: SAM_CONTRACT,
};

/** SAM's ResizeLongestSide: scale so the longest side is `target`, rounding half up. */
export function resizeLongestSide(width: number, height: number, target = 1024): { width: number; height: number } {
  const scale = target / Math.max(width, height);
  return { width: Math.floor(width * scale + 0.5), height: Math.floor(height * scale + 0.5) };
}
