/**
 * A SAM-shaped mask decoder with random weights, behind either family's decoder contract.
 *
 * The core is segment-anything's MaskDecoder: prompt tokens (positional encoding of the
 * points by random Fourier features plus a learned embedding per label), one IoU token and
 * four mask tokens, a two-way transformer (depth 2, width 256, 8 heads, MLP 2048,
 * cross-attention through 128), output upscaling by two 2x2 stride-2 transposed convolutions
 * to 32 channels at 256x256, one hypernetwork MLP per mask token, and the IoU head.
 *
 * - SAM I/O (Meta's `SamOnnxModel` export): points in the 1024 frame, label -1 padding,
 *   `mask_input` through the mask-downscaling convs blended with the no-mask embedding by
 *   `has_mask_input` (the export runs the convs on every call), 4 masks; `masks` upsampled
 *   to 1024, cropped to the resized image, resized to `orig_im_size`.
 * - EfficientSAM I/O (labelme's export): points in `orig_im_size` pixels rescaled inside,
 *   at most 6 used and padded to 6 with -1, `orig_im_size` int64, the dense no-mask
 *   embedding, masks 1..3 of the 4 tokens (EfficientSAM drops the first), `masks` resized
 *   bilinearly from 256x256 to `orig_im_size` (the PyTorch model uses bicubic; the
 *   contract describes bilinear, which is also the cheaper of the two).
 *
 * The weights are random, so masks and scores are noise. Two fixed gains give the noise a
 * trained model's magnitudes (logits of order +-10 rather than +-0.1, predicted IoUs
 * spread around segment-everything's 0.88 threshold rather than all equal), so the
 * downstream filters work on numbers of realistic size; see `LOGIT_GAIN` and `IOU_GAIN`.
 */
import type { Value } from '../onnx/builder.js';
import { REAL_GRAPHS, declareInputs, declareOutputs } from '../onnx/real-graphs.js';
import { SeededRandom } from '../onnx/nn.js';
import { Net } from './net.js';

const DIM = 256;
const GRID = 64;
const LOW_RES = 256;
const FRAME = 1024;
const MASK_TOKENS = 4;

/** Shape of the two-way transformer and heads (SAM: depth 2, 8 heads, MLP 2048). */
export interface MaskDecoderConfig {
  readonly depth: number;
  readonly heads: number;
  readonly mlpDim: number;
}

/** Gain on the mask logits: random weights give an RMS near 0.03; this makes it about 8. */
export const LOGIT_GAIN = 2000;
/** Gain on the IoU head's raw output (RMS near 0.002 with random weights): a spread of about 0.05. */
export const IOU_GAIN = 5;
/** Predicted IoUs are centred here, segment-everything's default cut, so about half pass it. */
export const IOU_CENTRE = 0.88;

/** The 2 x 128 Gaussian matrix of PositionEmbeddingRandom (drawn from the model's seed). */
function gaussianMatrix(rng: SeededRandom): Float32Array {
  return rng.normal(2 * (DIM / 2), 1);
}

/** Random Fourier features of coordinates already in [0, 1]: [..., 2] -> [..., 256]. */
function fourier(net: Net, unit: Value, gaussian: Value): Value {
  const g = net.g;
  const c = g.sub(g.mul(unit, g.scalar(2)), g.scalar(1));
  const proj = g.mul(g.matmul(c, gaussian), g.scalar(2 * Math.PI));
  return g.concat([g.op('Sin', [proj]), g.op('Cos', [proj])], -1);
}

/**
 * The dense positional encoding of the 64x64 grid as tokens [1, 4096, 256]. Computed in the
 * graph from the cell centres, as the export does; every input is a constant, so ONNX
 * Runtime folds it when loading (storing it would add 4 MB to the file).
 */
function densePe(net: Net, gaussian: Value): Value {
  const centres = new Float32Array(GRID * GRID * 2);
  for (let y = 0; y < GRID; y++) {
    for (let x = 0; x < GRID; x++) {
      centres[2 * (y * GRID + x)] = (x + 0.5) / GRID;
      centres[2 * (y * GRID + x) + 1] = (y + 0.5) / GRID;
    }
  }
  return fourier(net, net.g.constant('float32', [1, GRID * GRID, 2], centres), gaussian);
}

/** A plain MLP with ReLU between layers: [rows, in] -> [rows, out]. */
function reluMlp(net: Net, x: Value, rows: number, dims: readonly number[]): Value {
  let y = x;
  for (let i = 0; i + 1 < dims.length; i++) {
    y = net.linear(y, rows, dims[i], dims[i + 1]);
    if (i + 2 < dims.length) y = net.relu(y);
  }
  return y;
}

/**
 * SAM's MaskDecoder on one prompt: `sparse` [1, P, 256] prompt tokens, `dense` added to the
 * image embedding (broadcast from [1, 256, 1, 1] or full). `promptTokens` = P, for MACs.
 * Returns low-res mask logits [1, 4, 256, 256] and predicted IoUs [1, 4].
 */
function maskDecoder(
  net: Net,
  embeddings: Value,
  dense: Value,
  sparse: Value,
  promptTokens: number,
  imagePe: Value,
  cfg: MaskDecoderConfig,
): { masks: Value; iou: Value } {
  const g = net.g;
  const tokens = 1 + MASK_TOKENS + promptTokens;
  const image = GRID * GRID;
  const queryPe = g.concat([net.weight([1, 1 + MASK_TOKENS, DIM]), sparse], 1);
  let queries = queryPe;
  let keys = g.transpose(g.reshape(g.add(embeddings, dense), [1, DIM, image]), [0, 2, 1]);
  const attn = (q: Value, k: Value, v: Value, tq: number, tk: number, internal: number) =>
    net.attention(q, k, v, { batch: 1, tq, tk, dim: DIM, heads: cfg.heads, internalDim: internal });

  net.section('two_way_transformer', () => {
    for (let i = 0; i < cfg.depth; i++) {
      if (i === 0) {
        queries = attn(queries, queries, queries, tokens, tokens, DIM);
      } else {
        const q = g.add(queries, queryPe);
        queries = g.add(queries, attn(q, q, queries, tokens, tokens, DIM));
      }
      queries = net.layerNorm(queries, DIM, 1e-5);
      let q = g.add(queries, queryPe);
      let k = g.add(keys, imagePe);
      queries = net.layerNorm(g.add(queries, attn(q, k, keys, tokens, image, DIM / 2)), DIM, 1e-5);
      const mlp = net.linear(net.relu(net.linear(queries, tokens, DIM, cfg.mlpDim)), tokens, cfg.mlpDim, DIM);
      queries = net.layerNorm(g.add(queries, mlp), DIM, 1e-5);
      q = g.add(queries, queryPe);
      k = g.add(keys, imagePe);
      keys = net.layerNorm(g.add(keys, attn(k, q, queries, image, tokens, DIM / 2)), DIM, 1e-5);
    }
    const q = g.add(queries, queryPe);
    const k = g.add(keys, imagePe);
    queries = net.layerNorm(g.add(queries, attn(q, k, keys, tokens, image, DIM / 2)), DIM, 1e-5);
  });

  const upscaled = net.section('output_upscaling', () => {
    const grid = g.reshape(g.transpose(keys, [0, 2, 1]), [1, DIM, GRID, GRID]);
    const a = net.gelu(net.layerNorm2d(net.convTranspose2x(grid, DIM, DIM / 4, GRID, GRID), DIM / 4));
    const b = net.gelu(net.convTranspose2x(a, DIM / 4, DIM / 8, 2 * GRID, 2 * GRID));
    return g.reshape(b, [1, DIM / 8, LOW_RES * LOW_RES]);
  });

  return net.section('heads', () => {
    // One 3-layer hypernetwork MLP per mask token, run as one batched product over tokens.
    const maskTokens = g.transpose(g.slice(queries, [1], [1 + MASK_TOKENS], [1]), [1, 0, 2]); // [4, 1, 256]
    let h = maskTokens;
    const layers = [DIM, DIM, DIM, DIM / 8];
    for (let i = 0; i + 1 < layers.length; i++) {
      const last = i + 2 === layers.length;
      net.count(MASK_TOKENS * layers[i] * layers[i + 1]);
      const w = net.weight([MASK_TOKENS, layers[i], layers[i + 1]]);
      h = g.add(g.matmul(h, w), net.filled([MASK_TOKENS, 1, layers[i + 1]], 0));
      if (!last) h = net.relu(h);
    }
    const hyper = g.reshape(h, [1, MASK_TOKENS, DIM / 8]);
    net.count(MASK_TOKENS * (DIM / 8) * LOW_RES * LOW_RES);
    const masks = g.mul(g.reshape(g.matmul(hyper, upscaled), [1, MASK_TOKENS, LOW_RES, LOW_RES]), g.scalar(LOGIT_GAIN));
    const iouToken = g.reshape(g.slice(queries, [0], [1], [1]), [1, DIM]);
    const iou = g.add(g.mul(reluMlp(net, iouToken, 1, [DIM, DIM, DIM, MASK_TOKENS]), g.scalar(IOU_GAIN)), g.scalar(IOU_CENTRE));
    return { masks, iou };
  });
}

/** Sum over labels of (label == value) * embedding row: [1, N, 1] labels -> [1, N, 256]. */
function labelEmbeddings(net: Net, labels: Value, values: readonly number[]): Value {
  const g = net.g;
  const onehot = g.cast(g.op('Equal', [labels, g.f32(values)]), 'float32'); // [1, N, k]
  return g.matmul(onehot, net.weight([values.length, DIM]));
}

/**
 * Meta's SAM decoder export: image_embeddings, point_coords [1, N, 2] (1024 frame),
 * point_labels [1, N], mask_input [1, 1, 256, 256], has_mask_input [1], orig_im_size
 * float32 [2] -> masks [1, 4, H, W], iou_predictions [1, 4], low_res_masks [1, 4, 256, 256].
 */
export function buildSamIoDecoder(net: Net, cfg: MaskDecoderConfig): void {
  const g = net.g;
  const signature = REAL_GRAPHS['mobilesam-decoder'];
  const inputs = declareInputs(g, signature);
  const { image_embeddings: embeddings, point_coords: coords, point_labels: labels, mask_input: maskInput } = inputs;
  const { has_mask_input: hasMask, orig_im_size: origSize } = inputs;

  const gaussian = g.constant('float32', [2, DIM / 2], gaussianMatrix(net.rng));
  net.countParams(2 * (DIM / 2));
  const imagePe = densePe(net, gaussian);

  const sparse = net.section('prompt_encoder', () => {
    const pe = fourier(net, g.div(g.add(coords, g.scalar(0.5)), g.scalar(FRAME)), gaussian);
    const lab = g.unsqueeze(labels, [2]);
    const notPadding = g.cast(g.op('Not', [g.op('Equal', [lab, g.scalar(-1)])]), 'float32');
    return g.add(g.mul(pe, notPadding), labelEmbeddings(net, lab, [-1, 0, 1, 2, 3]));
  });
  const dense = net.section('mask_downscaling', () => {
    let m = net.gelu(net.layerNorm2d(net.conv(maskInput, 1, 4, 2, { h: 128, w: 128 }, { stride: 2 }), 4));
    m = net.gelu(net.layerNorm2d(net.conv(m, 4, 16, 2, { h: GRID, w: GRID }, { stride: 2 }), 16));
    m = net.conv(m, 16, DIM, 1, { h: GRID, w: GRID });
    const has = g.reshape(hasMask, [1, 1, 1, 1]);
    const noMask = net.weight([1, DIM, 1, 1]);
    return g.add(g.mul(has, m), g.mul(g.sub(g.scalar(1), has), noMask));
  });
  // A click is one point plus SAM's padding point: 2 prompt tokens for the MAC count.
  const { masks, iou } = maskDecoder(net, embeddings, dense, sparse, 2, imagePe, cfg);

  const full = net.section('postprocess', () => {
    const up = g.op('Resize', [masks, null, null, g.i64([1, MASK_TOKENS, FRAME, FRAME])], {
      mode: 'linear',
      coordinate_transformation_mode: 'pytorch_half_pixel',
    });
    const scale = g.div(g.scalar(FRAME), g.reduce('ReduceMax', origSize, [0]));
    const prepadded = g.cast(g.op('Floor', [g.add(g.mul(origSize, scale), g.scalar(0.5))]), 'int64');
    const cropped = g.op('Slice', [up, g.i64([0, 0]), prepadded, g.i64([2, 3])]);
    const sizes = g.concat([g.i64([1, MASK_TOKENS]), g.cast(origSize, 'int64')], 0);
    return g.op('Resize', [cropped, null, null, sizes], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' });
  });
  declareOutputs(g, signature, [full, iou, masks], labels);
}

/** The most points EfficientSAM's decoder reads; it pads to this many itself. */
const EFFICIENTSAM_POINTS = 6;

/**
 * labelme's EfficientSAM decoder export: image_embeddings, batched_point_coords
 * [1, 1, N, 2] (orig_im_size pixels), batched_point_labels [1, 1, N], orig_im_size int64
 * [2] -> masks [1, 1, 3, H, W], iou_predictions [1, 1, 3], low-res [1, 3, 256, 256].
 */
export function buildEfficientSamIoDecoder(net: Net, cfg: MaskDecoderConfig): void {
  const g = net.g;
  const signature = REAL_GRAPHS['efficientsam-decoder'];
  const inputs = declareInputs(g, signature);
  const { image_embeddings: embeddings, batched_point_coords: coords, batched_point_labels: labels, orig_im_size: origSize } = inputs;

  const gaussian = g.constant('float32', [2, DIM / 2], gaussianMatrix(net.rng));
  net.countParams(2 * (DIM / 2));
  const imagePe = densePe(net, gaussian);

  const sparse = net.section('prompt_encoder', () => {
    // First 6 points, padded to 6 with (-1, -1) labelled -1, as predict_masks does.
    const first = (x: Value): Value => g.slice(x, [0], [EFFICIENTSAM_POINTS], [2]);
    const c6 = first(coords);
    const l6 = first(labels);
    const count = g.slice(g.shape(c6), [2], [3], [0]);
    const missing = g.sub(g.i64([EFFICIENTSAM_POINTS]), count);
    const zeros3 = g.i64([0, 0, 0]);
    const paddedCoords = g.op('Pad', [c6, g.concat([g.i64([0, 0, 0, 0, 0, 0]), missing, g.i64([0])], 0), g.scalar(-1)]);
    const paddedLabels = g.op('Pad', [l6, g.concat([zeros3, g.i64([0, 0]), missing], 0), g.scalar(-1)]);
    // (x, y) * 1024 / (W, H) where the coordinate is >= 0, else -1.
    const wh = g.gather(g.cast(origSize, 'float32'), g.i64([1, 0]));
    const rescaled = g.where(
      g.op('GreaterOrEqual', [paddedCoords, g.scalar(0)]),
      g.div(g.mul(paddedCoords, g.scalar(FRAME)), wh),
      g.scalar(-1),
    );
    const pe = fourier(net, g.div(g.add(rescaled, g.scalar(0.5)), g.scalar(FRAME)), gaussian);
    const pe3 = g.reshape(pe, [1, EFFICIENTSAM_POINTS, DIM]);
    const lab = g.reshape(paddedLabels, [1, EFFICIENTSAM_POINTS, 1]);
    return g.add(pe3, labelEmbeddings(net, lab, [-1, 1, 2, 3]));
  });
  const noMask = net.weight([1, DIM, 1, 1]);
  const { masks, iou } = maskDecoder(net, embeddings, noMask, sparse, EFFICIENTSAM_POINTS, imagePe, cfg);
  const masks3 = g.slice(masks, [1], [MASK_TOKENS], [1]);
  const iou3 = g.slice(iou, [1], [MASK_TOKENS], [1]);
  const full = net.section('postprocess', () => {
    const sizes = g.concat([g.i64([1, MASK_TOKENS - 1]), origSize], 0);
    return g.op('Resize', [masks3, null, null, sizes], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' });
  });
  // The third output, the low-res logits [B*Q, 3, 256, 256], under the exporter-chosen name.
  declareOutputs(g, signature, [g.unsqueeze(full, [0]), g.reshape(iou3, [1, 1, MASK_TOKENS - 1]), masks3], origSize);
}
