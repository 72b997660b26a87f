/**
 * Neural-network building blocks on top of GraphBuilder, for architecture-shaped
 * random-weight models (benchmarks): linear layers, LayerNorm, GELU, convolutions,
 * multi-head attention, MLPs. Weights come from a seeded generator, so a model script
 * gives the same bytes every time.
 *
 * Conventions: activations are float32; `linear` works on the last axis of any rank
 * ([..., in] -> [..., out]); attention takes [B, tokens, dim].
 */
import { GraphBuilder, type Value, float } from './builder.js';

/** Deterministic pseudo-random numbers (mulberry32 + Box-Muller) for weights. */
export class SeededRandom {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** n samples of N(0, std^2). */
  normal(n: number, std: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const u = Math.max(this.next(), 1e-12);
      const v = this.next();
      const r = Math.sqrt(-2 * Math.log(u)) * std;
      out[i] = r * Math.cos(2 * Math.PI * v);
      if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
    }
    return out;
  }
  /** n samples uniform in [-limit, limit). */
  uniform(n: number, limit: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (this.next() * 2 - 1) * limit;
    return out;
  }
}

/** IEEE half-precision bits of float32 values (round to nearest even), for float16 constants. */
export function toFloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i];
    const x = u[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    let e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let half = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const mid = 1 << (shift - 1);
      if (rem > mid || (rem === mid && half & 1)) half++;
      out[i] = sign | half;
      continue;
    }
    let half = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
    e = half >>> 10;
    out[i] = sign | (e >= 0x1f ? 0x7c00 : half);
  }
  return out;
}

/** Weight initialisation shared by the layer helpers. */
export interface Init {
  readonly rng: SeededRandom;
  /** Std of weights (default 0.02, as ViT/SAM initialise). */
  readonly std?: number;
}

/** y = x W + b over the last axis, W [in, out] random, b zeros. */
export function linear(g: GraphBuilder, x: Value, inDim: number, outDim: number, init: Init, bias = true): Value {
  const w = g.constant('float32', [inDim, outDim], init.rng.normal(inDim * outDim, init.std ?? 0.02));
  const y = g.matmul(x, w);
  return bias ? g.add(y, g.constant('float32', [outDim], new Float32Array(outDim))) : y;
}

/** LayerNormalization over the last axis (scale ones, bias zeros; opset >= 17). */
export function layerNorm(g: GraphBuilder, x: Value, dim: number, epsilon = 1e-6): Value {
  const scale = g.constant('float32', [dim], new Float32Array(dim).fill(1));
  const bias = g.constant('float32', [dim], new Float32Array(dim));
  return g.op('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: float(epsilon) });
}

/** Exact GELU, 0.5 x (1 + erf(x / sqrt 2)) (works at any opset; ORT fuses it). */
export function gelu(g: GraphBuilder, x: Value): Value {
  const e = g.op('Erf', [g.mul(x, g.scalar(Math.SQRT1_2))]);
  return g.mul(g.mul(x, g.add(e, g.scalar(1))), g.scalar(0.5));
}

/** Two-layer MLP with GELU: [..., dim] -> [..., dim]. */
export function mlp(g: GraphBuilder, x: Value, dim: number, hidden: number, init: Init): Value {
  return linear(g, gelu(g, linear(g, x, dim, hidden, init)), hidden, dim, init);
}

/** Conv2d, NCHW, square kernel, random weights, zero bias. */
export function conv2d(
  g: GraphBuilder,
  x: Value,
  inChannels: number,
  outChannels: number,
  kernel: number,
  init: Init,
  options: { stride?: number; pad?: number; groups?: number; bias?: boolean } = {},
): Value {
  const groups = options.groups ?? 1;
  const pad = options.pad ?? 0;
  const stride = options.stride ?? 1;
  const n = outChannels * (inChannels / groups) * kernel * kernel;
  const w = g.constant('float32', [outChannels, inChannels / groups, kernel, kernel], init.rng.normal(n, init.std ?? 0.02));
  const b = options.bias === false ? null : g.constant('float32', [outChannels], new Float32Array(outChannels));
  return g.op('Conv', [x, w, b], {
    kernel_shape: [kernel, kernel],
    strides: [stride, stride],
    pads: [pad, pad, pad, pad],
    group: groups,
  });
}

/**
 * Multi-head attention: q [B, Tq, dim], k and v [B, Tk, dim] -> [B, Tq, dim], with
 * random q/k/v/out projections. `internalDim` (default dim) lets SAM's two-way transformer
 * downsample its cross-attention.
 */
export function attention(
  g: GraphBuilder,
  q: Value,
  k: Value,
  v: Value,
  dim: number,
  heads: number,
  init: Init,
  internalDim = dim,
): Value {
  const headDim = internalDim / heads;
  const split = (x: Value): Value => g.transpose(g.reshape(x, [0, 0, heads, headDim]), [0, 2, 1, 3]); // [B, h, T, d]
  const qh = split(linear(g, q, dim, internalDim, init));
  const kh = split(linear(g, k, dim, internalDim, init));
  const vh = split(linear(g, v, dim, internalDim, init));
  const scores = g.mul(g.matmul(qh, g.transpose(kh, [0, 1, 3, 2])), g.scalar(1 / Math.sqrt(headDim)));
  const weights = g.op('Softmax', [scores], { axis: -1 });
  const merged = g.reshape(g.transpose(g.matmul(weights, vh), [0, 2, 1, 3]), [0, 0, internalDim]);
  return linear(g, merged, internalDim, dim, init);
}

/** A pre-norm transformer block: x + attn(LN(x)), then x + MLP(LN(x)). [B, T, dim]. */
export function transformerBlock(g: GraphBuilder, x: Value, dim: number, heads: number, mlpRatio: number, init: Init): Value {
  const n1 = layerNorm(g, x, dim);
  const a = g.add(x, attention(g, n1, n1, n1, dim, heads, init));
  return g.add(a, mlp(g, layerNorm(g, a, dim), dim, dim * mlpRatio, init));
}
