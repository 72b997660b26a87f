/**
 * The built-in FastSAM-contract model: the classical colour-region segmenter of
 * builtin-segmenter.ts (not a neural network), wired as a one-pass YOLOv8-seg model that
 * answers with detections and mask prototypes (see docs/builtin-models.md).
 *
 * The input's 4x4 cells (the prototype grid, stride 4) are labelled into connected
 * components at two colour tolerances. Each component big enough becomes a detection: its
 * box, a score, and one-hot mask coefficients. Prototype channel k (k < 31) is 1 on the
 * cells of the components given channel k, channel 31 is constant 1, and a detection's
 * coefficients are 4 on its channel and -2 on channel 31, so its logits are +2 on its cells
 * and -2 elsewhere: the mask edge falls on the cell edge, and a flat region's stability
 * score (logit cutoffs +1 and -1) is 1. Channels go to components in
 * detection order, modulo 31: up to 31 detections every mask is exact; past that, a mask
 * may also take in, within its box, cells of a component that shares its channel.
 *
 * The same graph is written under both published contracts (ultralytics' output0/output1
 * and Qualcomm's four outputs), so tests run the FastSAM pipeline on either.
 */
import { GraphBuilder, type Value } from './builder.js';
import { labelComponents } from './builtin-segmenter.js';
import { FASTSAM_GRAPHS, declareInputs, declareOutputs, type FastSamGraph } from './real-graphs.js';

/**
 * Colour tolerances of the two levels: fine keeps colours 16 apart separate (the
 * near-colours fixture), coarse joins them, so a coarse detection can hold several fine
 * ones, as a real FastSAM's object and part masks overlap.
 */
export const FASTSAM_TOLERANCES = [12, 24] as const;

/** Components smaller than this many cells are not reported (noise, JPEG ringing). */
export const MIN_CELLS = 8;

/** A coarse component is reported only when it is this much bigger than its largest fine part. */
export const COARSE_GROWTH = 1.25;

/** Prototype channels given to detections (one more is the constant channel). */
export const MASK_CHANNELS = 31;

/** Pixels of the input per prototype cell (YOLOv8-seg's prototypes are at stride 4). */
const STRIDE = 4;

/** The committed built-in model's file name in models/builtin/. */
export const BUILTIN_FASTSAM_FILE = 'builtin-fastsam.onnx';

/** Anchors of a YOLOv8 head on a side x side input: strides 8, 16 and 32. */
export function anchorCount(side: number): number {
  return (21 * side * side) / 1024;
}

/**
 * The built-in segmenter under `graph`'s contract, computing at `side` x `side` (for a
 * signature with a fixed size, that size). A symbolic one runs at any input up to `side` on
 * each axis, as a dynamic export runs at any size: the input is padded (edge rows and
 * columns repeated) at the bottom and right to the square and the prototypes are cut back
 * to the input's own grid, so a rectangular input gets its own prototype grid.
 */
export function buildFastSam(graph: FastSamGraph = 'fastsam-ultralytics-1024', side?: number): Uint8Array {
  const signature = FASTSAM_GRAPHS[graph];
  const declared = signature.inputs[0].dims[2];
  const s = typeof declared === 'number' ? declared : side;
  if (s === undefined || s % 32 !== 0) throw new Error(`buildFastSam(${graph}): needs a side that is a multiple of 32`);
  const grid = s / STRIDE;
  const cells = grid * grid;
  const anchors = anchorCount(s);

  const g = new GraphBuilder({ name: `builtin_fastsam_${graph.replace(/-/g, '_')}` });
  g.doc('samlite built-in classical segmenter (not a neural network): FastSAM-contract model.');
  const inputs = declareInputs(g, signature);
  const image = inputs[signature.inputs[0].name];
  const symbolic = typeof declared !== 'number';
  // [H, W] of the input, and its prototype grid [H/4, W/4], for the symbolic case.
  const inputSides = symbolic ? g.shape(image, 2, 4) : undefined;
  const square = inputSides ? g.op('Pad', [image, g.concat([g.i64([0, 0, 0, 0, 0, 0]), g.sub(g.i64([s, s]), inputSides)], 0)], { mode: 'edge' }) : image;

  // Cell colours on 0..255: the mean of each 4x4 block of the letterboxed input.
  const pooled = g.op('AveragePool', [square], { kernel_shape: [STRIDE, STRIDE], strides: [STRIDE, STRIDE] });
  const colour = g.mul(g.reshape(pooled, [3, grid, grid]), g.scalar(255));
  const valid = g.fill([grid, grid], 1, 'bool');
  const { labels } = labelComponents(g, colour, valid, FASTSAM_TOLERANCES, grid);
  const flat = g.reshape(labels, [2, cells]); // int32 [level, cell]

  // Per root cell (a component's smallest cell): its size and box, at each level.
  const cellIndex = g.range(0, cells, 1, 'int32');
  const perCell = (v: Value) => g.op('Expand', [g.reshape(v, [1, cells]), g.i64([2, cells])]);
  const scatter = (init: number, updates: Value, reduction: string) =>
    g.op('ScatterElements', [g.fill([2, cells], init, 'int32'), flat, updates], { axis: 1, reduction });
  const size = scatter(0, g.fill([2, cells], 1, 'int32'), 'add');
  const xs = perCell(g.op('Mod', [cellIndex, g.constant('int32', [], [grid])]));
  const ys = perCell(g.div(cellIndex, g.constant('int32', [], [grid])));
  const minX = scatter(grid, xs, 'min');
  const maxX = scatter(-1, xs, 'max');
  const minY = scatter(grid, ys, 'min');
  const maxY = scatter(-1, ys, 'max');
  const isRoot = g.op('Equal', [flat, g.reshape(cellIndex, [1, cells])]);

  // Which components are reported: fine ones big enough; coarse ones that also grew past
  // their largest fine part (otherwise they repeat it).
  const fineFlat = g.slice(flat, [0], [1], [0]);
  const coarseFlat = g.slice(flat, [1], [2], [0]);
  const fineSize = g.slice(size, [0], [1], [0]);
  const coarseSize = g.slice(size, [1], [2], [0]);
  const fineSizeOfCell = g.op('GatherElements', [fineSize, fineFlat], { axis: 1 });
  const largestPart = g.op('ScatterElements', [g.fill([1, cells], 0, 'int32'), coarseFlat, fineSizeOfCell], { axis: 1, reduction: 'max' });
  const bigEnough = g.op('GreaterOrEqual', [size, g.constant('int32', [], [MIN_CELLS])]);
  const grew = g.op('GreaterOrEqual', [g.cast(coarseSize, 'float32'), g.mul(g.cast(largestPart, 'float32'), g.scalar(COARSE_GROWTH))]);
  const report = g.op('And', [g.op('And', [isRoot, bigEnough]), g.concat([g.fill([1, cells], 1, 'bool'), grew], 0)]); // [2, cells]

  // Detection order = level, then root cell: rank r gets channel r mod 31.
  const reportFlat = g.reshape(report, [2 * cells]);
  const rank = g.sub(g.op('CumSum', [g.cast(reportFlat, 'int32'), g.scalarI64(0)]), g.constant('int32', [], [1]));
  const channelOfRoot = g.reshape(g.op('Mod', [rank, g.constant('int32', [], [MASK_CHANNELS])]), [2, cells]);
  const channelOfCell = g.op('GatherElements', [channelOfRoot, flat], { axis: 1 }); // [2, cells]
  const reportedCell = g.cast(g.op('GatherElements', [report, flat], { axis: 1 }), 'float32');
  const oneHot = g.op('OneHot', [channelOfCell, g.constant('int32', [1], [MASK_CHANNELS]), g.f32([0, 1])], { axis: 1 }); // [2, 31, cells]
  const marked = g.reduce('ReduceSum', g.mul(oneHot, g.unsqueeze(reportedCell, [1])), [0]); // [31, cells]
  const squareProtos = g.reshape(g.concat([g.op('Min', [marked, g.scalar(1)]), g.fill([1, cells], 1)], 0), [1, 32, grid, grid]);
  const protos = inputSides ? g.slice(squareProtos, g.i64([0, 0]), g.div(inputSides, g.i64([STRIDE, STRIDE])), [2, 3]) : squareProtos;

  // The reported components as detections, in rank order, padded with zero rows to the
  // anchor count (score 0 never passes a threshold).
  const picked = g.reshape(g.op('NonZero', [reportFlat]), [-1]);
  const take = (v: Value) => g.cast(g.gather(g.reshape(v, [2 * cells]), picked), 'float32');
  const level = g.cast(g.div(picked, g.scalarI64(cells)), 'float32');
  const cellPx = g.scalar(STRIDE);
  const x1 = g.mul(take(minX), cellPx);
  const y1 = g.mul(take(minY), cellPx);
  const x2 = g.mul(g.add(take(maxX), g.scalar(1)), cellPx);
  const y2 = g.mul(g.add(take(maxY), g.scalar(1)), cellPx);
  // Fine 0.55..0.95, coarse 0.5..0.85, growing with size up to 64 cells: NMS prefers fine.
  const grown = g.op('Min', [g.div(take(size), g.scalar(64)), g.scalar(1)]);
  const top = g.sub(g.scalar(0.95), g.mul(level, g.scalar(0.1)));
  const bottom = g.sub(g.scalar(0.55), g.mul(level, g.scalar(0.05)));
  const score = g.add(bottom, g.mul(g.sub(top, bottom), grown));
  const channel = g.op('Mod', [g.range(g.scalarI64(0), g.squeeze(g.shape(picked), [0]), g.scalarI64(1)), g.scalarI64(MASK_CHANNELS)]);
  const coefficients = g.add(
    g.op('OneHot', [channel, g.constant('int64', [1], [32]), g.f32([0, 4])], { axis: 0 }), // [32, R]
    g.constant('float32', [32, 1], [...Array(31).fill(0), -2]),
  );
  const row = (v: Value) => g.unsqueeze(v, [0]);
  const pad = (rows: number, v: Value) => g.slice(g.concat([v, g.fill([rows, anchors], 0)], 1), [0], [anchors], [1]);
  const boxes = pad(4, g.concat([row(x1), row(y1), row(x2), row(y2)], 0)); // [4, N]
  const scores = pad(1, row(score)); // [1, N]
  const coefs = pad(32, coefficients); // [32, N]

  let outputs: Value[];
  if (signature.outputs.length === 2) {
    // ultralytics: rows cx, cy, w, h, score, 32 coefficients.
    const [bx1, by1, bx2, by2] = [0, 1, 2, 3].map((i) => g.slice(boxes, [i], [i + 1], [0]));
    const half = g.scalar(0.5);
    const output0 = g.concat([g.mul(g.add(bx1, bx2), half), g.mul(g.add(by1, by2), half), g.sub(bx2, bx1), g.sub(by2, by1), scores, coefs], 0);
    outputs = [g.unsqueeze(output0, [0]), protos];
  } else {
    // Qualcomm: boxes [1, N, 4] as x1y1x2y2, scores [1, N], mask_coeffs [1, N, 32].
    const channelsLast = signature.outputs[3].dims[3] === 32;
    const protosOut = channelsLast ? g.transpose(protos, [0, 2, 3, 1]) : protos;
    outputs = [g.unsqueeze(g.transpose(boxes, [1, 0]), [0]), scores, g.unsqueeze(g.transpose(coefs, [1, 0]), [0]), protosOut];
  }
  declareOutputs(g, signature, outputs, image);
  return g.toBytes({
    producerName: 'samlite build-builtin-models',
    producerVersion: '1',
    docString:
      'samlite built-in classical colour-region segmenter (connected components at two colour tolerances; ' +
      `not a neural network), wired to the FastSAM ${graph.includes('qualcomm') ? 'Qualcomm AI Hub' : 'ultralytics'} contract.`,
    metadata: { 'samlite.builtin': '1', 'samlite.family': 'fastsam', 'samlite.part': 'model' },
  });
}
