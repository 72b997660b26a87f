import { stat } from 'node:fs/promises';
import { generateMasks, type EverythingResult, type GenerateMasksOptions } from './everything/generator.js';
import { FAMILY_RULES, openFamilyAdapter } from './families/index.js';
import type { OpenOptions } from './families/open-sessions.js';
import type { DecodedMasks, FamilyAdapter, FamilyName, ImageEmbedding, Size } from './families/types.js';
import type { RgbImage } from './image/types.js';
import { upsampleLogitsToMask } from './masks/resize.js';
import { logitsToMask } from './masks/threshold.js';
import type { BinaryMask } from './masks/types.js';
import { checkPromptInImage } from './prompts/bounds.js';
import type { Prompt } from './prompts/types.js';
import { MemoryEmbeddingCache, embeddingKey, type EmbeddingCache } from './embedding-cache.js';

/**
 * `segment` lets the decoder render at its own mask grid, and upsamples, once the image has
 * this many times the grid's pixels. Below that the model's own full-size render costs
 * about as much as upsampling in JavaScript. Measured on the benchmark stand-ins: a second
 * click on a 12 MP photo 234 -> 117 ms (EfficientSAM-Ti), 292 -> 150 ms (MobileSAM); a 2 MP
 * photo with MobileSAM's 1024x683 grid gains nothing.
 */
export const GRID_RENDER_FACTOR = 4;

/** A model ready to open: its name, family and the paths of its two ONNX files. */
export interface ModelToOpen {
  readonly name: string;
  readonly family: FamilyName;
  readonly files: { readonly encoder: string; readonly decoder: string };
}

export interface SegmenterOptions extends OpenOptions {
  /**
   * Where embeddings are kept between calls; `false` to always run the encoder. Default:
   * the last 4 in memory. For a cache that outlives the process, pass
   * `new TieredEmbeddingCache(new MemoryEmbeddingCache(), new DiskEmbeddingCache(dir))`.
   */
  readonly embeddingCache?: EmbeddingCache | false;
}

/** One mask of a prompt's answer, at the image's full resolution. */
export interface PromptMask {
  /** Index of this mask among the decoder's outputs. */
  readonly index: number;
  readonly mask: BinaryMask;
  /** The model's predicted IoU for this mask. */
  readonly predictedIou: number;
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
    /** The family adapter doing the model work. */
    readonly adapter: FamilyAdapter,
    private readonly cache: EmbeddingCache | undefined,
    private readonly identity: string,
  ) {}

  /** Open `model`'s sessions (the decoder now, the encoder on first use). */
  static async open(model: ModelToOpen, options: SegmenterOptions = {}): Promise<Segmenter> {
    const adapter = await openFamilyAdapter(model, options);
    const cache = options.embeddingCache === false ? undefined : (options.embeddingCache ?? new MemoryEmbeddingCache());
    // A replaced encoder file, or a samlite that prepares images differently, must not serve
    // stale embeddings: key on the file's size and mtime and on the input revision.
    const info = await stat(model.files.encoder);
    const identity = `${model.family}:r${FAMILY_RULES[model.family].inputRevision}:${model.files.encoder}:${info.size}:${info.mtimeMs}`;
    return new Segmenter(adapter, cache, identity);
  }

  /** The model's name. */
  get modelName(): string {
    return this.adapter.modelName;
  }

  /**
   * The image embedding, from the cache when this model has seen these pixels before.
   * The cache key hashes the pixels once per image object: do not change an image's data
   * after passing it here.
   */
  async embed(image: RgbImage): Promise<ImageEmbedding> {
    if (!this.cache) return this.adapter.encode(image);
    let key = this.keys.get(image);
    if (!key) {
      key = embeddingKey(this.identity, image);
      this.keys.set(image, key);
    }
    const hit = await this.cache.get(key);
    if (hit) return hit;
    const embedding = await this.adapter.encode(image);
    await this.cache.set(key, embedding);
    return embedding;
  }

  /**
   * Check a prompt against this model's family and the image's size without running
   * anything; throws an InputError saying what is wrong.
   */
  checkPrompt(image: { width: number; height: number }, prompt: Prompt): void {
    checkPromptInImage(prompt, image);
    this.adapter.checkPrompt(prompt);
  }

  /**
   * Decode one prompt set into full-resolution masks. On an image with at least
   * {@link GRID_RENDER_FACTOR} times the pixels of the decoder's own mask grid, the decoder
   * renders at that grid and samlite upsamples the masks it returns, the way the graph would
   * (the same masks, to float rounding).
   */
  async segment(image: RgbImage, prompt: Prompt, options: SegmentOptions = {}): Promise<SegmentResult> {
    this.checkPrompt(image, prompt);
    const grid = this.adapter.maskGrid(image);
    const viaGrid = grid.width * grid.height * GRID_RENDER_FACTOR <= image.width * image.height;
    const decoded = await this.adapter.decode(await this.embed(image), prompt, viaGrid ? { renderSize: grid } : {});
    return toResult(decoded, options.multimask ?? false, image);
  }

  /**
   * Every mask in the image by the reference automatic mask generator (grid prompts,
   * filters, NMS). The embedding is not cached: one pass per image is the common case.
   */
  everything(image: RgbImage, options: GenerateMasksOptions = {}): Promise<EverythingResult> {
    return generateMasks(this.adapter, image, options);
  }

  /** Release the ONNX sessions. */
  async close(): Promise<void> {
    await this.adapter.dispose();
  }
}

function toResult(decoded: DecodedMasks, multimask: boolean, image: Size): SegmentResult {
  const { size } = decoded;
  const full = size.width === image.width && size.height === image.height;
  const take = (index: number): PromptMask => ({
    index,
    mask: full ? logitsToMask(decoded.logits[index], size.width, size.height) : upsampleLogitsToMask(decoded.logits[index], size, image),
    predictedIou: decoded.iou[index],
  });
  const best = take(decoded.best);
  if (!multimask) return { best, masks: [best] };
  const masks = decoded.candidates.map((i) => (i === decoded.best ? best : take(i)));
  if (!decoded.candidates.includes(decoded.best)) masks.unshift(best);
  return { best, masks };
}
