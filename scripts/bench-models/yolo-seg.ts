/**
 * A YOLOv8-seg network with random weights, in the layer shapes of ultralytics' YOLOv8
 * (FastSAM-s is YOLOv8s-seg trained on SA-1B), exported the way `yolo export format=onnx`
 * does: `images` [1, 3, S, S] -> `output0` [1, 37, N] (decoded boxes, sigmoid score, 32
 * mask coefficients) and `output1` [1, 32, S/4, S/4] (prototypes).
 *
 * Written from the architecture as published (backbone of Conv and C2f blocks with SPPF,
 * a PAN neck, a decoupled head with DFL box regression, a Proto branch); BatchNorm is
 * folded into the convolutions as in an exported file. One addition the real head does not
 * have: the score map is normalised per level before its bias, so a stated share of the
 * anchors scores above FastSAM's confidence threshold whatever the random weights do (see
 * SCORE_BIAS), and post-processing sees a realistic number of detections.
 */
import { float, type Value } from '../onnx/builder.js';
import { FASTSAM_GRAPHS, declareInputs, declareOutputs } from '../onnx/real-graphs.js';
import type { Net } from './net.js';

/** Width and depth of one YOLOv8 size. */
export interface YoloSegConfig {
  /** Channels of the five backbone stages (P1..P5). */
  readonly channels: readonly [number, number, number, number, number];
  /** Bottlenecks in the backbone's four C2f blocks; the neck's C2f blocks have `neckDepth`. */
  readonly depths: readonly [number, number, number, number];
  readonly neckDepth: number;
  /** Channels of the Proto branch (npr x width). */
  readonly protoChannels: number;
  /** DFL bins per box side. */
  readonly regMax: number;
}

/** YOLOv8s-seg (width 0.5, depth 0.33): FastSAM-s. */
export const YOLOV8S_SEG: YoloSegConfig = { channels: [32, 64, 128, 256, 512], depths: [1, 2, 2, 1], neckDepth: 1, protoChannels: 128, regMax: 16 };

/** Mask coefficients / prototype channels. */
const MASKS = 32;

/**
 * Bias after the per-level normalisation of the score logits: sigmoid(z - 3.2) > 0.4 for
 * z > 2.8, which the maps' heavy tails make about 0.5 % of the anchors: on the bench photo
 * ~110 detections at 1024 (21504 anchors) and ~35 at 640 (8400). For scale: a third-party
 * onnxruntime-node run of FastSAM-x reported 70 masks on a 2252x1239 photo (fastsam.md).
 */
export const SCORE_BIAS = -3.2;

/** Builds the network at input side `side` (640 or 1024: the signatures of FASTSAM_GRAPHS). */
export function buildYoloSeg(net: Net, config: YoloSegConfig, side: 640 | 1024): void {
  const g = net.g;
  const signature = FASTSAM_GRAPHS[side === 640 ? 'fastsam-ultralytics-640' : 'fastsam-ultralytics-1024'];
  const image = declareInputs(g, signature).images;
  const at = (stride: number) => ({ h: side / stride, w: side / stride });

  /** Conv + folded BatchNorm + SiLU (ultralytics' Conv block), He-initialised. */
  const conv = (x: Value, inC: number, outC: number, k: number, stride: number, size: number) => {
    const y = convRaw(x, inC, outC, k, stride, size);
    return g.mul(y, g.op('Sigmoid', [y]));
  };
  const convRaw = (x: Value, inC: number, outC: number, k: number, stride: number, size: number) =>
    net.conv(x, inC, outC, k, at(size), { stride, pad: Math.floor(k / 2), std: Math.sqrt(2 / (inC * k * k)) });
  /** C2f: split, n bottlenecks (3x3, 3x3), concatenate every step, fuse. */
  const c2f = (x: Value, inC: number, outC: number, n: number, shortcut: boolean, size: number) => {
    const c = outC / 2;
    const y = conv(x, inC, 2 * c, 1, 1, size);
    const parts = [g.slice(y, [0], [c], [1]), g.slice(y, [c], [2 * c], [1])];
    for (let i = 0; i < n; i++) {
      const last = parts[parts.length - 1];
      const b = conv(conv(last, c, c, 3, 1, size), c, c, 3, 1, size);
      parts.push(shortcut ? g.add(last, b) : b);
    }
    return conv(g.concat(parts, 1), (2 + n) * c, outC, 1, 1, size);
  };
  const up = (x: Value) => g.op('Resize', [x, null, g.f32([1, 1, 2, 2])], { mode: 'nearest' });
  const [c1, c2, c3, c4, c5] = config.channels;
  const [n1, n2, n3, n4] = config.depths;
  const nn = config.neckDepth;

  const { p3, p4, p5 } = net.section('backbone', () => {
    let x = conv(image, 3, c1, 3, 2, 2);
    x = c2f(conv(x, c1, c2, 3, 2, 4), c2, c2, n1, true, 4);
    const p3 = c2f(conv(x, c2, c3, 3, 2, 8), c3, c3, n2, true, 8);
    const p4 = c2f(conv(p3, c3, c4, 3, 2, 16), c4, c4, n3, true, 16);
    x = c2f(conv(p4, c4, c5, 3, 2, 32), c5, c5, n4, true, 32);
    // SPPF: three chained 5x5 max-pools, concatenated.
    const h = conv(x, c5, c5 / 2, 1, 1, 32);
    const pool = (v: Value) => g.op('MaxPool', [v], { kernel_shape: [5, 5], strides: [1, 1], pads: [2, 2, 2, 2] });
    const m1 = pool(h);
    const m2 = pool(m1);
    const p5 = conv(g.concat([h, m1, m2, pool(m2)], 1), 2 * c5, c5, 1, 1, 32);
    return { p3, p4, p5 };
  });

  const levels = net.section('neck', () => {
    const n4 = c2f(g.concat([up(p5), p4], 1), c5 + c4, c4, nn, false, 16);
    const o3 = c2f(g.concat([up(n4), p3], 1), c4 + c3, c3, nn, false, 8);
    const o4 = c2f(g.concat([conv(o3, c3, c3, 3, 2, 16), n4], 1), c3 + c4, c4, nn, false, 16);
    const o5 = c2f(g.concat([conv(o4, c4, c4, 3, 2, 32), p5], 1), c4 + c5, c5, nn, false, 32);
    return [
      { x: o3, c: c3, stride: 8 },
      { x: o4, c: c4, stride: 16 },
      { x: o5, c: c5, stride: 32 },
    ];
  });

  const protos = net.section('proto', () => {
    const cp = config.protoChannels;
    let x = conv(levels[0].x, c3, cp, 3, 1, 8);
    x = net.convTranspose2x(x, cp, cp, side / 8, side / 8);
    x = g.mul(x, g.op('Sigmoid', [x]));
    x = conv(x, cp, cp, 3, 1, 4);
    return conv(x, cp, MASKS, 1, 1, 4);
  });

  const output0 = net.section('head', () => {
    const reg = config.regMax;
    const boxC = Math.max(16, c3 / 4, reg * 4);
    const clsC = Math.max(c3, 1);
    const maskC = Math.max(c3 / 4, MASKS);
    const rows: Value[][] = [[], [], []];
    for (const { x, c, stride } of levels) {
      const s = side / stride;
      const a = s * s;
      const branch = (mid: number, out: number) => convRaw(conv(conv(x, c, mid, 3, 1, stride), mid, mid, 3, 1, stride), mid, out, 1, 1, stride);
      // DFL: a softmax over the bins of each side, its expectation is the distance in strides.
      const bins = g.op('Softmax', [g.reshape(branch(boxC, 4 * reg), [1, 4, reg, a])], { axis: 2 });
      const dist = g.reduce('ReduceSum', g.mul(bins, g.constant('float32', [1, 1, reg, 1], Array.from({ length: reg }, (_, i) => i))), [2]);
      const centres = new Float32Array(2 * a);
      for (let i = 0; i < a; i++) {
        centres[i] = (i % s) + 0.5;
        centres[a + i] = Math.floor(i / s) + 0.5;
      }
      const anchor = g.constant('float32', [1, 2, a], centres);
      const lt = g.sub(anchor, g.slice(dist, [0], [2], [1]));
      const rb = g.add(anchor, g.slice(dist, [2], [4], [1]));
      const xywh = g.mul(g.concat([g.mul(g.add(lt, rb), g.scalar(0.5)), g.sub(rb, lt)], 1), g.scalar(stride));
      // A tiny epsilon: the random maps of small test networks have a tiny variance.
      const logits = g.op('InstanceNormalization', [branch(clsC, 1), g.f32([1]), g.f32([0])], { epsilon: float(1e-12) });
      const score = g.op('Sigmoid', [g.add(g.reshape(logits, [1, 1, a]), g.scalar(SCORE_BIAS))]);
      rows[0].push(xywh);
      rows[1].push(score);
      rows[2].push(g.reshape(branch(maskC, MASKS), [1, MASKS, a]));
    }
    return g.concat(rows.map((r) => g.concat(r, 2)), 1);
  });
  declareOutputs(g, signature, [output0, protos], image);
}
