/**
 * Spy and broken ONNX models for the family-adapter tests.
 *
 * A spy follows a family's contract (names, dtypes, ranks, output order) and additionally
 * returns `echo_<input>` = Identity(input) for every input, so a test sees exactly what the
 * adapter fed the session. Its masks are synthetic and tell apart both the mask index and
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
import type { DType } from './proto.js';

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
} as const;

/** Name of the spy EfficientSAM decoder's third (low-res) output: exporter-style, on purpose. */
export const SPY_EFFICIENTSAM_LOW_RES_OUTPUT = '1869';

/** How many top rows of an H-row spy mask i (of k) are foreground. */
export function spyForegroundRows(index: number, k: number, height: number): number {
  let rows = 0;
  while (rows < height && (rows + 0.5) * (k + 1) < (index + 1) * height) rows++;
  return rows;
}

/** Options shared by the spy encoders. */
export interface SpyEncoderOptions {
  /** Side of the embedding grid (64 in every real model; 32 makes a broken encoder). */
  readonly embeddingSide?: number;
}

/**
 * EfficientSAM spy encoder: `batched_images` float32 [1, 3, H, W] -> `image_embeddings`
 * [1, 256, 64, 64] with every element = mean of the input, plus `echo_batched_images`.
 */
export function buildSpyEfficientSamEncoder(options: SpyEncoderOptions = {}): Uint8Array {
  return spyEncoder('spy_efficientsam_encoder', 'batched_images', [1, 3, 'H', 'W'], options);
}

/**
 * SAM spy encoder. `mobilesam`: `input_image` float32 [H, W, 3] (HWC, no batch, 0..255,
 * longest side 1024). `vit-b`: `x` float32 [1, 3, 1024, 1024] (the caller resizes,
 * normalises, pads). Outputs `image_embeddings` [1, 256, 64, 64] (every element = mean of
 * the input) and `echo_input_image` / `echo_x`.
 */
export function buildSpySamEncoder(variant: 'mobilesam' | 'vit-b', options: SpyEncoderOptions = {}): Uint8Array {
  return variant === 'mobilesam'
    ? spyEncoder('spy_mobilesam_encoder', 'input_image', ['H', 'W', 3], options)
    : spyEncoder('spy_sam_vit_b_encoder', 'x', [1, 3, 1024, 1024], options);
}

function spyEncoder(name: string, inputName: string, dims: (number | string)[], options: SpyEncoderOptions): Uint8Array {
  const side = options.embeddingSide ?? 64;
  const g = new GraphBuilder({ name });
  const x = g.input(inputName, 'float32', dims);
  const mean = g.op('ReduceMean', [x], { keepdims: 0 });
  const embedding = g.add(g.fill([1, 256, side, side], 0), mean);
  g.output(embedding, 'image_embeddings', 'float32', [1, 256, side, side]);
  g.output(x, `echo_${inputName}`, 'float32', dims);
  return g.toBytes({ producerName: 'samlite spy-models', docString: `spy encoder (${inputName}): echoes its input` });
}

/** Options of the spy EfficientSAM decoder. */
export interface SpyEfficientSamDecoderOptions {
  /** dtype of `orig_im_size` (int64 in the contract; float32 makes a broken decoder). */
  readonly origImSizeType?: 'int64' | 'float32';
}

/**
 * EfficientSAM spy decoder. Inputs as the contract: `image_embeddings`,
 * `batched_point_coords` [1, 1, N, 2], `batched_point_labels` [1, 1, N], `orig_im_size`
 * int64 [2]. Outputs, in order: `output_masks` [1, 1, 3, H, W], `iou_predictions`
 * [1, 1, 3] = SPY_IOU.efficientsam, low-res [1, 1, 3, 256, 256] named
 * SPY_EFFICIENTSAM_LOW_RES_OUTPUT, then `echo_<input>` for the four inputs.
 */
export function buildSpyEfficientSamDecoder(options: SpyEfficientSamDecoderOptions = {}): Uint8Array {
  const sizeType = options.origImSizeType ?? 'int64';
  const g = new GraphBuilder({ name: 'spy_efficientsam_decoder' });
  const inputs: [string, DType, (number | string)[]][] = [
    ['image_embeddings', 'float32', [1, 256, 64, 64]],
    ['batched_point_coords', 'float32', [1, 1, 'num_points', 2]],
    ['batched_point_labels', 'float32', [1, 1, 'num_points']],
    ['orig_im_size', sizeType, [2]],
  ];
  const values = inputs.map(([name, dtype, dims]) => g.input(name, dtype, dims));
  const size = values[3];
  const k = SPY_IOU.efficientsam.length;
  const hw = g.cast(size, 'int64');
  const masks = spyMasks(g, k, g.gather(hw, g.scalarI64(0)), g.gather(hw, g.scalarI64(1)));
  const lowRes = spyMasks(g, k, g.scalarI64(256), g.scalarI64(256));
  g.output(g.unsqueeze(masks, [0, 1]), 'output_masks', 'float32', [1, 1, k, 'H', 'W']);
  g.output(g.constant('float32', [1, 1, k], SPY_IOU.efficientsam), 'iou_predictions', 'float32', [1, 1, k]);
  g.output(g.unsqueeze(lowRes, [0, 1]), SPY_EFFICIENTSAM_LOW_RES_OUTPUT, 'float32', [1, 1, k, 256, 256]);
  inputs.forEach(([name, dtype, dims], i) => g.output(values[i], `echo_${name}`, dtype, dims));
  return g.toBytes({ producerName: 'samlite spy-models', docString: 'spy EfficientSAM decoder: echoes its inputs' });
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
  /** Inputs to leave out (e.g. `['has_mask_input']` for a broken decoder). */
  readonly omitInputs?: readonly (typeof SAM_DECODER_INPUTS)[number][];
}

/**
 * SAM spy decoder. Inputs as Meta's export (`image_embeddings`, `point_coords` [1, N, 2],
 * `point_labels` [1, N], `mask_input` [1, 1, 256, 256], `has_mask_input` [1],
 * `orig_im_size` float32 [2]). Outputs, in order: `masks` [1, k, H, W], `iou_predictions`
 * [1, k] (SPY_IOU.sam4 or .sam1; for other k, 0.5 + 0.1 i), `low_res_masks`
 * [1, k, 256, 256], then `echo_<input>` for every input present.
 */
export function buildSpySamDecoder(options: SpySamDecoderOptions = {}): Uint8Array {
  const k = options.masks ?? 4;
  const omit = new Set<string>(options.omitInputs ?? []);
  const g = new GraphBuilder({ name: `spy_sam_decoder_${k}` });
  const dims: Record<(typeof SAM_DECODER_INPUTS)[number], (number | string)[]> = {
    image_embeddings: [1, 256, 64, 64],
    point_coords: [1, 'num_points', 2],
    point_labels: [1, 'num_points'],
    mask_input: [1, 1, 256, 256],
    has_mask_input: [1],
    orig_im_size: [2],
  };
  const present = SAM_DECODER_INPUTS.filter((name) => !omit.has(name));
  const values = new Map<string, Value>(present.map((name) => [name, g.input(name, 'float32', dims[name])]));
  const size = values.get('orig_im_size');
  // Without orig_im_size (a broken model) render at 256x256 so the graph stays valid.
  const hw = size ? g.cast(size, 'int64') : g.i64([256, 256]);
  const iou = k === 4 ? SPY_IOU.sam4 : k === 1 ? SPY_IOU.sam1 : Array.from({ length: k }, (_, i) => 0.5 + 0.1 * i);
  const masks = spyMasks(g, k, g.gather(hw, g.scalarI64(0)), g.gather(hw, g.scalarI64(1)));
  const lowRes = spyMasks(g, k, g.scalarI64(256), g.scalarI64(256));
  g.output(g.unsqueeze(masks, [0]), 'masks', 'float32', [1, k, 'H', 'W']);
  g.output(g.constant('float32', [1, k], iou), 'iou_predictions', 'float32', [1, k]);
  g.output(g.unsqueeze(lowRes, [0]), 'low_res_masks', 'float32', [1, k, 256, 256]);
  for (const name of present) g.output(values.get(name)!, `echo_${name}`, 'float32', dims[name]);
  return g.toBytes({ producerName: 'samlite spy-models', docString: `spy SAM decoder (${k} masks): echoes its inputs` });
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
      description: 'EfficientSAM encoder whose embedding is [1,256,32,32]',
      bytes: () => buildSpyEfficientSamEncoder({ embeddingSide: 32 }),
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
