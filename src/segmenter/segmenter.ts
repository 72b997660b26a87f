import type { GenerateMasksOptions } from '../everything/generator.js';
import type { FamilyAdapter, FamilyName, ImageEmbedding } from '../families/types.js';
import { openFastSamPipeline } from '../fastsam/pipeline.js';
import type { RgbImage } from '../image/types.js';
import type { EverythingRun, FamilyPipeline, ModelToOpen, PipelineOptions, SegmentOptions, SegmentResult } from './pipeline.js';
import { checkPromptInImage } from '../prompts/bounds.js';
import { InputError } from '../util/errors.js';
import type { Prompt, PromptStep } from '../prompts/types.js';
import { openPromptPipeline } from './prompt-pipeline.js';
import { MemoryEmbeddingCache, embeddingKey, type EmbeddingCache } from '../cache/embedding-cache.js';

export { GRID_RENDER_FACTOR } from './prompt-pipeline.js';
export { MULTIMASK_CANDIDATES } from './pipeline.js';
export type { EverythingRun, ModelToOpen, PromptMask, SegmentOptions, SegmentResult } from './pipeline.js';

/** A 16-pixel render with the image's aspect ratio: an intermediate step's mask is never looked at. */
function tinyRender(image: { width: number; height: number }): { width: number; height: number } {
  const scale = 16 / Math.max(image.width, image.height);
  return { width: Math.max(1, Math.round(image.width * scale)), height: Math.max(1, Math.round(image.height * scale)) };
}

/** How each family is opened: the one place the pipeline's shape is chosen. */
const OPEN_PIPELINE: Readonly<Record<FamilyName, (model: ModelToOpen, options: PipelineOptions) => Promise<FamilyPipeline>>> = {
  efficientsam: (model, options) => openPromptPipeline({ ...model, family: 'efficientsam' }, options),
  sam: (model, options) => openPromptPipeline({ ...model, family: 'sam' }, options),
  sam2: (model, options) => openPromptPipeline({ ...model, family: 'sam2' }, options),
  fastsam: openFastSamPipeline,
};

export interface SegmenterOptions extends PipelineOptions {
  /**
   * Where per-image results are kept between calls; `false` to always run the model.
   * They are image embeddings, or for FastSAM its detections and prototypes. Default: the
   * last 4 in memory. For a cache that outlives the process, pass
   * `new TieredEmbeddingCache(new MemoryEmbeddingCache(), new DiskEmbeddingCache(dir))`.
   */
  readonly embeddingCache?: EmbeddingCache | false;
}

/**
 * The library's entry point: one model, any number of images and prompts.
 *
 * ```ts
 * const seg = await Segmenter.open(model);
 * const { best } = await seg.segment(image, { points: [{ x: 120, y: 80 }] });
 * await seg.close();
 * ```
 */
export class Segmenter {
  /** Cache keys of images seen before, so the same image object is hashed once. */
  private readonly keys = new WeakMap<RgbImage, string>();

  private constructor(
    /** The family's pipeline doing the model work. */
    readonly pipeline: FamilyPipeline,
    private readonly cache: EmbeddingCache | undefined,
  ) {}

  /**
   * Open `model`'s sessions and check its files against the family's contract (a prompt
   * family opens its decoder now and its encoder on first use).
   */
  static async open(model: ModelToOpen, options: SegmenterOptions = {}): Promise<Segmenter> {
    const pipeline = await OPEN_PIPELINE[model.family](model, options);
    const cache = options.embeddingCache === false ? undefined : (options.embeddingCache ?? new MemoryEmbeddingCache());
    return new Segmenter(pipeline, cache);
  }

  /** The model's name. */
  get modelName(): string {
    return this.pipeline.modelName;
  }

  /**
   * The encoder/decoder adapter of a prompt-family model (SAM, EfficientSAM), for callers
   * that drive the decoder themselves. FastSAM has none: this throws for it.
   */
  get adapter(): FamilyAdapter {
    const { adapter } = this.pipeline;
    if (!adapter) throw new Error(`model ${this.modelName} (${this.pipeline.family}) has no encoder/decoder adapter`);
    return adapter;
  }

  /**
   * The per-image pass prompts are answered from (the image embedding; FastSAM's
   * detections), from the cache when this model has seen these pixels before. The cache key
   * hashes the pixels once per image object: do not change an image's data after passing
   * it here.
   */
  async embed(image: RgbImage): Promise<ImageEmbedding> {
    if (!this.cache) return this.pipeline.analyse(image);
    let key = this.keys.get(image);
    if (!key) {
      key = embeddingKey(this.pipeline.cacheIdentity, image);
      this.keys.set(image, key);
    }
    const hit = await this.cache.get(key);
    // A cache that kept only the main tensor cannot serve a decoder that needs more (SAM 2).
    const needs = this.pipeline.adapter?.extraEmbeddingKeys ?? [];
    if (hit && needs.every((k) => hit.extra?.[k] !== undefined)) return hit;
    const embedding = await this.pipeline.analyse(image);
    await this.cache.set(key, embedding);
    return embedding;
  }

  /**
   * Check a prompt against this model's family and the image's size without running
   * anything; throws an InputError saying what is wrong.
   */
  checkPrompt(image: { width: number; height: number }, prompt: Prompt): void {
    checkPromptInImage(prompt, image);
    this.pipeline.checkPrompt(prompt);
  }

  /**
   * Whether this model refines an answer from its previous low-resolution logits
   * (`SegmentOptions.maskInput`, {@link segmentSteps}): the SAM family's decoders.
   */
  get refines(): boolean {
    return this.pipeline.adapter?.acceptsMaskInput ?? false;
  }

  /**
   * Full-resolution masks for one prompt set, by the family's rule: a prompt family decodes
   * it; FastSAM selects among the masks its one pass found (see docs/fastsam.md).
   */
  async segment(image: RgbImage, prompt: Prompt, options: SegmentOptions = {}): Promise<SegmentResult> {
    this.checkPrompt(image, prompt);
    const embedding = await this.embed(image);
    const { maskIndex } = options;
    if (maskIndex === undefined) return this.pipeline.answer(embedding, image, prompt, options);
    // The candidates are what the person cycled through: ask for them all and keep theirs.
    const all = await this.pipeline.answer(embedding, image, prompt, { ...options, multimask: true });
    const kept = all.masks.find((m) => m.index === maskIndex);
    if (!kept) {
      throw new InputError(`mask index ${maskIndex} is not a candidate of ${this.modelName} for this prompt (candidates: ${all.masks.map((m) => m.index).join(', ')})`);
    }
    return { best: kept, masks: options.multimask ? [kept, ...all.masks.filter((m) => m !== kept)] : [kept] };
  }

  /**
   * Masks for one prompt set from an embedding computed earlier (by {@link embed}, here or
   * in another process, e.g. sent back by an API client), without the image's pixels. The
   * embedding must be this model's: its family and tensor shapes are checked.
   */
  async segmentEmbedding(embedding: ImageEmbedding, prompt: Prompt, options: SegmentOptions = {}): Promise<SegmentResult> {
    if (embedding.family !== this.pipeline.family) {
      throw new InputError(`an image embedding of the ${embedding.family} family cannot be decoded by ${this.modelName} (${this.pipeline.family})`);
    }
    const expected = this.pipeline.adapter ? 256 * 64 * 64 : undefined;
    if (expected !== undefined && embedding.data.length !== expected) {
      throw new InputError(`image embedding has ${embedding.data.length} values, ${this.modelName} needs [256, 64, 64] = ${expected}`);
    }
    this.checkPrompt(embedding.image, prompt);
    // The pipelines read only the image's size when answering from an embedding.
    const sizeOnly: RgbImage = { ...embedding.image, data: new Uint8Array(0) };
    return this.pipeline.answer(embedding, sizeOnly, prompt, options);
  }

  /**
   * The answer to an interactive prompt, step by step as a person clicked it: a refining
   * model ({@link refines}) decodes every step, feeding the mask kept at one step back as
   * the mask input of the next (SamPredictor's iterative refinement); any other model
   * answers the last step's prompt, which holds every click. `options` apply to the last
   * step. The same steps give the same masks, so a session replays exactly.
   */
  async segmentSteps(image: RgbImage, steps: readonly PromptStep[], options: SegmentOptions = {}): Promise<SegmentResult> {
    if (steps.length === 0) throw new InputError('an interactive prompt needs at least one step');
    const last = steps.length - 1;
    let maskInput = options.maskInput;
    for (let i = this.refines ? 0 : last; i < last; i++) {
      const step = steps[i];
      // Only the kept mask's low-resolution logits go on; they do not depend on the render
      // size, so the intermediate steps are rendered tiny.
      const { best } = await this.segment(image, step.prompt, {
        ...(maskInput ? { maskInput } : {}),
        ...(step.maskIndex !== undefined ? { maskIndex: step.maskIndex } : {}),
        renderSize: tinyRender(image),
      });
      maskInput = best.lowRes;
    }
    const step = steps[last];
    return this.segment(image, step.prompt, {
      ...options,
      ...(maskInput ? { maskInput } : {}),
      ...(step.maskIndex !== undefined ? { maskIndex: step.maskIndex } : {}),
    });
  }

  /**
   * Every mask in the image: the reference automatic mask generator (grid prompts,
   * filters, NMS) for a prompt family, FastSAM's own post-processing for FastSAM. Nothing
   * is cached: one pass per image is the common case.
   */
  everything(image: RgbImage, options: GenerateMasksOptions = {}): Promise<EverythingRun> {
    return this.pipeline.everything(image, options);
  }

  /** Release the ONNX sessions. */
  async close(): Promise<void> {
    await this.pipeline.dispose();
  }
}
