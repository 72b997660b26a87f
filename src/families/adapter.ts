import * as ort from 'onnxruntime-node';
import { InputError } from '../errors.js';
import type { RgbImage } from '../image/types.js';
import type { MaskLogits } from '../masks/types.js';
import type { Prompt } from '../prompts/types.js';
import type { EncoderInputLayout, FamilyContract } from './contracts.js';
import { readDecoderOutputs } from './decoded.js';
import { modelSessions, type CheckedDecoder, type ModelFiles, type OpenOptions } from './open-sessions.js';
import { checkRunShape } from './session.js';
import type { DecodeOptions, DecodedMasks, FamilyAdapter, ImageEmbedding, Size } from './types.js';

/**
 * What makes one model family different from another, beyond its contract: how it wants
 * the image and the prompt, which mask answers a prompt, and which prompts it refuses.
 * Everything else (sessions, contract checks, running, reading outputs) is shared.
 */
export interface FamilyRules {
  readonly contract: FamilyContract;
  /**
   * Bumped whenever the way `encoderInput` prepares an image changes, so embeddings cached
   * on disk by an earlier samlite are not served for the new input.
   */
  readonly inputRevision: number;
  /** The encoder's input tensor for `image`, for the encoder variant the file matched. */
  encoderInput(image: RgbImage, layout: EncoderInputLayout): Promise<ort.Tensor>;
  /**
   * Every decoder feed except `image_embeddings`, with masks rendered at `render`.
   * `maskCount` is the decoder's masks per run, known before any prompt reaches it: from
   * the file, the contract when it allows only one count, or else a probe run at load.
   * Undefined only during that probe. `maskInput` is given only to a family whose contract
   * reads the low-resolution logits (see {@link FamilyAdapter.acceptsMaskInput}).
   */
  promptFeeds(prompt: Prompt, image: Size, render: Size, maskCount: number | undefined, maskInput?: MaskLogits): Record<string, ort.Tensor>;
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
  const checked = await sessions.decoder();
  let maskCount = checked.maskCount;
  // A file that leaves the count symbolic: the contract's count when it allows only one,
  // else a probe run (the SAM family's feeds differ for a single-mask export).
  if (maskCount === undefined && contract.maskCounts.length === 1) maskCount = contract.maskCounts[0];
  if (maskCount === undefined) {
    try {
      maskCount = await probeMaskCount(checked, rules);
    } catch (err) {
      await sessions.release();
      throw err;
    }
  }
  const modelKey = `${model.name}:${contract.family}`;
  const checkPrompt = (prompt: Prompt) => rules.checkPrompt(prompt, model.name);
  // A decoder that returns its low-resolution logits takes them back as its mask input.
  const acceptsMaskInput = checked.outputs.lowRes !== undefined;
  return {
    family: contract.family,
    modelName: model.name,
    acceptsMaskInput,
    checkPrompt,
    maskGrid: rules.maskGrid,

    async encode(image: RgbImage): Promise<ImageEmbedding> {
      const encoder = await sessions.encoder();
      const input = await rules.encoderInput(image, encoder.contract.layout);
      const out = await encoder.session.run({ [encoder.contract.input.name]: input });
      const embedding = out[contract.encoderOutput.name];
      // The real files leave the embedding's size symbolic: check what this run gave.
      checkRunShape(encoder.session, contract.encoderOutput, embedding.dims);
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
      if (options.maskInput && !acceptsMaskInput) {
        throw new InputError(`${model.name} (${contract.family}) cannot refine an answer: its decoder has no mask input`);
      }
      const size = options.renderSize ?? embedding.image;
      const feeds = {
        image_embeddings: new ort.Tensor('float32', embedding.data, embedding.dims),
        ...rules.promptFeeds(prompt, embedding.image, size, maskCount, options.maskInput),
      };
      const raw = readDecoderOutputs(await checked.session.run(feeds), checked, contract, size);
      return { size, ...raw, ...rules.choose(prompt, raw.iou) };
    },

    async dispose(): Promise<void> {
      await sessions.release();
    },
  };
}

/**
 * The masks per run of a decoder whose metadata leaves the count symbolic: one run on a
 * blank embedding with a single click, rendered at 8x8. Its outputs pass the same checks as
 * any run, so a decoder that breaks the contract at run time fails here, at load.
 */
async function probeMaskCount(decoder: CheckedDecoder, rules: FamilyRules): Promise<number> {
  const { contract } = rules;
  const size = { width: 8, height: 8 };
  const fixed = contract.encoderOutput.dims.map((d) => d ?? 1);
  const embedding = new ort.Tensor('float32', new Float32Array(fixed.reduce((a, b) => a * b, 1)), fixed);
  const feeds = { [contract.encoderOutput.name]: embedding, ...rules.promptFeeds({ points: [{ x: 4, y: 4 }] }, size, size, undefined) };
  return readDecoderOutputs(await decoder.session.run(feeds), decoder, contract, size).logits.length;
}
