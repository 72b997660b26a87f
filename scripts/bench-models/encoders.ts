/**
 * Architecture-shaped image encoders with random weights, for timing only.
 *
 * - EfficientSAM's encoder (yformer/EfficientSAM `efficient_sam_encoder.py`): a plain ViT,
 *   patch 16 at 1024x1024, global attention over all 4096 tokens in every block, absolute
 *   position embedding learned at 224 (14x14 + cls) and resized bicubically to 64x64, then
 *   SAM's neck (1x1 conv to 256, LayerNorm2d, 3x3 conv, LayerNorm2d).
 * - MobileSAM's TinyViT-5M (`tiny_vit_sam.py`): a conv stem and two MBConv blocks at 256x256,
 *   then windowed-attention stages at 128x128 (dim 128), 64x64 (dim 160, window 14) and
 *   64x64 (dim 320, the last patch merging at stride 1), then the same neck.
 *
 * Both sit behind the exact input contract of the published export (see
 * docs/model-contracts.md): the EfficientSAM graph stretches any image to 1024x1024 and
 * normalises it; the MobileSAM graph takes HWC 0..255 already resized to longest side 1024,
 * normalises and zero-pads. Batch norms of TinyViT are folded into the conv biases, as an
 * exported inference graph has them.
 */
import type { Value } from '../onnx/builder.js';
import { REAL_GRAPHS, declareInputs, declareOutputs } from '../onnx/real-graphs.js';
import { Net } from './net.js';

/** Side of the model frame and of the embedding grid. */
const FRAME = 1024;
const GRID = 64;
const EMBED = 256;

/** EfficientSAM ViT shape. */
export interface VitEncoderConfig {
  readonly width: number;
  readonly depth: number;
  readonly heads: number;
  readonly mlpRatio: number;
}

/** TinyViT shape (MobileSAM uses [64, 128, 160, 320], [2, 2, 6, 2], [2, 4, 5, 10], [7, 7, 14, 7]). */
export interface TinyVitEncoderConfig {
  readonly dims: readonly [number, number, number, number];
  readonly depths: readonly [number, number, number, number];
  readonly heads: readonly [number, number, number];
  readonly windows: readonly [number, number, number];
  readonly mlpRatio: number;
  readonly mbconvExpand: number;
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];
const SAM_MEAN = [123.675, 116.28, 103.53];
const SAM_STD = [58.395, 57.12, 57.375];

/** SAM's neck: [1, C, 64, 64] -> `image_embeddings` [1, 256, 64, 64]. */
function neck(net: Net, x: Value, channels: number): Value {
  return net.section('neck', () => {
    const side = { h: GRID, w: GRID };
    let y = net.layerNorm2d(net.conv(x, channels, EMBED, 1, side, { bias: false }), EMBED);
    y = net.layerNorm2d(net.conv(y, EMBED, EMBED, 3, side, { pad: 1, bias: false }), EMBED);
    return y;
  });
}

/**
 * EfficientSAM-family encoder: `batched_images` [1, 3, H, W] RGB 0..1, any size ->
 * `image_embeddings` [1, 256, 64, 64].
 */
export function buildVitEncoder(net: Net, cfg: VitEncoderConfig): void {
  const g = net.g;
  const { width: D, depth, heads } = cfg;
  const signature = REAL_GRAPHS['efficientsam-encoder'];
  const image = declareInputs(g, signature).batched_images;
  // Stretched, not letterboxed (F.interpolate bilinear, align_corners=False, exported as
  // this Resize), then ImageNet normalisation.
  const stretched = g.op('Resize', [image, null, null, g.i64([1, 3, FRAME, FRAME])], {
    mode: 'linear',
    coordinate_transformation_mode: 'half_pixel',
  });
  const mean = g.constant('float32', [1, 3, 1, 1], IMAGENET_MEAN);
  const std = g.constant('float32', [1, 3, 1, 1], IMAGENET_STD);
  const normalised = g.div(g.sub(stretched, mean), std);

  const tokens = GRID * GRID;
  let x = net.section('patch_embed', () => {
    const patches = net.conv(normalised, 3, D, 16, { h: GRID, w: GRID }, { stride: 16 });
    return g.reshape(g.transpose(patches, [0, 2, 3, 1]), [1, tokens, D]);
  });
  // Position embedding trained at 224 (14x14 + cls), resized bicubically at run time as in
  // get_abs_pos; ONNX Runtime folds this into a constant when it loads the model.
  const posTrained = net.weight([1, 14 * 14 + 1, D]);
  const pos14 = g.transpose(g.reshape(g.slice(posTrained, [1], [14 * 14 + 1], [1]), [1, 14, 14, D]), [0, 3, 1, 2]);
  const pos64 = g.op('Resize', [pos14, null, null, g.i64([1, D, GRID, GRID])], {
    mode: 'cubic',
    cubic_coeff_a: -0.75,
    coordinate_transformation_mode: 'pytorch_half_pixel',
  });
  x = g.add(x, g.reshape(g.transpose(pos64, [0, 2, 3, 1]), [1, tokens, D]));

  net.section('blocks', () => {
    for (let i = 0; i < depth; i++) {
      const n1 = net.layerNorm(x, D);
      x = g.add(x, net.attention(n1, n1, n1, { batch: 1, tq: tokens, tk: tokens, dim: D, heads }));
      const n2 = net.layerNorm(x, D);
      const hidden = D * cfg.mlpRatio;
      x = g.add(x, net.linear(net.gelu(net.linear(n2, tokens, D, hidden)), tokens, hidden, D));
    }
  });
  const grid = g.transpose(g.reshape(x, [1, GRID, GRID, D]), [0, 3, 1, 2]);
  declareOutputs(g, signature, [neck(net, grid, D)], image);
}

/** Conv + folded batch norm (+ optional GELU), TinyViT's Conv2d_BN. */
function convBn(
  net: Net,
  x: Value,
  inC: number,
  outC: number,
  kernel: number,
  out: { h: number; w: number },
  options: { stride?: number; groups?: number; act?: boolean } = {},
): Value {
  const y = net.conv(x, inC, outC, kernel, out, { stride: options.stride, pad: (kernel - 1) / 2, groups: options.groups });
  return options.act ? net.gelu(y) : y;
}

/**
 * TinyViT window attention over [1, side*side, C] tokens: pad to a multiple of the window,
 * split into windows, attention with a per-head relative-position bias, merge, crop.
 */
function windowAttention(net: Net, x: Value, side: number, dim: number, heads: number, window: number): Value {
  const g = net.g;
  const padded = Math.ceil(side / window) * window;
  const n = padded / window;
  let grid = g.reshape(x, [1, side, side, dim]);
  if (padded !== side) grid = g.op('Pad', [grid, g.i64([0, 0, 0, 0, 0, padded - side, padded - side, 0])]);
  const windows = g.reshape(g.transpose(g.reshape(grid, [1, n, window, n, window, dim]), [0, 1, 3, 2, 4, 5]), [n * n, window * window, dim]);
  const normed = net.layerNorm(windows, dim, 1e-5);
  // The trained table has one bias per head and relative offset; gathered per pair here,
  // so it is stored expanded but counted as the table it comes from.
  const area = window * window;
  const table = net.rng.normal(heads * area, 0.02);
  const bias = new Float32Array(heads * area * area);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < area; i++) {
      for (let j = 0; j < area; j++) {
        const dy = Math.abs(Math.floor(i / window) - Math.floor(j / window));
        const dx = Math.abs((i % window) - (j % window));
        bias[(h * area + i) * area + j] = table[h * area + dy * window + dx];
      }
    }
  }
  net.countParams(heads * area);
  const biasValue = g.constant('float32', [1, heads, area, area], bias);
  const attended = net.attention(normed, normed, normed, { batch: n * n, tq: area, tk: area, dim, heads }, biasValue);
  let merged = g.reshape(g.transpose(g.reshape(attended, [1, n, n, window, window, dim]), [0, 1, 3, 2, 4, 5]), [1, padded, padded, dim]);
  if (padded !== side) merged = g.slice(merged, [0, 0], [side, side], [1, 2]);
  return g.reshape(merged, [1, side * side, dim]);
}

/** One TinyViT block on [1, side*side, dim] tokens. */
function tinyVitBlock(net: Net, x: Value, side: number, dim: number, heads: number, window: number, mlpRatio: number): Value {
  const g = net.g;
  const tokens = side * side;
  let y = g.add(x, windowAttention(net, x, side, dim, heads, window));
  const nchw = g.reshape(g.transpose(y, [0, 2, 1]), [1, dim, side, side]);
  const local = convBn(net, nchw, dim, dim, 3, { h: side, w: side }, { groups: dim });
  y = g.transpose(g.reshape(local, [1, dim, tokens]), [0, 2, 1]);
  const hidden = dim * mlpRatio;
  const mlp = net.linear(net.gelu(net.linear(net.layerNorm(y, dim, 1e-5), tokens, dim, hidden)), tokens, hidden, dim);
  return g.add(y, mlp);
}

/** TinyViT PatchMerging on NCHW: 1x1 conv, depthwise 3x3 (stride 2, or 1 into the last stage), 1x1 conv. */
function patchMerging(net: Net, x: Value, inSide: number, inC: number, outC: number, stride: number): Value {
  const outSide = inSide / stride;
  let y = convBn(net, x, inC, outC, 1, { h: inSide, w: inSide }, { act: true });
  y = convBn(net, y, outC, outC, 3, { h: outSide, w: outSide }, { stride, groups: outC, act: true });
  return convBn(net, y, outC, outC, 1, { h: outSide, w: outSide });
}

/**
 * SAM-family MobileSAM-style encoder: `input_image` [H, W, 3] RGB 0..255, longest side 1024
 * -> `image_embeddings` [1, 256, 64, 64], through a TinyViT-shaped network.
 */
export function buildTinyVitEncoder(net: Net, cfg: TinyVitEncoderConfig): void {
  const g = net.g;
  const signature = REAL_GRAPHS['mobilesam-encoder'];
  const image = declareInputs(g, signature).input_image;
  const chw = g.unsqueeze(g.transpose(image, [2, 0, 1]), [0]);
  const normalised = g.div(g.sub(chw, g.constant('float32', [1, 3, 1, 1], SAM_MEAN)), g.constant('float32', [1, 3, 1, 1], SAM_STD));
  // Zero padding bottom/right to the 1024 frame, after normalising (as SAM's preprocess).
  const shape = g.shape(image);
  const padH = g.sub(g.i64([FRAME]), g.slice(shape, [0], [1], [0]));
  const padW = g.sub(g.i64([FRAME]), g.slice(shape, [1], [2], [0]));
  const framed = g.op('Pad', [normalised, g.concat([g.i64([0, 0, 0, 0, 0, 0]), padH, padW], 0)]);
  // Fixes the frame's shape for the runtime (the Pad amount is data-dependent).
  let x = g.reshape(framed, [1, 3, FRAME, FRAME]);

  const [d0, d1, d2, d3] = cfg.dims;
  x = net.section('stem', () => {
    const half = convBn(net, x, 3, d0 / 2, 3, { h: 512, w: 512 }, { stride: 2, act: true });
    return convBn(net, half, d0 / 2, d0, 3, { h: 256, w: 256 }, { stride: 2 });
  });
  x = net.section('stage0_mbconv', () => {
    let y = x;
    const hidden = d0 * cfg.mbconvExpand;
    const side = { h: 256, w: 256 };
    for (let i = 0; i < cfg.depths[0]; i++) {
      let z = convBn(net, y, d0, hidden, 1, side, { act: true });
      z = convBn(net, z, hidden, hidden, 3, side, { groups: hidden, act: true });
      z = convBn(net, z, hidden, d0, 1, side);
      y = net.gelu(g.add(y, z));
    }
    return patchMerging(net, y, 256, d0, d1, 2);
  });
  const toTokens = (v: Value, c: number, side: number): Value => g.transpose(g.reshape(v, [1, c, side * side]), [0, 2, 1]);
  const toGrid = (v: Value, c: number, side: number): Value => g.reshape(g.transpose(v, [0, 2, 1]), [1, c, side, side]);
  const stage = (name: string, input: Value, side: number, dim: number, depth: number, heads: number, window: number): Value =>
    net.section(name, () => {
      let t = toTokens(input, dim, side);
      for (let i = 0; i < depth; i++) t = tinyVitBlock(net, t, side, dim, heads, window, cfg.mlpRatio);
      return toGrid(t, dim, side);
    });
  x = stage('stage1', x, 128, d1, cfg.depths[1], cfg.heads[0], cfg.windows[0]);
  x = net.section('merge1', () => patchMerging(net, x, 128, d1, d2, 2));
  x = stage('stage2', x, GRID, d2, cfg.depths[2], cfg.heads[1], cfg.windows[1]);
  // MobileSAM keeps 64x64 into the last stage (stride 1), so the embedding grid is 64x64.
  x = net.section('merge2', () => patchMerging(net, x, GRID, d2, d3, 1));
  x = stage('stage3', x, GRID, d3, cfg.depths[3], cfg.heads[2], cfg.windows[2]);
  declareOutputs(g, signature, [neck(net, x, d3)], image);
}
