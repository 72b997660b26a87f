import * as ort from 'onnxruntime-node';
import { InputError } from '../util/errors.js';
import type { RgbImage } from '../image/types.js';
import type { MaskLogits } from '../masks/types.js';
import type { Prompt } from '../prompts/types.js';
import type { EncoderInputLayout, FamilyContract, TensorSpec } from './contracts.js';
import { readDecoderOutputs } from './decoded.js';
import { modelSessions, type CheckedDecoder, type ModelFiles, type OpenOptions } from './open-sessions.js';
import { checkRunShape } from './session.js';
import type { DecodeOptions, DecodedMasks, EmbeddingTensor, FamilyAdapter, ImageEmbedding, Size } from './types.js';

/**
 * What makes one model family different from another, beyond its contract: how it wants
 * the image and the prompt, which mask answers a prompt, and which prompts it refuses.
 * Everything else (sessions, contract checks, running, reading outputs) is shared.
 */
export interface FamilyRules {
  readonly contract: FamilyContract;
  /**
   * Other exports of the family's models, each with its own contract (SAM 2: samexporter's
   * beside osam's). The decoder file's inputs pick one; the encoder must follow the same.
   */
  readonly variants?: readonly FamilyContract[];
  /**
   * Bumped whenever the way `encoderInput` prepares an image changes, so embeddings cached
   * on disk by an earlier samlite are not served for the new input.
   */
  readonly inputRevision: number;
  /** The encoder's input tensor for `image`, for the encoder variant the file matched. */
  encoderInput(image: RgbImage, layout: EncoderInputLayout): Promise<ort.Tensor>;
  /**
   * Every decoder feed except the embedding's tensors, with masks rendered at `render`.
   * `maskCount` is the decoder's masks per run, known before any prompt reaches it: from
   * the file, the contract when it allows only one count, or else a probe run at load.
   * Undefined only during that probe. Feeds the decoder's contract does not list are left
   * out (one rule serves a family's several exports).
   */
  promptFeeds(prompt: Prompt, image: Size, render: Size, maskCount: number | undefined): Record<string, ort.Tensor>;
  /**
   * The mask the family's rule picks, and the indices that count as candidates. `lowRes`
   * holds the decoder's low-resolution logits when its contract reads them.
   */
  choose(prompt: Prompt, iou: readonly number[], lowRes?: readonly MaskLogits[], multimask?: boolean): { best: number; candidates: readonly number[] };
  /** Throw an InputError when the family cannot honour `prompt` (`model` names it in messages). */
  checkPrompt(prompt: Prompt, model: string): void;
  /** See {@link FamilyAdapter.maskGrid}. */
  maskGrid(image: Size): Size;
}

/** Open `model` as a family adapter following `rules`. */
export async function openAdapter(model: ModelFiles, rules: FamilyRules, options: OpenOptions = {}): Promise<FamilyAdapter> {
  const sessions = modelSessions(model, [rules.contract, ...(rules.variants ?? [])], options);
  // Open the decoder now so a file that breaks the contract fails at load, not mid-batch;
  // the encoder opens on first use (a cached embedding never needs it).
  const checked = await sessions.decoder();
  // The export the decoder follows, among the family's.
  const { contract } = checked;
  let maskCount = checked.maskCount;
  // A file that leaves the count symbolic: the contract's count when it allows only one,
  // else a probe run (the SAM family's feeds differ for a single-mask export).
  if (maskCount === undefined && contract.maskCounts.length === 1) maskCount = contract.maskCounts[0];
  if (maskCount === undefined) {
    try {
      maskCount = await probeMaskCount(checked, contract, rules);
    } catch (err) {
      await sessions.release();
      throw err;
    }
  }
  const modelKey = `${model.name}:${contract.family}`;
  const checkPrompt = (prompt: Prompt) => rules.checkPrompt(prompt, model.name);
  // Refinement needs a mask input to feed and low-resolution logits to feed it from.
  const acceptsMaskInput =
    checked.outputs.lowRes !== undefined && contract.decoderInputs.some((spec) => spec.name === MASK_INPUT);
  return {
    family: contract.family,
    modelName: model.name,
    acceptsMaskInput,
    extraEmbeddingKeys: (contract.encoderExtraOutputs ?? []).map((spec) => spec.key),
    checkPrompt,
    maskGrid: rules.maskGrid,

    async encode(image: RgbImage): Promise<ImageEmbedding> {
      const encoder = await sessions.encoder();
      const input = await rules.encoderInput(image, encoder.contract.layout);
      const out = await encoder.session.run({ [encoder.contract.input.name]: input });
      const embedding = out[contract.encoderOutput.name];
      // The real files leave the embedding's size symbolic: check what this run gave.
      checkRunShape(encoder.session, contract.encoderOutput, embedding.dims);
      const extras = contract.encoderExtraOutputs ?? [];
      const extra: Record<string, EmbeddingTensor> = {};
      for (const spec of extras) {
        const tensor = out[spec.name];
        checkRunShape(encoder.session, spec, tensor.dims);
        extra[spec.key] = { data: tensor.data as Float32Array, dims: tensor.dims };
      }
      return {
        family: contract.family,
        modelKey,
        image: { width: image.width, height: image.height },
        data: embedding.data as Float32Array,
        dims: embedding.dims,
        ...(extras.length > 0 ? { extra } : {}),
      };
    },

    async decode(embedding: ImageEmbedding, prompt: Prompt, options: DecodeOptions = {}): Promise<DecodedMasks> {
      checkPrompt(prompt);
      const size = options.renderSize ?? embedding.image;
      if (options.maskInput && !acceptsMaskInput) {
        throw new InputError(`${model.name} (${contract.family}) cannot refine an answer: its decoder has no mask input`);
      }
      const feeds = decoderFeeds(contract, {
        ...rules.promptFeeds(prompt, embedding.image, size, maskCount),
        ...(options.maskInput ? maskInputFeeds(options.maskInput) : {}),
        ...embeddingFeeds(contract, embedding, model.name),
      });
      const raw = readDecoderOutputs(await checked.session.run(feeds), checked, contract, size);
      return { size, ...raw, ...rules.choose(prompt, raw.iou, raw.lowRes, options.multimask) };
    },

    async dispose(): Promise<void> {
      await sessions.release();
    },
  };
}

/** Name of the decoder input a previous answer's low-resolution logits go to (SAM, SAM 2). */
const MASK_INPUT = 'mask_input';
/** Side of the mask input (the decoders' low-resolution logits). */
const MASK_INPUT_SIDE = 256;

/** `mask_input` and `has_mask_input` for refining with a previous answer's low-resolution logits. */
export function maskInputFeeds(mask: MaskLogits): Record<string, ort.Tensor> {
  if (mask.width !== MASK_INPUT_SIDE || mask.height !== MASK_INPUT_SIDE || mask.data.length !== MASK_INPUT_SIDE * MASK_INPUT_SIDE) {
    throw new InputError(`mask input is ${mask.width}x${mask.height}; it must be a previous answer's ${MASK_INPUT_SIDE}x${MASK_INPUT_SIDE} low-resolution logits`);
  }
  return {
    [MASK_INPUT]: new ort.Tensor('float32', mask.data, [1, 1, MASK_INPUT_SIDE, MASK_INPUT_SIDE]),
    has_mask_input: new ort.Tensor('float32', Float32Array.from([1]), [1]),
  };
}

/**
 * The embedding's tensors as the decoder's inputs: the embedding itself and, for SAM 2,
 * the extra encoder outputs under the names this export gives them. An embedding missing
 * one (written by a cache that does not keep them) is refused with a clear error.
 */
function embeddingFeeds(contract: FamilyContract, embedding: ImageEmbedding, model: string): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {
    [contract.encoderOutput.name]: new ort.Tensor('float32', embedding.data, embedding.dims),
  };
  for (const spec of contract.encoderExtraOutputs ?? []) {
    const tensor = embedding.extra?.[spec.key];
    if (!tensor) throw new Error(`${model}: the image embedding lacks ${spec.key}, which the decoder needs (encode the image again)`);
    feeds[spec.name] = new ort.Tensor('float32', tensor.data, tensor.dims);
  }
  return feeds;
}

/** The feeds the decoder's contract lists, and only those. */
function decoderFeeds(contract: FamilyContract, feeds: Record<string, ort.Tensor>): Record<string, ort.Tensor> {
  return Object.fromEntries(contract.decoderInputs.flatMap((spec) => (feeds[spec.name] ? [[spec.name, feeds[spec.name]]] : [])));
}

/**
 * The masks per run of a decoder whose metadata leaves the count symbolic: one run on a
 * blank embedding with a single click, rendered at 8x8. Its outputs pass the same checks as
 * any run, so a decoder that breaks the contract at run time fails here, at load.
 */
async function probeMaskCount(decoder: CheckedDecoder, contract: FamilyContract, rules: FamilyRules): Promise<number> {
  const size = { width: 8, height: 8 };
  const blank = (spec: TensorSpec) => {
    const fixed = spec.dims.map((d) => d ?? 1);
    return new ort.Tensor('float32', new Float32Array(fixed.reduce((a, b) => a * b, 1)), fixed);
  };
  const feeds = decoderFeeds(contract, {
    ...rules.promptFeeds({ points: [{ x: 4, y: 4 }] }, size, size, undefined),
    ...Object.fromEntries([contract.encoderOutput, ...(contract.encoderExtraOutputs ?? [])].map((spec) => [spec.name, blank(spec)])),
  });
  return readDecoderOutputs(await decoder.session.run(feeds), decoder, contract, size).logits.length;
}
