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

/** How an encoder wants its image: the three published encoder inputs. */
export type EncoderInputLayout =
  /** EfficientSAM: [1, 3, H, W] RGB 0..1 at any size; the graph stretches to 1024x1024. */
  | 'nchw-unit-any-size'
  /** MobileSAM (Acly): [H, W, 3] RGB 0..255 resized to longest side 1024; the graph normalises and pads. */
  | 'hwc-resized-1024'
  /** SAM ViT-B (labelme): [1, 3, 1024, 1024] resized, normalised, then zero-padded by the caller. */
  | 'nchw-normalized-padded-1024'
  /**
   * SAM 2 (osam's and samexporter's exports): [1, 3, 1024, 1024], the image stretched to
   * 1024x1024 by the caller (antialiased bilinear, aspect not kept) and normalised with
   * ImageNet's mean and std on 0..1 values; the graph does no preprocessing.
   */
  | 'nchw-normalized-stretched-1024';

export interface EncoderContract {
  readonly layout: EncoderInputLayout;
  readonly input: TensorSpec;
}

/** One further encoder output and the key ImageEmbedding.extra holds it under. */
export interface ExtraEmbeddingSpec extends TensorSpec {
  /** The same for every export of the family, whatever the file names the tensor. */
  readonly key: string;
}

/**
 * What a decoder output is to samlite: the masks at `orig_im_size`, the predicted IoUs, or
 * the 256x256 low-resolution logits (kept for refinement and, for SAM 2, its mask choice).
 */
export type DecoderOutputRole = 'masks' | 'iou' | 'lowRes';

/** Everything one family fixes about its ONNX files. */
export interface FamilyContract {
  readonly family: PromptFamilyName;
  /** Accepted encoder variants; the one whose input matches the file is used. */
  readonly encoders: readonly EncoderContract[];
  /** The image embedding; the decoder takes it as the input of the same name. */
  readonly encoderOutput: TensorSpec;
  /**
   * Further encoder outputs the decoder takes as inputs of the same name (SAM 2's
   * high-resolution features), kept in ImageEmbedding.extra under their keys.
   */
  readonly encoderExtraOutputs?: readonly ExtraEmbeddingSpec[];
  readonly decoderInputs: readonly TensorSpec[];
  /**
   * The decoder outputs samlite reads, by role and name. Only these are checked: the
   * exports' other outputs are never read, and their names and shapes differ between
   * exporters. A contract whose decoder returns no `masks` (samexporter's SAM 2 export)
   * has them rendered from `lowRes` by samlite, with the upstream predictor's own resize.
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
  decoderOutputs: [
    { role: 'masks', name: 'masks', type: 'float32', dims: [1, null, null, null] },
    { role: 'iou', name: 'iou_predictions', type: 'float32', dims: [1, null] },
    // `low_res_masks` [1, k, 256, 256] (symbolic in the files): what SamPredictor feeds back
    // as `mask_input` to refine an answer.
    { role: 'lowRes', name: 'low_res_masks', type: 'float32', dims: [1, null, null, null] },
  ],
  maskCounts: [1, 4],
  maxPoints: Number.POSITIVE_INFINITY,
  supportsNegativePoints: true,
};

/** SAM 2's three encoder outputs, float32, as osam's files name them. */
const SAM2_EMBEDDING: TensorSpec = EMBEDDING;
const SAM2_HIGH_RES_1: TensorSpec = { name: 'high_res_features1', type: 'float32', dims: [1, 32, 256, 256] };
const SAM2_HIGH_RES_2: TensorSpec = { name: 'high_res_features2', type: 'float32', dims: [1, 64, 128, 128] };
/** SAM 2's prompt inputs, shared by both exports; one prompt set per run (num_labels 1). */
const SAM2_PROMPT_INPUTS: readonly TensorSpec[] = [
  { name: 'point_coords', type: 'float32', dims: [null, null, 2] },
  { name: 'point_labels', type: 'float32', dims: [null, null] },
  { name: 'mask_input', type: 'float32', dims: [null, 1, 256, 256] },
  { name: 'has_mask_input', type: 'float32', dims: [null] },
];

/**
 * SAM 2.1 as osam ships it (ryouchinsa/sam-cpp-macos `export_onnx.py`): the encoder
 * `<size>_preprocess.onnx` takes the preprocessed image (it does no preprocessing itself)
 * and returns the embedding and two high-resolution feature maps; the decoder returns all
 * four mask tokens at `orig_im_size` (int64) with their low-resolution logits, and leaves
 * the mask choice to the caller.
 */
export const SAM2_CONTRACT: FamilyContract = {
  family: 'sam2',
  encoders: [{ layout: 'nchw-normalized-stretched-1024', input: { name: 'input', type: 'float32', dims: [1, 3, 1024, 1024] } }],
  encoderOutput: SAM2_EMBEDDING,
  encoderExtraOutputs: [
    { ...SAM2_HIGH_RES_1, key: 'high_res_features1' },
    { ...SAM2_HIGH_RES_2, key: 'high_res_features2' },
  ],
  decoderInputs: [SAM2_EMBEDDING, SAM2_HIGH_RES_1, SAM2_HIGH_RES_2, ...SAM2_PROMPT_INPUTS, { name: 'orig_im_size', type: 'int64', dims: [2] }],
  // Every dim of masks and low_res_masks is symbolic in the export; iou_predictions fixes 4.
  decoderOutputs: [
    { role: 'masks', name: 'masks', type: 'float32', dims: [1, null, null, null] },
    { role: 'iou', name: 'iou_predictions', type: 'float32', dims: [1, null] },
    { role: 'lowRes', name: 'low_res_masks', type: 'float32', dims: [1, null, 256, 256] },
  ],
  maskCounts: [4],
  maxPoints: Number.POSITIVE_INFINITY,
  supportsNegativePoints: true,
};

/**
 * SAM 2.1 as samexporter exports it (X-AnyLabeling's files): other tensor names, no
 * `orig_im_size`, and a decoder that returns only the three multi-mask tokens' 256x256
 * logits (clamped to +-32), which samlite renders itself.
 */
export const SAM2_SAMEXPORTER_CONTRACT: FamilyContract = {
  family: 'sam2',
  encoders: [{ layout: 'nchw-normalized-stretched-1024', input: { name: 'image', type: 'float32', dims: [1, 3, 1024, 1024] } }],
  encoderOutput: { ...SAM2_EMBEDDING, name: 'image_embed' },
  encoderExtraOutputs: [
    { ...SAM2_HIGH_RES_1, name: 'high_res_feats_0', key: 'high_res_features1' },
    { ...SAM2_HIGH_RES_2, name: 'high_res_feats_1', key: 'high_res_features2' },
  ],
  decoderInputs: [
    { ...SAM2_EMBEDDING, name: 'image_embed' },
    { ...SAM2_HIGH_RES_1, name: 'high_res_feats_0' },
    { ...SAM2_HIGH_RES_2, name: 'high_res_feats_1' },
    ...SAM2_PROMPT_INPUTS,
  ],
  decoderOutputs: [
    { role: 'lowRes', name: 'masks', type: 'float32', dims: [1, null, 256, 256] },
    { role: 'iou', name: 'iou_predictions', type: 'float32', dims: [1, null] },
  ],
  maskCounts: [3],
  maxPoints: Number.POSITIVE_INFINITY,
  supportsNegativePoints: true,
};

/** The contract of each family, by name (SAM 2: osam's; see SAM2_SAMEXPORTER_CONTRACT for the other). */
export const FAMILY_CONTRACTS: Readonly<Record<PromptFamilyName, FamilyContract>> = {
  efficientsam: EFFICIENTSAM_CONTRACT,
  sam: SAM_CONTRACT,
  sam2: SAM2_CONTRACT,
};

/** SAM's ResizeLongestSide: scale so the longest side is `target`, rounding half up. */
export function resizeLongestSide(width: number, height: number, target = 1024): { width: number; height: number } {
  const scale = target / Math.max(width, height);
  return { width: Math.floor(width * scale + 0.5), height: Math.floor(height * scale + 0.5) };
}
