import type { RgbImage } from '../image/types.js';
import type { MaskLogits } from '../masks/types.js';
import type { Prompt } from '../prompts/types.js';

/**
 * The model families samlite runs (see docs/models.md): three prompt families,
 * an image encoder plus a mask decoder run per prompt, and FastSAM, one network whose single
 * pass gives every mask of the image.
 */
export type FamilyName = PromptFamilyName | 'fastsam';

/** The families whose image encoder runs once per image and whose mask decoder runs per prompt. */
export type PromptFamilyName = 'efficientsam' | 'sam' | 'sam2';

/** Width and height in pixels. */
export interface Size {
  readonly width: number;
  readonly height: number;
}

/**
 * An image embedding plus what is needed to decode prompts against it.
 * `data` is the encoder's `image_embeddings` output, float32 [1, 256, 64, 64].
 */
export interface ImageEmbedding {
  readonly family: FamilyName;
  /** Identifies the encoder that produced it (cache key part). */
  readonly modelKey: string;
  /** Size of the original (displayed-orientation) image the embedding was computed from. */
  readonly image: Size;
  readonly data: Float32Array;
  readonly dims: readonly number[];
  /**
   * Further encoder outputs the family's decoder needs besides `data`, by output name (SAM
   * 2's high-resolution features). Caches store and check them with `data`.
   */
  readonly extra?: Readonly<Record<string, EmbeddingTensor>>;
}

/** One float32 tensor of an embedding. */
export interface EmbeddingTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface DecodeOptions {
  /**
   * Size the decoder renders mask logits at, with the image's aspect ratio. Default: the
   * image size. Segment-everything asks for a small size (the decoder's `orig_im_size`)
   * and upsamples only the masks that survive its filters.
   */
  readonly renderSize?: Size;
  /**
   * A previous answer's low-resolution logits (`DecodedMasks.lowRes`), fed back as the
   * decoder's `mask_input` to refine it with new points: SamPredictor's iterative
   * refinement. Only for adapters with `acceptsMaskInput`.
   */
  readonly maskInput?: MaskLogits;
  /**
   * The answer mode to choose in, for a family with two (SAM 2's `multimask_output`): true,
   * the best multi-mask candidate; false, the single-mask answer. Default: the family's
   * rule for the prompt (a lone click multi-mask, anything else single-mask).
   */
  readonly multimask?: boolean;
}

/** Everything one decoder run returns, in a family-independent shape. */
export interface DecodedMasks {
  /** Size the logits are rendered at (the request's renderSize, or the image size). */
  readonly size: Size;
  /** One logit map per mask the decoder returned, row-major, `size.width * size.height`. */
  readonly logits: readonly Float32Array[];
  /** Predicted IoU per mask, same order as `logits`. */
  readonly iou: readonly number[];
  /** Index of the mask the family's rule picks for this prompt. */
  readonly best: number;
  /**
   * Indices of the masks that are real candidates (SAM multi-mask: 1..3; SAM single-mask: 0;
   * EfficientSAM: 0..2). Used by `--multimask` and by segment-everything.
   */
  readonly candidates: readonly number[];
  /**
   * The decoder's low-resolution logits per mask (same order as `logits`; 256x256 for SAM
   * and SAM 2), kept to refine an answer with `DecodeOptions.maskInput`. Undefined for a
   * family whose decoder has no mask input.
   */
  readonly lowRes?: readonly MaskLogits[];
}

/**
 * One model family over one pair of ONNX sessions. The pipeline talks only to this
 * interface; which family and encoder variant is behind it is read from the catalog entry
 * (or manifest) and from the sessions' metadata.
 */
export interface FamilyAdapter {
  readonly family: FamilyName;
  /** Human-readable model name, for messages. */
  readonly modelName: string;
  /**
   * Whether `decode` honours `DecodeOptions.maskInput` (the decoder takes a mask input and
   * returns `lowRes`): SamPredictor-style refinement is offered only then.
   */
  readonly acceptsMaskInput: boolean;
  /**
   * The keys of `ImageEmbedding.extra` its decoder needs (SAM 2's high-resolution
   * features; none for the other families): a cached embedding without them is not used.
   */
  readonly extraEmbeddingKeys?: readonly string[];
  /** Throws an InputError naming the prompt when this family cannot honour it. */
  checkPrompt(prompt: Prompt): void;
  /**
   * The grid the decoder's last step resizes to `orig_im_size` from (bilinear, torch's
   * align_corners=False): a render at this size, upsampled the same way, is the decoder's
   * own full-size render, so a large image need not be rendered at full size by the model.
   */
  maskGrid(image: Size): Size;
  /** Run the image encoder. */
  encode(image: RgbImage): Promise<ImageEmbedding>;
  /** Run the mask decoder for one prompt set (coordinates in original image pixels). */
  decode(embedding: ImageEmbedding, prompt: Prompt, options?: DecodeOptions): Promise<DecodedMasks>;
  /** Release the ONNX sessions. */
  dispose(): Promise<void>;
}
