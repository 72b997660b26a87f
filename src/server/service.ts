/**
 * Everything the server asks of the library, in one place: opening models, loading images,
 * answering prompts, segment-everything. Routes call these functions only, so the seam to
 * the library (and, later, its job layer) is this file.
 */
import { createHash } from 'node:crypto';
import { InputError, UsageError } from '../util/errors.js';
import type { GenerateMasksOptions } from '../everything/generator.js';
import { loadImage } from '../image/load.js';
import type { LoadedImage, RgbImage } from '../image/types.js';
import type { MaskLogits } from '../masks/types.js';
import { MemoryEmbeddingCache } from '../cache/embedding-cache.js';
import type { PipelineOptions } from '../segmenter/pipeline.js';
import { parsePromptsJson, type PromptSet } from '../prompts/prompts-file.js';
import type { Prompt, PromptStep } from '../prompts/types.js';
import { Segmenter, type SegmentResult } from '../segmenter/segmenter.js';
import { chooseModel } from '../store/resolve.js';
import type { ResolvedModel } from '../store/types.js';
import { sa1bDocument, type Sa1bDocument } from '../writers/sa1b-json.js';
import { segmentRecord, type SegmentRecord } from '../writers/segment.js';

/** What the page needs to know of a model to offer only what it can do. */
export interface ModelLimits {
  readonly name: string;
  readonly family: string;
  /** Background (negative) points are honoured. */
  readonly backgroundPoints: boolean;
  /** Most points plus box corners one prompt may hold (null: no limit). */
  readonly maxPoints: number | null;
  /** Each click refines the previous answer through the decoder's mask input. */
  readonly refines: boolean;
  /** The model answers by choosing among masks found once per image (FastSAM). */
  readonly selects: boolean;
}

/** One opened model and what it can do. */
export interface OpenModel {
  readonly segmenter: Segmenter;
  readonly limits: ModelLimits;
}

/** The models a server keeps open, by name, the least recently used closed past `keep`. */
export class ModelPool {
  private readonly open = new Map<string, Promise<OpenModel>>();

  constructor(
    private readonly options: PipelineOptions,
    /** Models kept open at once. */
    private readonly keep = 2,
  ) {}

  /**
   * The model `spec` names (catalog name, installed manifest model, manifest path), or with
   * undefined the default-model rule; opened on first use. An unknown or uninstalled model
   * is a UsageError saying so.
   */
  async get(spec: string | undefined): Promise<OpenModel> {
    const resolved = chooseModel(spec).model;
    const key = resolved.name;
    let entry = this.open.get(key);
    if (entry) {
      this.open.delete(key);
      this.open.set(key, entry);
      return entry;
    }
    entry = openModel(resolved, this.options);
    this.open.set(key, entry);
    entry.catch(() => this.open.delete(key));
    while (this.open.size > this.keep) {
      const [oldest, model] = this.open.entries().next().value as [string, Promise<OpenModel>];
      this.open.delete(oldest);
      void model.then((m) => m.segmenter.close()).catch(() => undefined);
    }
    return entry;
  }

  /** Close every model. */
  async close(): Promise<void> {
    const models = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(models.map(async (m) => (await m).segmenter.close()));
  }
}

async function openModel(model: ResolvedModel, options: PipelineOptions): Promise<OpenModel> {
  // The page visits a handful of images back and forth: keep their embeddings.
  const segmenter = await Segmenter.open(model, { ...options, embeddingCache: new MemoryEmbeddingCache(8) });
  return { segmenter, limits: modelLimits(segmenter) };
}

/**
 * What `segmenter`'s family can do, asked of the family's own prompt check (so a family
 * added later answers for itself): a background point, and how many points, are tried.
 */
export function modelLimits(segmenter: Segmenter): ModelLimits {
  const image = { width: 100, height: 100 };
  const accepts = (prompt: Prompt) => {
    try {
      segmenter.checkPrompt(image, prompt);
      return true;
    } catch (err) {
      if (err instanceof InputError) return false;
      throw err;
    }
  };
  const points = (n: number) => Array.from({ length: n }, (_, i) => ({ x: 1 + (i % 90), y: 1 }));
  let maxPoints: number | null = null;
  for (const n of [2, 4, 6, 8, 16, 32]) {
    if (!accepts({ points: points(n) })) {
      maxPoints = n - 1;
      while (maxPoints > 1 && !accepts({ points: points(maxPoints) })) maxPoints--;
      break;
    }
  }
  return {
    name: segmenter.modelName,
    family: segmenter.pipeline.family,
    backgroundPoints: accepts({ points: points(1), negPoints: points(1) }),
    maxPoints,
    refines: segmenter.refines,
    selects: segmenter.pipeline.adapter === undefined,
  };
}

/** Decoded images kept by name, so the same image object (and embedding cache key) serves every click. */
export class ImageCache {
  private readonly images = new Map<string, Promise<LoadedImage>>();

  constructor(
    private readonly maxPixels: number | undefined,
    private readonly keep = 8,
  ) {}

  /** The image at `path` (a file, named `name` in messages), decoded once while it is among the last `keep`. */
  file(name: string, path: string): Promise<LoadedImage> {
    return this.cached(`file:${path}`, () => loadImage(path, { maxPixels: this.maxPixels, source: name }));
  }

  /** An image sent as bytes, keyed by their hash; `name` is used in messages. */
  bytes(name: string, bytes: Uint8Array): { key: string; image: Promise<LoadedImage> } {
    const key = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    return { key, image: this.cached(key, () => loadImage(bytes, { maxPixels: this.maxPixels, source: name })) };
  }

  private cached(key: string, load: () => Promise<LoadedImage>): Promise<LoadedImage> {
    let image = this.images.get(key);
    if (image) this.images.delete(key);
    else {
      image = load();
      image.catch(() => this.images.delete(key));
    }
    this.images.set(key, image);
    while (this.images.size > this.keep) this.images.delete(this.images.keys().next().value as string);
    return image;
  }
}

/**
 * The kept mask's low-resolution logits after each prefix of an interactive prompt, so a
 * click (or a hover) after n clicks costs one decoder run, not n+1. Keyed by model, image
 * and the steps; the same steps always give the same logits, so an entry never goes stale.
 */
export class RefinementCache {
  private readonly entries = new Map<string, MaskLogits>();

  constructor(private readonly keep = 64) {}

  private key(model: string, image: string, steps: readonly PromptStep[]): string {
    return `${model}\0${image}\0${JSON.stringify(steps)}`;
  }

  /** The longest prefix of `steps` (at most all but the last) whose logits are known. */
  prefix(model: string, image: string, steps: readonly PromptStep[]): { length: number; maskInput?: MaskLogits } {
    for (let n = steps.length - 1; n > 0; n--) {
      const hit = this.entries.get(this.key(model, image, steps.slice(0, n)));
      if (hit) return { length: n, maskInput: hit };
    }
    return { length: 0 };
  }

  set(model: string, image: string, steps: readonly PromptStep[], logits: MaskLogits): void {
    const key = this.key(model, image, steps);
    this.entries.delete(key);
    // A copy: the answer's map is a view into the run's output of every mask.
    this.entries.set(key, { ...logits, data: logits.data.slice() });
    while (this.entries.size > this.keep) this.entries.delete(this.entries.keys().next().value as string);
  }
}

/** A prompt set as a request gives it: the prompts-file JSON of one set. */
export function promptSetFromJson(json: unknown, source = 'prompt'): PromptSet {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new InputError(`${source}: expected an object such as {"points": [[x, y]]}`);
  // The prompts file's own parser: the same rules and messages as `samlite segment --prompts`.
  try {
    const plan = parsePromptsJson(JSON.stringify([json]), source, '.');
    if (plan.kind !== 'shared') throw new Error('unreachable');
    return plan.sets[0];
  } catch (err) {
    // A bad prompt in a request is a bad input, not a usage error of the server.
    if (err instanceof UsageError) throw new InputError(err.message.replace(`${source}: prompt 0: `, `${source}: `));
    throw err;
  }
}

/**
 * Answer one prompt set on `image`: the steps of an interactive prompt replayed from the
 * refinement cache, or a one-step prompt. `renderSize` asks for a preview.
 */
export async function answerPrompt(
  model: OpenModel,
  image: RgbImage,
  imageKey: string,
  set: PromptSet,
  options: { multimask?: boolean; renderSize?: { width: number; height: number } },
  refinements: RefinementCache,
): Promise<SegmentResult> {
  const { segmenter } = model;
  const steps = set.steps ?? [{ prompt: set.prompt, ...(set.maskIndex !== undefined ? { maskIndex: set.maskIndex } : {}) }];
  for (const step of steps) segmenter.checkPrompt(image, step.prompt);
  const known = segmenter.refines ? refinements.prefix(segmenter.modelName, imageKey, steps) : { length: 0 };
  const result = await segmenter.segmentSteps(image, steps.slice(known.length), { ...options, ...(known.maskInput ? { maskInput: known.maskInput } : {}) });
  if (result.best.lowRes) refinements.set(segmenter.modelName, imageKey, steps, result.best.lowRes);
  return result;
}

/** The size a preview of `image` is rendered at: the image scaled to `side` pixels on its long side (never up). */
export function previewSize(image: { width: number; height: number }, side: number): { width: number; height: number } {
  const scale = Math.min(1, side / Math.max(image.width, image.height));
  return { width: Math.max(1, Math.round(image.width * scale)), height: Math.max(1, Math.round(image.height * scale)) };
}

/** The CLI's JSON records of an answer (SA-1B RLE), each with the model's index of its mask. */
export function answerRecords(imageName: string, set: PromptSet, result: SegmentResult, multimask: boolean): (SegmentRecord & { mask_index: number })[] {
  const masks = multimask ? result.masks : [result.best];
  return masks.map((m, k) => ({
    ...segmentRecord(imageName, {
      promptIndex: 0,
      ...(set.id !== undefined ? { promptId: set.id } : {}),
      prompt: set.prompt,
      ...(set.steps ? { steps: set.steps } : {}),
      ...(set.maskIndex !== undefined ? { maskIndex: set.maskIndex } : {}),
      ...(multimask ? { candidate: k } : {}),
      // The record needs the RLE only: the mask's bytes are never made.
      rle: m.rle,
      get mask() {
        return m.mask;
      },
      predictedIou: m.predictedIou,
    }),
    mask_index: m.index,
  }));
}

/** Every mask of `image` as `samlite everything --format json` writes it (SA-1B layout). */
export async function everythingDocument(model: OpenModel, image: RgbImage, name: string, options: GenerateMasksOptions): Promise<Sa1bDocument> {
  const run = await model.segmenter.everything(image, options);
  const fileName = name.split('/').pop()!;
  const stem = fileName.replace(/\.[^.]*$/, '');
  return sa1bDocument({ image_id: stem, width: image.width, height: image.height, file_name: name }, run.records);
}
