/**
 * The pipeline of the prompt families (SAM, EfficientSAM): an image encoder run once per
 * image, a mask decoder run per prompt, and segment-everything as a grid of prompts.
 */
import { stat } from 'node:fs/promises';
import { generateMasks } from '../everything/generator.js';
import { FAMILY_RULES, openFamilyAdapter } from '../families/index.js';
import type { DecodedMasks, PromptFamilyName, Size } from '../families/types.js';
import { upsampleLogitWindowToRle, upsampleLogitsToMask, type LogitWindow } from '../masks/resize.js';
import { logitsToMask, logitsToRle } from '../masks/threshold.js';
import { lazyPromptMask, modelFile, type FamilyPipeline, type ModelToOpen, type PipelineOptions, type PromptMask, type SegmentResult } from './pipeline.js';

/**
 * `segment` lets the decoder render at its own mask grid, and upsamples, once the image has
 * this many times the grid's pixels. Below that the model's own full-size render costs
 * about as much as upsampling in JavaScript. Measured on the benchmark stand-ins: a second
 * click on a 12 MP photo 234 -> 117 ms (EfficientSAM-Ti), 292 -> 150 ms (MobileSAM); a 2 MP
 * photo with MobileSAM's 1024x683 grid gains nothing.
 */
export const GRID_RENDER_FACTOR = 4;

/** Open a prompt family's encoder and decoder (the decoder now, the encoder on first use). */
export async function openPromptPipeline(model: ModelToOpen & { readonly family: PromptFamilyName }, options: PipelineOptions = {}): Promise<FamilyPipeline> {
  const files = { encoder: modelFile(model, 'encoder'), decoder: modelFile(model, 'decoder') };
  // A replaced encoder file, or a samlite that prepares images differently, must not serve
  // stale embeddings: key on the file's size and mtime and on the input revision. Before
  // opening, so a failing stat leaves no decoder session (or worker thread) behind.
  const info = await stat(files.encoder);
  const adapter = await openFamilyAdapter({ name: model.name, family: model.family, files }, options);
  return {
    family: model.family,
    modelName: adapter.modelName,
    scoreName: 'predicted IoU',
    cacheIdentity: `${model.family}:r${FAMILY_RULES[model.family].inputRevision}:${files.encoder}:${info.size}:${info.mtimeMs}`,
    adapter,
    checkPrompt: (prompt) => adapter.checkPrompt(prompt),
    analyse: (image) => adapter.encode(image),
    /**
     * On an image with at least GRID_RENDER_FACTOR times the pixels of the decoder's own mask
     * grid, the decoder renders at that grid and samlite upsamples the masks it returns, the
     * way the graph would (the same masks, to float rounding).
     */
    async answer(embedding, image, prompt, options) {
      const grid = adapter.maskGrid(image);
      const viaGrid = grid.width * grid.height * GRID_RENDER_FACTOR <= image.width * image.height;
      const maskInput = options.maskInput ? { maskInput: options.maskInput } : {};
      // A preview is rendered by the decoder at its size, and not upsampled.
      const target = options.renderSize ?? image;
      const render = options.renderSize ? { renderSize: options.renderSize } : viaGrid ? { renderSize: grid } : {};
      const decoded = await adapter.decode(embedding, prompt, { ...render, ...maskInput });
      return toResult(decoded, options.multimask ?? false, target);
    },
    // The embedding is not cached: one pass per image is the common case.
    everything: (image, options) => generateMasks(adapter, image, options),
    dispose: () => adapter.dispose(),
  };
}

function toResult(decoded: DecodedMasks, multimask: boolean, image: Size): SegmentResult {
  const { size } = decoded;
  const full = size.width === image.width && size.height === image.height;
  // Each candidate's bytes and RLE are made from its logits only when read: an API answer
  // needs the RLE alone, the CLI's PNG writers the bytes.
  const take = (index: number): PromptMask => {
    const logits = decoded.logits[index];
    const window: LogitWindow = { frameWidth: size.width, frameHeight: size.height, x: 0, y: 0, width: size.width, height: size.height, data: logits };
    const whole = { x0: 0, y0: 0, x1: image.width, y1: image.height };
    return lazyPromptMask(
      { index, predictedIou: decoded.iou[index], ...(decoded.lowRes ? { lowRes: decoded.lowRes[index] } : {}) },
      full
        ? { mask: () => logitsToMask(logits, size.width, size.height), rle: () => logitsToRle(logits, size.width, size.height) }
        : // The outline-cost renderer gives exactly the RLE of upsampleLogitsToMask's mask.
          { mask: () => upsampleLogitsToMask(logits, size, image), rle: () => upsampleLogitWindowToRle(window, image.width, image.height, whole).rle },
    );
  };
  const best = take(decoded.best);
  if (!multimask) return { best, masks: [best] };
  const masks = decoded.candidates.map((i) => (i === decoded.best ? best : take(i)));
  if (!decoded.candidates.includes(decoded.best)) masks.unshift(best);
  return { best, masks };
}
