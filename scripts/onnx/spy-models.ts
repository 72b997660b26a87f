/**
 * Spy and broken ONNX models for the family-adapter tests.
 *
 * A spy declares the inputs and outputs of a published export exactly as onnxruntime reports
 * them for the real file (real-graphs.ts: names, types, symbolic dims) and additionally
 * returns `echo_<input>` = Identity(input) for every input, so a test sees exactly what the
 * adapter fed the session. Built with `echo: false` it is a mirror: metadata identical to
 * the real file's, nothing more. Its masks are synthetic and tell apart both the mask index and
 * the orientation: mask i of k is foreground (logit +10) on the top rows and background
 * (-10) below, with `spyForegroundRows(i, k, H)` rows in front, i.e. the rows r with
 * (r + 0.5) * (k + 1) < (i + 1) * H. Predicted IoUs are constants distinct per index
 * (SPY_IOU), so the adapter's choice rule is testable.
 *
 * Broken variants break exactly one contract fact each, for load-time checks.
 * Built at test time (`writeSpyModels(tmpdir)`); nothing here is committed as .onnx.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphBuilder, type Value } from './builder.js';
import { REAL_GRAPHS, declareInputs, declareOutputs, type GraphSignature } from './real-graphs.js';

/** Logit magnitude of spy masks: well clear of 0 and of the stability offsets (+-1). */
export const SPY_LOGIT = 10;

/** The spies' predicted IoUs per mask index. */
export const SPY_IOU = {
  /** SAM multi-mask (mask 0 = single-mask answer, 1..3 candidates): best candidate is 2. */
  sam4: [0.5, 0.7, 0.95, 0.8],
  /** SAM single-mask export. */
  sam1: [0.9],
  /** EfficientSAM (unsorted): best is 1. */
  efficientsam: [0.6, 0.9, 0.7],
  /** SAM 2, osam's 4-token decoder: the best multi-mask token is 2. */
  sam2: [0.5, 0.7, 0.95, 0.8],
  /** SAM 2, samexporter's decoder (tokens 1..3 only): best is 1. */
  sam2Samexporter: [0.7, 0.95, 0.8],
} as const;

/** Logit of a SAM 2 spy's unstable single-mask token: inside the +-0.05 band, stability 0. */
export const SPY_UNSTABLE_LOGIT = 0.01;

/** What the SAM 2 spy encoder adds to the input's mean for each output, so a test can tell them apart. */
export const SPY_SAM2_OFFSETS = { image_embeddings: 0, high_res_features1: 1, high_res_features2: 2 } as const;

/** Name of the EfficientSAM decoder's third (low-res) output, left to the exporter in the real file. */
export const SPY_EFFICIENTSAM_LOW_RES_OUTPUT = REAL_GRAPHS['efficientsam-decoder'].outputs[2].name;

/** How many top rows of an H-row spy mask i (of k) are foreground. */
export function spyForegroundRows(index: number, k: number, height: number): number {
  let rows = 0;
  while (rows < height && (rows + 0.5) * (k + 1) < (index + 1) * height) rows++;
  return rows;
}

/** Options shared by the spy encoders. */
export interface SpyEncoderOptions {
  /**
   * Side of the embedding grid (64 in every real model). 32 makes a broken encoder, which
   * declares its embedding as [1, 256, 32, 32] unless `declareReal` keeps the real file's
   * (partly symbolic) declaration, so the wrong size only shows when it runs.
   */
  readonly embeddingSide?: number;
  readonly declareReal?: boolean;
  /** Add the `echo_<input>` output (default true); false makes a mirror of the real file. */
  readonly echo?: boolean;
}

/**
 * EfficientSAM spy encoder (labelme's export): `batched_images` [batch, 3, height, width]
 * -> `image_embeddings` [1, 256, 64, 64] with every element = mean of the input, plus
 * `echo_batched_images` and `echo_stretched`, the input stretched to 1024x1024 by the
 * real graph's own first step.
 */
export function buildSpyEfficientSamEncoder(options: SpyEncoderOptions = {}): Uint8Array {
  return spyEncoder('spy_efficientsam_encoder', REAL_GRAPHS['efficientsam-encoder'], options);
}

/**
 * SAM spy encoder. `mobilesam` (Acly's export): `input_image` [H, W, 3] (HWC, no batch,
 * 0..255, longest side 1024). `vit-b` (labelme's): `x` [1, 3, 1024, 1024] (the caller
 * resizes, normalises, pads). Outputs `image_embeddings` [1, 256, 64, 64] (every element =
 * mean of the input) and `echo_input_image` / `echo_x`.
 */
export function buildSpySamEncoder(variant: 'mobilesam' | 'vit-b', options: SpyEncoderOptions = {}): Uint8Array {
  return variant === 'mobilesam'
    ? spyEncoder('spy_mobilesam_encoder', REAL_GRAPHS['mobilesam-encoder'], options)
    : spyEncoder('spy_sam_vit_b_encoder', REAL_GRAPHS['sam-vit-b-encoder'], options);
}

function spyEncoder(name: string, signature: GraphSignature, options: SpyEncoderOptions): Uint8Array {
  const side = options.embeddingSide ?? 64;
  const g = new GraphBuilder({ name });
  const [input] = signature.inputs;
  const x = declareInputs(g, signature)[input.name];
  const mean = g.op('ReduceMean', [x], { keepdims: 0 });
  const embedding = g.add(g.fill([1, 256, side, side], 0), mean);
  if (side === 64 || options.declareReal) declareOutputs(g, signature, [embedding], x);
  else g.output(embedding, 'image_embeddings', 'float32', [1, 256, side, side]);
  if (options.echo ?? true) {
    g.output(x, `echo_${input.name}`, input.type, [...input.dims]);
    if (input.name === 'batched_images') {
      // What the real EfficientSAM graph does first: stretch to 1024x1024 with torch's
      // bilinear (align_corners=False, no antialiasing), exported as this Resize.
      const stretched = g.op('Resize', [x, null, null, g.i64([1, 3, 1024, 1024])], {
        mode: 'linear',
        coordinate_transformation_mode: 'half_pixel',
      });
      g.output(stretched, 'echo_stretched', 'float32', [1, 3, 1024, 1024]);
    }
  }
  return g.toBytes({ producerName: 'samlite spy-models', docString: `spy encoder (${input.name}): echoes its input` });
}

/** Options of the spy EfficientSAM decoder. */
export interface SpyEfficientSamDecoderOptions {
  /** dtype of `orig_im_size` (int64 in the contract; float32 makes a broken decoder). */
  readonly origImSizeType?: 'int64' | 'float32';
  /** Add the `echo_<input>` outputs (default true); false makes a mirror of the real file. */
  readonly echo?: boolean;
}

/**
 * EfficientSAM spy decoder, declared as labelme's export: `image_embeddings`,
 * `batched_point_coords` [1, 1, N, 2], `batched_point_labels` [1, 1, N], `orig_im_size`
 * int64 [2] -> `output_masks` [1, 1, 3, H, W], `iou_predictions` [1, 1, 3] =
 * SPY_IOU.efficientsam, the low-res logits [1, 3, 256, 256] named as the exporter did
 * (SPY_EFFICIENTSAM_LOW_RES_OUTPUT), then `echo_<input>` for the four inputs.
 */
export function buildSpyEfficientSamDecoder(options: SpyEfficientSamDecoderOptions = {}): Uint8Array {
  const real = REAL_GRAPHS['efficientsam-decoder'];
  const sizeType = options.origImSizeType ?? 'int64';
  const signature: GraphSignature = {
    ...real,
    inputs: real.inputs.map((io) => (io.name === 'orig_im_size' ? { ...io, type: sizeType } : io)),
  };
  const g = new GraphBuilder({ name: 'spy_efficientsam_decoder' });
  const inputs = declareInputs(g, signature);
  const k = SPY_IOU.efficientsam.length;
  const hw = g.cast(inputs.orig_im_size, 'int64');
  const masks = spyMasks(g, k, g.gather(hw, g.scalarI64(0)), g.gather(hw, g.scalarI64(1)));
  const lowRes = spyMasks(g, k, g.scalarI64(256), g.scalarI64(256));
  declareOutputs(g, signature, [
    g.unsqueeze(masks, [0, 1]),
    g.constant('float32', [1, 1, k], SPY_IOU.efficientsam),
    g.unsqueeze(lowRes, [0]),
  ], inputs.orig_im_size);
  if (options.echo ?? true) echoInputs(g, signature, inputs);
  return g.toBytes({ producerName: 'samlite spy-models', docString: 'spy EfficientSAM decoder: echoes its inputs' });
}

/** `echo_<input>` = Identity(input) for every input of `signature`. */
function echoInputs(g: GraphBuilder, signature: GraphSignature, inputs: Record<string, Value>): void {
  for (const io of signature.inputs) g.output(inputs[io.name], `echo_${io.name}`, io.type, [...io.dims]);
}

/** SAM decoder input names, in the export's order. */
export const SAM_DECODER_INPUTS = [
  'image_embeddings',
  'point_coords',
  'point_labels',
  'mask_input',
  'has_mask_input',
  'orig_im_size',
] as const;

/** Options of the spy SAM decoder. */
export interface SpySamDecoderOptions {
  /** Masks per run: 4 (multi-mask export, default) or 1 (single-mask); 2 makes a broken one. */
  readonly masks?: number;
  /**
   * Leave the mask count symbolic in the metadata (`iou_predictions` [n, 'num_masks']), as
   * a re-export may: samlite then learns it from a run.
   */
  readonly symbolicMaskCount?: boolean;
  /** Inputs to leave out (e.g. `['has_mask_input']` for a broken decoder). */
  readonly omitInputs?: readonly (typeof SAM_DECODER_INPUTS)[number][];
  /** Add the `echo_<input>` outputs (default true); false makes a mirror of the real file. */
  readonly echo?: boolean;
}

/**
 * SAM spy decoder, declared as Meta's export: 4 masks as MobileSAM's file, 1 as SAM
 * ViT-B's single-mask file (other counts declare [1, k, H, W] / [1, k]). Inputs
 * `image_embeddings`, `point_coords` [1, N, 2], `point_labels` [1, N], `mask_input`
 * [1, 1, 256, 256], `has_mask_input` [1], `orig_im_size` float32 [2]; outputs, in order:
 * `masks` [1, k, H, W], `iou_predictions` [1, k] (SPY_IOU.sam4 or .sam1; for other k,
 * 0.5 + 0.1 i), `low_res_masks` [1, k, 256, 256], then `echo_<input>` for every input
 * present.
 */
export function buildSpySamDecoder(options: SpySamDecoderOptions = {}): Uint8Array {
  const k = options.masks ?? 4;
  const omit = new Set<string>(options.omitInputs ?? []);
  const real = REAL_GRAPHS[k === 1 ? 'sam-vit-b-decoder' : 'mobilesam-decoder'];
  let outputs = real.outputs;
  if (k !== 1 && k !== 4) {
    outputs = [
      { name: 'masks', type: 'float32', dims: [1, k, 'H', 'W'] },
      { name: 'iou_predictions', type: 'float32', dims: [1, k] },
      { name: 'low_res_masks', type: 'float32', dims: [1, k, 256, 256] },
    ];
  }
  if (options.symbolicMaskCount) {
    outputs = outputs.map((io) => (io.name === 'iou_predictions' ? { ...io, dims: [io.dims[0], 'num_masks'] } : io));
  }
  const signature: GraphSignature = { inputs: real.inputs.filter((io) => !omit.has(io.name)), outputs };
  const g = new GraphBuilder({ name: `spy_sam_decoder_${k}` });
  const inputs = declareInputs(g, signature);
  const size = inputs.orig_im_size;
  // Without orig_im_size (a broken model) render at 256x256 so the graph stays valid.
  const hw = size ? g.cast(size, 'int64') : g.i64([256, 256]);
  const iou = k === 4 ? SPY_IOU.sam4 : k === 1 ? SPY_IOU.sam1 : Array.from({ length: k }, (_, i) => 0.5 + 0.1 * i);
  const masks = spyMasks(g, k, g.gather(hw, g.scalarI64(0)), g.gather(hw, g.scalarI64(1)));
  const lowRes = spyMasks(g, k, g.scalarI64(256), g.scalarI64(256));
  declareOutputs(g, signature, [g.unsqueeze(masks, [0]), g.constant('float32', [1, k], iou), g.unsqueeze(lowRes, [0])], inputs.point_labels);
  if (options.echo ?? true) echoInputs(g, signature, inputs);
  return g.toBytes({ producerName: 'samlite spy-models', docString: `spy SAM decoder (${k} masks): echoes its inputs` });
}

/**
 * An image classifier ([1, 3, 224, 224] -> [1, 1000] logits), for the check that a file of
 * the wrong kind is refused with one line.
 */
export function buildClassifier(): Uint8Array {
  const g = new GraphBuilder({ name: 'classifier' });
  const x = g.input('input', 'float32', [1, 3, 224, 224]);
  const pooled = g.reshape(g.op('GlobalAveragePool', [x]), [1, 3]);
  g.output(g.matmul(pooled, g.fill([3, 1000], 0.001)), 'logits', 'float32', [1, 1000]);
  return g.toBytes({ producerName: 'samlite spy-models', docString: 'not a segmenter: a 1000-class classifier' });
}

/** [k, H, W]: mask i is +SPY_LOGIT on its top rows (see spyForegroundRows), -SPY_LOGIT below. */
function spyMasks(g: GraphBuilder, k: number, height: Value, width: Value): Value {
  const rows = g.add(g.range(g.scalar(0), g.cast(height, 'float32'), g.scalar(1), 'float32'), g.scalar(0.5)); // [H]
  const lhs = g.unsqueeze(g.mul(rows, g.scalar(k + 1)), [0]); // [1, H]
  const rhs = g.mul(g.constant('float32', [k, 1], Array.from({ length: k }, (_, i) => i + 1)), g.cast(height, 'float32')); // [k, 1]
  const logit = g.where(g.op('Less', [lhs, rhs]), g.scalar(SPY_LOGIT), g.scalar(-SPY_LOGIT)); // [k, H]
  const shape = g.concat([g.i64([k]), g.reshape(height, [1]), g.reshape(width, [1])], 0);
  return g.op('Expand', [g.unsqueeze(logit, [2]), shape]);
}

/**
 * SAM 2 spy encoder, declared as osam's (`input`) or samexporter's (`image`) export:
 * [1, 3, 1024, 1024] -> the embedding and the two high-resolution feature maps, each filled
 * with the input's mean plus its SPY_SAM2_OFFSETS entry, in the export's output order, then
 * `echo_<input>`. `embeddingSide` 32 makes a broken encoder.
 */
export function buildSpySam2Encoder(variant: 'osam' | 'samexporter', options: SpyEncoderOptions = {}): Uint8Array {
  const signature = REAL_GRAPHS[variant === 'osam' ? 'sam2-encoder' : 'sam2-samexporter-encoder'];
  const g = new GraphBuilder({ name: `spy_sam2_${variant}_encoder` });
  const [input] = signature.inputs;
  const x = declareInputs(g, signature)[input.name];
  const mean = g.op('ReduceMean', [x], { keepdims: 0 });
  const side = options.embeddingSide ?? 64;
  // Output names of both exports, by the osam name the offsets are keyed on.
  const osamName: Record<string, keyof typeof SPY_SAM2_OFFSETS> = {
    image_embeddings: 'image_embeddings',
    image_embed: 'image_embeddings',
    high_res_features1: 'high_res_features1',
    high_res_feats_0: 'high_res_features1',
    high_res_features2: 'high_res_features2',
    high_res_feats_1: 'high_res_features2',
  };
  // Fixed sizes of the three tensors by osam name; the files declare some symbolically.
  const sizes: Record<keyof typeof SPY_SAM2_OFFSETS, number[]> = {
    image_embeddings: [1, 256, side, side],
    high_res_features1: [1, 32, 256, 256],
    high_res_features2: [1, 64, 128, 128],
  };
  const values = signature.outputs.map((io) => g.add(g.fill(sizes[osamName[io.name]], SPY_SAM2_OFFSETS[osamName[io.name]]), mean));
  // The real declarations (symbolic channel axes) also hide a wrong-sized embedding until it runs.
  declareOutputs(g, signature, values, x);
  if (options.echo ?? true) g.output(x, `echo_${input.name}`, input.type, [...input.dims]);
  return g.toBytes({ producerName: 'samlite spy-models', docString: `spy SAM 2 encoder (${variant}): echoes its input` });
}

/** Options of the spy SAM 2 decoder. */
export interface SpySam2DecoderOptions {
  /**
   * The single-mask token's low-resolution logits all SPY_UNSTABLE_LOGIT (stability 0), so
   * the predictor's rule falls back to the best multi-mask token. Its full-size mask keeps
   * the spy pattern. osam's decoder only.
   */
  readonly unstableSingle?: boolean;
  /** Add the `echo_<input>` outputs (default true); false makes a mirror of the real file. */
  readonly echo?: boolean;
}

/**
 * SAM 2 spy decoder, declared as osam's export (masks of all 4 tokens at `orig_im_size`,
 * `iou_predictions` SPY_IOU.sam2, `low_res_masks`) or samexporter's (only the three
 * multi-mask tokens' 256x256 logits as `masks`, `iou_predictions` SPY_IOU.sam2Samexporter).
 * Masks follow the spy pattern (spyForegroundRows); then `echo_<input>` for every input.
 */
export function buildSpySam2Decoder(variant: 'osam' | 'samexporter', options: SpySam2DecoderOptions = {}): Uint8Array {
  const signature = REAL_GRAPHS[variant === 'osam' ? 'sam2-decoder' : 'sam2-samexporter-decoder'];
  const g = new GraphBuilder({ name: `spy_sam2_${variant}_decoder` });
  const inputs = declareInputs(g, signature);
  const anchor = inputs.point_labels;
  if (variant === 'samexporter') {
    const k = SPY_IOU.sam2Samexporter.length;
    const lowRes = spyMasks(g, k, g.scalarI64(256), g.scalarI64(256));
    declareOutputs(g, signature, [g.unsqueeze(lowRes, [0]), g.constant('float32', [1, k], SPY_IOU.sam2Samexporter)], anchor);
  } else {
    const k = SPY_IOU.sam2.length;
    const hw = inputs.orig_im_size;
    const masks = spyMasks(g, k, g.gather(hw, g.scalarI64(0)), g.gather(hw, g.scalarI64(1)));
    let lowRes = spyMasks(g, k, g.scalarI64(256), g.scalarI64(256));
    if (options.unstableSingle) {
      const rest = g.slice(lowRes, [1], [k], [0]);
      lowRes = g.concat([g.fill([1, 256, 256], SPY_UNSTABLE_LOGIT), rest], 0);
    }
    declareOutputs(g, signature, [g.unsqueeze(masks, [0]), g.constant('float32', [1, k], SPY_IOU.sam2), g.unsqueeze(lowRes, [0])], anchor);
  }
  if (options.echo ?? true) echoInputs(g, signature, inputs);
  return g.toBytes({ producerName: 'samlite spy-models', docString: `spy SAM 2 decoder (${variant}): echoes its inputs` });
}

/** Every spy and broken model, by file name, with what it is for. */
export function spyModelCatalog(): Record<string, { description: string; bytes: () => Uint8Array }> {
  return {
    'spy-efficientsam-encoder.onnx': {
      description: 'EfficientSAM encoder spy (batched_images [1,3,H,W])',
      bytes: () => buildSpyEfficientSamEncoder(),
    },
    'spy-efficientsam-decoder.onnx': {
      description: 'EfficientSAM decoder spy (3 masks)',
      bytes: () => buildSpyEfficientSamDecoder(),
    },
    'spy-mobilesam-encoder.onnx': {
      description: 'SAM MobileSAM-style encoder spy (input_image [H,W,3])',
      bytes: () => buildSpySamEncoder('mobilesam'),
    },
    'spy-sam-vit-b-encoder.onnx': {
      description: 'SAM ViT-B-style encoder spy (x [1,3,1024,1024])',
      bytes: () => buildSpySamEncoder('vit-b'),
    },
    'spy-sam-decoder-4.onnx': { description: 'SAM multi-mask decoder spy (4 masks)', bytes: () => buildSpySamDecoder() },
    'spy-sam-decoder-1.onnx': {
      description: 'SAM single-mask decoder spy (1 mask)',
      bytes: () => buildSpySamDecoder({ masks: 1 }),
    },
    'spy-sam-decoder-1-symbolic.onnx': {
      description: 'SAM single-mask decoder spy whose metadata leaves the mask count symbolic',
      bytes: () => buildSpySamDecoder({ masks: 1, symbolicMaskCount: true }),
    },
    'mirror-efficientsam-encoder.onnx': {
      description: 'metadata of the real EfficientSAM encoder, nothing more',
      bytes: () => buildSpyEfficientSamEncoder({ echo: false }),
    },
    'mirror-efficientsam-decoder.onnx': {
      description: 'metadata of the real EfficientSAM decoder, nothing more',
      bytes: () => buildSpyEfficientSamDecoder({ echo: false }),
    },
    'mirror-mobilesam-encoder.onnx': {
      description: 'metadata of the real MobileSAM encoder, nothing more',
      bytes: () => buildSpySamEncoder('mobilesam', { echo: false }),
    },
    'mirror-mobilesam-decoder.onnx': {
      description: 'metadata of the real MobileSAM (4-mask) decoder, nothing more',
      bytes: () => buildSpySamDecoder({ echo: false }),
    },
    'mirror-sam-vit-b-encoder.onnx': {
      description: 'metadata of the real SAM ViT-B encoder, nothing more',
      bytes: () => buildSpySamEncoder('vit-b', { echo: false }),
    },
    'mirror-sam-vit-b-decoder.onnx': {
      description: 'metadata of the real SAM ViT-B (single-mask) decoder, nothing more',
      bytes: () => buildSpySamDecoder({ masks: 1, echo: false }),
    },
    'spy-sam2-encoder.onnx': { description: 'SAM 2 encoder spy, osam export (input [1,3,1024,1024])', bytes: () => buildSpySam2Encoder('osam') },
    'spy-sam2-decoder.onnx': { description: 'SAM 2 decoder spy, osam export (4 tokens, low_res_masks)', bytes: () => buildSpySam2Decoder('osam') },
    'spy-sam2-decoder-unstable.onnx': {
      description: 'SAM 2 decoder spy whose single-mask token is unstable (the predictor falls back to multi-mask)',
      bytes: () => buildSpySam2Decoder('osam', { unstableSingle: true }),
    },
    'spy-sam2-samexporter-encoder.onnx': {
      description: 'SAM 2 encoder spy, samexporter export (image -> high_res_feats_0/1, image_embed)',
      bytes: () => buildSpySam2Encoder('samexporter'),
    },
    'spy-sam2-samexporter-decoder.onnx': {
      description: 'SAM 2 decoder spy, samexporter export (3 low-resolution tokens)',
      bytes: () => buildSpySam2Decoder('samexporter'),
    },
    'mirror-sam2-encoder.onnx': { description: "metadata of osam's SAM 2.1 encoder, nothing more", bytes: () => buildSpySam2Encoder('osam', { echo: false }) },
    'mirror-sam2-decoder.onnx': { description: "metadata of osam's SAM 2.1 decoder, nothing more", bytes: () => buildSpySam2Decoder('osam', { echo: false }) },
    'mirror-sam2-samexporter-encoder.onnx': {
      description: "metadata of samexporter's SAM 2.1 encoder, nothing more",
      bytes: () => buildSpySam2Encoder('samexporter', { echo: false }),
    },
    'mirror-sam2-samexporter-decoder.onnx': {
      description: "metadata of samexporter's SAM 2.1 decoder, nothing more",
      bytes: () => buildSpySam2Decoder('samexporter', { echo: false }),
    },
    'broken-sam2-encoder-32.onnx': {
      description: 'SAM 2 encoder whose embedding is [1,256,32,32]',
      bytes: () => buildSpySam2Encoder('osam', { embeddingSide: 32 }),
    },
    'broken-classifier.onnx': {
      description: 'an image classifier, not a segmenter',
      bytes: buildClassifier,
    },
    'broken-efficientsam-decoder-float-size.onnx': {
      description: 'EfficientSAM decoder whose orig_im_size is float32 (must be int64)',
      bytes: () => buildSpyEfficientSamDecoder({ origImSizeType: 'float32' }),
    },
    'broken-sam-decoder-no-has-mask-input.onnx': {
      description: 'SAM decoder without the has_mask_input input',
      bytes: () => buildSpySamDecoder({ omitInputs: ['has_mask_input'] }),
    },
    'broken-sam-decoder-2-masks.onnx': {
      description: 'SAM decoder returning 2 masks (must be 4 or 1)',
      bytes: () => buildSpySamDecoder({ masks: 2 }),
    },
    'broken-efficientsam-encoder-32.onnx': {
      description: 'EfficientSAM encoder whose embedding is [1,256,32,32], declared as the real file does (symbolic H, W)',
      bytes: () => buildSpyEfficientSamEncoder({ embeddingSide: 32, declareReal: true }),
    },
    'broken-mobilesam-encoder-32.onnx': {
      description: 'MobileSAM-style encoder whose embedding is [1,256,32,32]',
      bytes: () => buildSpySamEncoder('mobilesam', { embeddingSide: 32 }),
    },
    'broken-sam-vit-b-encoder-32.onnx': {
      description: 'SAM ViT-B-style encoder whose embedding is [1,256,32,32]',
      bytes: () => buildSpySamEncoder('vit-b', { embeddingSide: 32 }),
    },
  };
}

/** Writes every spy and broken model into `dir` (created if needed); returns their paths. */
export function writeSpyModels(dir: string): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const paths: Record<string, string> = {};
  for (const [file, entry] of Object.entries(spyModelCatalog())) {
    paths[file] = join(dir, file);
    writeFileSync(paths[file], entry.bytes());
  }
  return paths;
}
