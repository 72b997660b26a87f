import * as ort from 'onnxruntime-node';
import type { RgbImage } from '../image/types.js';
import type { Prompt } from '../prompts/types.js';
import type { EncoderInputLayout, FamilyContract } from './contracts.js';
import { readDecoderOutputs } from './decoded.js';
import { modelSessions, type ModelFiles, type OpenOptions } from './open-sessions.js';
import type { DecodeOptions, DecodedMasks, FamilyAdapter, ImageEmbedding, Size } from './types.js';

/**
 * What makes one model family different from another, beyond its contract: how it wants
 * the image and the prompt, which mask answers a prompt, and which prompts it refuses.
 * Everything else (sessions, contract checks, running, reading outputs) is shared.
 */
export interface FamilyRules {
  readonly contract: FamilyContract;
  /** The encoder's input tensor for `image`, for the encoder variant the file matched. */
  encoderInput(image: RgbImage, layout: EncoderInputLayout): Promise<ort.Tensor>;
  /** Every decoder feed except `image_embeddings`, with masks rendered at `render`. */
  promptFeeds(prompt: Prompt, image: Size, render: Size): Record<string, ort.Tensor>;
  /** The mask the family's rule picks, and the indices that count as candidates. */
  choose(prompt: Prompt, iou: readonly number[]): { best: number; candidates: readonly number[] };
  /** Throw an InputError when the family cannot honour `prompt` (`model` names it in messages). */
  checkPrompt(prompt: Prompt, model: string): void;
  /** See {@link FamilyAdapter.maskGrid}. */
  maskGrid(image: Size): Size;
}

/** Open `model` as a family adapter following `rules`. */
export async function openAdapter(model: ModelFiles, rules: FamilyRules, options: OpenOptions = {}): Promise<FamilyAdapter> {
  const { contract } = rules;
  const sessions = modelSessions(model, contract, options);
  // Open the decoder now so a file that breaks the contract fails at load, not mid-batch;
  // the encoder opens on first use (a cached embedding never needs it).
  await sessions.decoder();
  const modelKey = `${model.name}:${contract.family}`;
  const checkPrompt = (prompt: Prompt) => rules.checkPrompt(prompt, model.name);
  return {
    family: contract.family,
    modelName: model.name,
    checkPrompt,
    maskGrid: rules.maskGrid,

    async encode(image: RgbImage): Promise<ImageEmbedding> {
      const encoder = await sessions.encoder();
      const input = await rules.encoderInput(image, encoder.contract.layout);
      const out = await encoder.session.run({ [encoder.contract.input.name]: input });
      const embedding = out[contract.encoderOutput.name];
      return {
        family: contract.family,
        modelKey,
        image: { width: image.width, height: image.height },
        data: embedding.data as Float32Array,
        dims: embedding.dims,
      };
    },

    async decode(embedding: ImageEmbedding, prompt: Prompt, options: DecodeOptions = {}): Promise<DecodedMasks> {
      checkPrompt(prompt);
      const size = options.renderSize ?? embedding.image;
      const feeds = {
        image_embeddings: new ort.Tensor('float32', embedding.data, embedding.dims),
        ...rules.promptFeeds(prompt, embedding.image, size),
      };
      const decoder = await sessions.decoder();
      const raw = readDecoderOutputs(await decoder.session.run(feeds), decoder, contract, size);
      return { size, ...raw, ...rules.choose(prompt, raw.iou) };
    },

    async dispose(): Promise<void> {
      await sessions.release();
    },
  };
}
