/**
 * The seam between the Segmenter and the two shapes of model it runs. A prompt family (SAM,
 * EfficientSAM) encodes the image once and decodes every prompt; FastSAM runs one network
 * once and answers prompts by choosing among the masks it found. Everything above this
 * seam (the Segmenter, its caches, the CLI and the writers) is the same for both.
 */
import { UsageError } from '../util/errors.js';
import type { EverythingResult, GenerateMasksOptions } from '../everything/generator.js';
import type { FamilyAdapter, FamilyName, ImageEmbedding } from '../families/types.js';
import type { OpenOptions } from '../families/open-sessions.js';
import type { FastSamEverythingResult } from '../fastsam/everything.js';
import type { FastSamSettingsInput } from '../fastsam/settings.js';
import type { RgbImage } from '../image/types.js';
import { maskToRle, type Rle } from '../masks/rle.js';
import type { BinaryMask, MaskLogits } from '../masks/types.js';
import type { Prompt } from '../prompts/types.js';
import type { FilesByRole, ModelRole } from '../store/types.js';

/** A model ready to open: its name, family and the paths of its ONNX files by role. */
export interface ModelToOpen {
  readonly name: string;
  readonly family: FamilyName;
  /** encoder and decoder for a prompt family; model for FastSAM. */
  readonly files: FilesByRole<string>;
  /**
   * FastSAM only: the input side the model's manifest or catalog entry states, for a file
   * that leaves its input size symbolic.
   */
  readonly imgsz?: number;
}

/** Options for opening any model. */
export interface PipelineOptions extends OpenOptions {
  /** FastSAM's detection settings (confidence, NMS, detections, input size); ignored by other families. */
  readonly fastsam?: FastSamSettingsInput;
}

/**
 * Most masks a `multimask` answer holds, the family's pick first: SAM and EfficientSAM
 * answer with three candidates, FastSAM with up to three, a single-mask SAM export with one.
 */
export const MULTIMASK_CANDIDATES = 3;

/** One mask of a prompt's answer, at the image's full resolution. */
export interface PromptMask {
  /**
   * Index of this mask among the model's outputs: the decoder's mask index, or for FastSAM
   * the detection's rank by score (of the highest-scored detection in a merged mask).
   */
  readonly index: number;
  readonly mask: BinaryMask;
  /**
   * The same mask as column-major RLE (what the JSON records and datasets hold). Both forms
   * are made on first use, so a caller that reads only one never pays for the other.
   */
  readonly rle: Rle;
  /** The model's predicted IoU for this mask; for FastSAM, the detector's score. */
  readonly predictedIou: number;
  /**
   * The decoder's low-resolution logits of this mask, for a model that refines answers
   * (`FamilyAdapter.acceptsMaskInput`): pass them as `SegmentOptions.maskInput` with the
   * next prompt. Undefined for other models.
   */
  readonly lowRes?: MaskLogits;
}

/**
 * A PromptMask whose `mask` and `rle` are each made on first read, by `make.mask` and
 * `make.rle` (default: the RLE of the mask). A server answering with records never
 * thresholds a full-size mask into bytes; a writer of PNGs only never run-length encodes.
 */
export function lazyPromptMask(
  fields: Omit<PromptMask, 'mask' | 'rle'>,
  make: { readonly mask: () => BinaryMask; readonly rle?: () => Rle },
): PromptMask {
  let mask: BinaryMask | undefined;
  let rle: Rle | undefined;
  return {
    ...fields,
    get mask() {
      return (mask ??= make.mask());
    },
    get rle() {
      return (rle ??= make.rle ? make.rle() : maskToRle(this.mask));
    },
  };
}

/** What one prompt set produced. */
export interface SegmentResult {
  /** The mask the family's rule picks. */
  readonly best: PromptMask;
  /** Every candidate mask (with `multimask`), best included; otherwise just `[best]`. */
  readonly masks: readonly PromptMask[];
}

export interface SegmentOptions {
  /** Return every candidate mask with its score, not only the best. */
  readonly multimask?: boolean;
  /**
   * A previous answer's `lowRes`, fed to the decoder as its mask input to refine that
   * answer with this (fuller) prompt: SamPredictor's iterative refinement. Only for models
   * that accept one (`Segmenter.refines`); others throw an InputError.
   */
  readonly maskInput?: MaskLogits;
  /**
   * Render the masks at this size instead of the image's (a preview: the decoder's cost
   * grows with the size it renders at). Prompt families only; FastSAM's masks, chosen among
   * those its one pass found, come at the image's size.
   */
  readonly renderSize?: { readonly width: number; readonly height: number };
  /**
   * Answer with the model's mask of this index (`PromptMask.index`, one of the candidates)
   * instead of the family's choice: a person cycling through the candidates.
   */
  readonly maskIndex?: number;
}

/**
 * What segment-everything returns: the masks, and statistics whose shape depends on the
 * pipeline (FastSAM's have `family: 'fastsam'`).
 */
export type EverythingRun = EverythingResult | FastSamEverythingResult;

/** How one opened model turns images and prompts into masks. */
export interface FamilyPipeline {
  readonly family: FamilyName;
  readonly modelName: string;
  /**
   * What a mask's score (`predictedIou`) is for this family, for messages: the decoder's
   * predicted IoU, or FastSAM's detection score.
   */
  readonly scoreName: string;
  /**
   * Identifies the model file and the settings the per-image pass depends on, for cache
   * keys: a replaced file or other settings must not serve stale results.
   */
  readonly cacheIdentity: string;
  /** The encoder/decoder adapter of a prompt family; undefined for FastSAM. */
  readonly adapter: FamilyAdapter | undefined;
  /** Throws an InputError naming the prompt when this family cannot honour it. */
  checkPrompt(prompt: Prompt): void;
  /**
   * The per-image pass that prompts are answered from and that is worth caching: the image
   * embedding, or FastSAM's detections and prototypes.
   */
  analyse(image: RgbImage): Promise<ImageEmbedding>;
  /** Answer one prompt set (already checked) from `analysis` of `image`. */
  answer(analysis: ImageEmbedding, image: RgbImage, prompt: Prompt, options: SegmentOptions): Promise<SegmentResult>;
  /** Every mask of `image`; options this family has no use for are a UsageError. */
  everything(image: RgbImage, options: GenerateMasksOptions): Promise<EverythingRun>;
  /** Release the ONNX sessions. */
  dispose(): Promise<void>;
}

/** The path of `model`'s file in `role`, or a UsageError saying the model lacks it. */
export function modelFile(model: ModelToOpen, role: ModelRole): string {
  const path = model.files[role];
  if (path === undefined) throw new UsageError(`model ${model.name} (${model.family}) has no ${role} file`);
  return path;
}
