import type { GenerateMasksOptions } from './everything/generator.js';
import type { FamilyAdapter, FamilyName, ImageEmbedding } from './families/types.js';
import { openFastSamPipeline } from './fastsam/pipeline.js';
import type { RgbImage } from './image/types.js';
import type { EverythingRun, FamilyPipeline, ModelToOpen, PipelineOptions, SegmentOptions, SegmentResult } from './pipeline.js';
import { checkPromptInImage } from './prompts/bounds.js';
import type { Prompt } from './prompts/types.js';
import { openPromptPipeline } from './prompt-pipeline.js';
import { MemoryEmbeddingCache, embeddingKey, type EmbeddingCache } from './embedding-cache.js';

export { GRID_RENDER_FACTOR } from './prompt-pipeline.js';
export { MULTIMASK_CANDIDATES } from './pipeline.js';
export type { EverythingRun, ModelToOpen, PromptMask, SegmentOptions, SegmentResult } from './pipeline.js';

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
   * Full-resolution masks for one prompt set, by the family's rule: a prompt family decodes
   * it; FastSAM selects among the masks its one pass found (see docs/fastsam.md).
   */
  async segment(image: RgbImage, prompt: Prompt, options: SegmentOptions = {}): Promise<SegmentResult> {
    this.checkPrompt(image, prompt);
    return this.pipeline.answer(await this.embed(image), image, prompt, options);
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
