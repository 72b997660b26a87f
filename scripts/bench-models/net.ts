/**
 * A thin layer over GraphBuilder for the benchmark models that counts, as it emits each
 * weighted operator, the multiply-adds it costs and the parameters it stores.
 *
 * Counting where the graph is built (rather than in a separate formula) keeps the FLOP
 * figures in docs/performance.md honest: they are the figures of the graph that is timed. Only
 * MatMul/Gemm, Conv and ConvTranspose are counted; element-wise ops, softmax, norms and
 * resizes are memory-bound and left out, as published MAC counts also leave them out.
 */
import { GraphBuilder, type Value, float } from '../onnx/builder.js';
import { SeededRandom } from '../onnx/nn.js';

/** Multiply-adds and parameters of a model, in total and per named part. */
export interface CostReport {
  /** Multiply-accumulate operations of one run (1 MAC = 2 FLOPs). */
  readonly macs: number;
  /** Stored weights (what a trained model of this shape has), not graph constants. */
  readonly params: number;
  /** MACs per part, in build order (e.g. `patch_embed`, `blocks`, `neck`). */
  readonly parts: Readonly<Record<string, number>>;
}

/** GraphBuilder plus a seeded weight source and cost counters. */
export class Net {
  readonly g: GraphBuilder;
  readonly rng: SeededRandom;
  private macs = 0;
  private params = 0;
  private readonly parts = new Map<string, number>();
  private part = 'other';

  constructor(name: string, seed: number) {
    this.g = new GraphBuilder({ name });
    this.rng = new SeededRandom(seed);
  }

  /** Attributes the MACs of everything `build` emits to `name`. */
  section<T>(name: string, build: () => T): T {
    const outer = this.part;
    this.part = name;
    try {
      return build();
    } finally {
      this.part = outer;
    }
  }

  /** Adds `macs` multiply-adds to the current part (for activation x activation products). */
  count(macs: number): void {
    this.macs += macs;
    this.parts.set(this.part, (this.parts.get(this.part) ?? 0) + macs);
  }

  /** Counts `n` parameters stored in some other form (e.g. a bias table stored expanded). */
  countParams(n: number): void {
    this.params += n;
  }

  /** A trained weight: random N(0, std^2), counted as parameters. */
  weight(dims: readonly number[], std = 0.02): Value {
    const n = dims.reduce((a, b) => a * b, 1);
    this.params += n;
    return this.g.constant('float32', dims, this.rng.normal(n, std));
  }

  /** A trained weight initialised to a constant (biases, norm scales), counted as parameters. */
  filled(dims: readonly number[], value: number): Value {
    const n = dims.reduce((a, b) => a * b, 1);
    this.params += n;
    return this.g.constant('float32', dims, new Float32Array(n).fill(value));
  }

  /** y = x W + b over the last axis; `rows` is the number of vectors (product of the other axes). */
  linear(x: Value, rows: number, inDim: number, outDim: number, options: { bias?: boolean; std?: number } = {}): Value {
    this.count(rows * inDim * outDim);
    const y = this.g.matmul(x, this.weight([inDim, outDim], options.std));
    return options.bias === false ? y : this.g.add(y, this.filled([outDim], 0));
  }

  /** LayerNorm over the last axis (trained scale and bias). */
  layerNorm(x: Value, dim: number, epsilon = 1e-6): Value {
    return this.g.op('LayerNormalization', [x, this.filled([dim], 1), this.filled([dim], 0)], { axis: -1, epsilon: float(epsilon) });
  }

  /** SAM's LayerNorm2d: LayerNorm over the channels of an NCHW tensor. */
  layerNorm2d(x: Value, channels: number, epsilon = 1e-6): Value {
    const nhwc = this.g.transpose(x, [0, 2, 3, 1]);
    return this.g.transpose(this.layerNorm(nhwc, channels, epsilon), [0, 3, 1, 2]);
  }

  /** Exact GELU (ONNX Runtime fuses the Erf pattern). */
  gelu(x: Value): Value {
    const g = this.g;
    const e = g.op('Erf', [g.mul(x, g.scalar(Math.SQRT1_2))]);
    return g.mul(g.mul(x, g.add(e, g.scalar(1))), g.scalar(0.5));
  }

  /** ReLU. */
  relu(x: Value): Value {
    return this.g.op('Relu', [x]);
  }

  /**
   * Conv2d on NCHW with a square kernel. `outSide` is the output's height and width as the
   * builder cannot infer shapes; it only feeds the MAC count.
   */
  conv(
    x: Value,
    inC: number,
    outC: number,
    kernel: number,
    out: { readonly h: number; readonly w: number },
    options: { stride?: number; pad?: number; groups?: number; bias?: boolean; std?: number } = {},
  ): Value {
    const groups = options.groups ?? 1;
    const pad = options.pad ?? 0;
    const stride = options.stride ?? 1;
    this.count(out.h * out.w * outC * (inC / groups) * kernel * kernel);
    const w = this.weight([outC, inC / groups, kernel, kernel], options.std);
    const b = options.bias === false ? null : this.filled([outC], 0);
    return this.g.op('Conv', [x, w, b], { kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [pad, pad, pad, pad], group: groups });
  }

  /** ConvTranspose2d, kernel 2, stride 2 (SAM's output upscaling) on NCHW of `inH` x `inW`. */
  convTranspose2x(x: Value, inC: number, outC: number, inH: number, inW: number): Value {
    this.count(inH * inW * inC * outC * 4);
    const w = this.weight([inC, outC, 2, 2]);
    return this.g.op('ConvTranspose', [x, w, this.filled([outC], 0)], { kernel_shape: [2, 2], strides: [2, 2] });
  }

  /**
   * Multi-head attention on [B, Tq, dim] queries and [B, Tk, dim] keys/values, with q/k/v/out
   * projections through `internalDim` (SAM's cross-attention halves it). `batch` x `tq`/`tk`
   * are the token counts for the MAC count. `bias` is added to the scores ([heads, Tq, Tk]).
   */
  attention(
    q: Value,
    k: Value,
    v: Value,
    shape: { readonly batch: number; readonly tq: number; readonly tk: number; readonly dim: number; readonly heads: number; readonly internalDim?: number },
    bias?: Value,
  ): Value {
    const g = this.g;
    const { batch, tq, tk, dim, heads } = shape;
    const internal = shape.internalDim ?? dim;
    const headDim = internal / heads;
    const split = (x: Value): Value => g.transpose(g.reshape(x, [0, 0, heads, headDim]), [0, 2, 1, 3]);
    const qh = split(this.linear(q, batch * tq, dim, internal));
    const kh = split(this.linear(k, batch * tk, dim, internal));
    const vh = split(this.linear(v, batch * tk, dim, internal));
    this.count(2 * batch * tq * tk * internal);
    let scores = g.mul(g.matmul(qh, g.transpose(kh, [0, 1, 3, 2])), g.scalar(1 / Math.sqrt(headDim)));
    if (bias) scores = g.add(scores, bias);
    const weights = g.op('Softmax', [scores], { axis: -1 });
    const merged = g.reshape(g.transpose(g.matmul(weights, vh), [0, 2, 1, 3]), [0, 0, internal]);
    return this.linear(merged, batch * tq, internal, dim);
  }

  /** Costs so far. */
  report(): CostReport {
    return { macs: this.macs, params: this.params, parts: Object.fromEntries(this.parts) };
  }
}
