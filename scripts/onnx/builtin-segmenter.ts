/**
 * The built-in models: a classical colour-region segmenter expressed as ONNX graphs that
 * follow the SAM and EfficientSAM contracts exactly (see docs/builtin-models.md).
 *
 * It is not a neural network. The encoder averages the model's 1024x1024 frame into a
 * 256x256 grid of cells and labels the connected components of that grid at four nested
 * colour tolerances; the decoder looks up the component under each prompt. Everything a
 * prompt needs travels inside the standard `image_embeddings` tensor, so the runtime treats
 * these files exactly like real weights.
 *
 * Embedding layout: `image_embeddings` [1, 256, 64, 64] holds 16 * 65536 floats, read as 16
 * planes of the 256x256 grid in row-major order (a plain reshape, no transpose):
 *   0..3   component label at tolerance level 0..3: the smallest cell index in the
 *          component (an integer below 2^16, exact in float32)
 *   4..6   RGB of the grid cell, 0..255, edge blends snapped (0 for padding cells)
 *   7      squared norm of that RGB colour (saves the decoder a pass per prompt)
 *   8      1 where the cell shows image, 0 where it is padding (SAM frame only)
 *   9      size in cells of the cell's medium-level component
 *   10     alpha: an edge-blend cell's share of the side it snapped to (0.5..1; 1 elsewhere)
 *   11..14 component label, per level, of the blend's other side (own label elsewhere)
 *   15     zero
 */
import { GraphBuilder, type Value } from './builder.js';
import { REAL_GRAPHS, declareInputs, declareOutputs } from './real-graphs.js';

/** Side of the analysis grid: one cell per 4x4 pixels of the 1024 model frame, like SAM's low-res masks. */
export const GRID = 256;
const CELLS = GRID * GRID;

/**
 * Colour tolerances (Euclidean RGB distance, 0..255 scale) of the four nested levels: two
 * 4-neighbour cells join a component at level l when their colours differ by less than
 * TOLERANCES[l]. Level 0 = fine, 1 = medium, 2 = coarse, 3 = coarsest (only used as the
 * reference for the coarse candidate's predicted IoU).
 */
export const TOLERANCES = [8, 24, 48, 96] as const;

/**
 * Logit scale per level: inside a component the logit is 0.5 + 8 * max(0, 1 - d / scale),
 * d = colour distance to the nearest positive seed. Twice the join tolerance, so a flat
 * region reads ~8.5 everywhere and a region that drifts far from the seed colour (a
 * gradient, noise) has many cells in (-1, 1], which is what the stability score measures.
 */
export const LOGIT_SCALES = TOLERANCES.map((t) => 2 * t);

/** Logit of cells outside the mask (away from its edge). */
export const OUTSIDE_LOGIT = -8.5;

/** Safety cap on label-propagation rounds; typical images converge in 10-30. */
export const MAX_ROUNDS = 400;

const PLANE = { labels: 0, colour: 4, colourNorm: 7, valid: 8, mediumSize: 9, alpha: 10, otherLabels: 11, count: 16 } as const;
const BIG_INT = 1 << 30;
const BIG = 1e9;

// ------------------------------------------------------------------------------------
// Encoders
// ------------------------------------------------------------------------------------

/**
 * MobileSAM-style SAM encoder: `input_image` float32 [H, W, 3], RGB 0..255, already resized
 * so the longest side is 1024; the image sits top-left in the zero-padded 1024 frame.
 */
export function buildSamEncoder(): Uint8Array {
  const g = new GraphBuilder({ name: 'builtin_sam_encoder' });
  g.doc('samlite built-in classical segmenter (not a neural network): SAM-family encoder.');
  const signature = REAL_GRAPHS['mobilesam-encoder'];
  const image = declareInputs(g, signature).input_image;
  const shape = g.shape(image);
  const h = g.gather(shape, g.scalarI64(0));
  const w = g.gather(shape, g.scalarI64(1));
  const cell = g.range(0, GRID, 1);
  // Cell g is the mean of frame pixels 4g..4g+3 (both axes): an edge crossing a cell leaves
  // a blend whose mix tells where the edge lies (see snapBlends). Cells straddling the
  // image's edge average their real pixels only.
  const chw = g.unsqueeze(g.transpose(image, [2, 0, 1]), [0]); // [1, 3, H, W]
  const pooled = g.op('AveragePool', [chw], { kernel_shape: [4, 4], strides: [4, 4], ceil_mode: 1 });
  const cellsOf = (side: Value): Value => g.div(g.add(side, g.scalarI64(3)), g.scalarI64(4));
  const zero = g.i64([0]);
  const pads = g.concat([zero, zero, zero, zero, zero, zero, g.reshape(g.sub(g.scalarI64(GRID), cellsOf(h)), [1]), g.reshape(g.sub(g.scalarI64(GRID), cellsOf(w)), [1])], 0);
  const rowValid = g.op('Less', [g.mul(cell, g.scalarI64(4)), h]);
  const colValid = g.op('Less', [g.mul(cell, g.scalarI64(4)), w]);
  const valid = g.op('And', [g.unsqueeze(rowValid, [1]), g.unsqueeze(colValid, [0])]); // [256, 256]
  const colour = g.reshape(g.op('Pad', [pooled, pads]), [3, GRID, GRID]); // zero padding
  const embedding = encodeGrid(g, colour, valid);
  declareOutputs(g, signature, [embedding], image);
  return g.toBytes(modelOptions('sam', 'encoder'));
}

/**
 * EfficientSAM-style encoder: `batched_images` float32 [1, 3, H, W], RGB 0..1, any size;
 * like the real model it works in the image stretched to 1024x1024 (aspect not kept).
 */
export function buildEfficientSamEncoder(): Uint8Array {
  const g = new GraphBuilder({ name: 'builtin_efficientsam_encoder' });
  g.doc('samlite built-in classical segmenter (not a neural network): EfficientSAM-family encoder.');
  const signature = REAL_GRAPHS['efficientsam-encoder'];
  const image = declareInputs(g, signature).batched_images;
  // The real graph's first step: stretch to the 1024 frame with torch's bilinear (no
  // antialiasing), so an image samlite stretched by the same rule passes unchanged. Then
  // each cell is the mean of its 4x4 frame pixels, as in the SAM encoder, so edge cells are
  // blends.
  const frame = g.op('Resize', [image, null, null, g.i64([1, 3, 4 * GRID, 4 * GRID])], {
    mode: 'linear',
    coordinate_transformation_mode: 'half_pixel',
  });
  const cells = g.op('AveragePool', [frame], { kernel_shape: [4, 4], strides: [4, 4] });
  const colour = g.mul(g.reshape(cells, [3, GRID, GRID]), g.scalar(255));
  const valid = g.fill([GRID, GRID], 1, 'bool');
  const embedding = encodeGrid(g, colour, valid);
  declareOutputs(g, signature, [embedding], image);
  return g.toBytes(modelOptions('efficientsam', 'encoder'));
}

/**
 * SAM 2-style encoder (osam's export): `input` float32 [1, 3, 1024, 1024], the image
 * stretched to 1024x1024 and normalised with ImageNet's mean and std by the caller. The
 * embedding is spread over SAM 2's three outputs (see buildSam2Decoder), so the decoder
 * answers only when all three reach it.
 */
export function buildSam2Encoder(): Uint8Array {
  const g = new GraphBuilder({ name: 'builtin_sam2_encoder' });
  g.doc('samlite built-in classical segmenter (not a neural network): SAM 2-family encoder.');
  const signature = REAL_GRAPHS['sam2-encoder'];
  const image = declareInputs(g, signature).input;
  // Undo the normalisation: x * std + mean, back on the 0..255 scale.
  const std = g.constant('float32', [1, 3, 1, 1], SAM2_STD.map((v) => v * 255));
  const mean = g.constant('float32', [1, 3, 1, 1], SAM2_MEAN.map((v) => v * 255));
  const frame = g.add(g.mul(image, std), mean);
  const cells = g.op('AveragePool', [frame], { kernel_shape: [4, 4], strides: [4, 4] });
  const valid = g.fill([GRID, GRID], 1, 'bool');
  const embedding = encodeGrid(g, g.reshape(cells, [3, GRID, GRID]), valid);
  const highRes1 = g.concat([g.reshape(embedding, [1, PLANE.count, GRID, GRID]), g.fill([1, 32 - PLANE.count, GRID, GRID], 0)], 1);
  const highRes2 = g.reshape(embedding, [1, 64, 128, 128]);
  declareOutputs(g, signature, [embedding, highRes1, highRes2], image);
  return g.toBytes(modelOptions('sam2', 'encoder'));
}

/** What {@link labelComponents} computes. */
export interface Components {
  /** int32 [levels, grid, grid]: each cell's component at each tolerance, labelled by its smallest cell index. */
  readonly labels: Value;
  /** float32 [3, grid, grid]: the cell colours with one-cell edge blends snapped to the nearer side. */
  readonly colour: Value;
  /** float32 [grid, grid]: a blend cell's share of the side it snapped to (1 elsewhere). */
  readonly alpha: Value;
  /** int64 [grid, grid]: the cell index of a blend's other side (its own index elsewhere). */
  readonly other: Value;
}

/**
 * Connected components (4-neighbour) of a grid of cell colours at nested colour
 * tolerances: two neighbouring cells join at level l when their colours differ by less
 * than `tolerances[l]`. `averaged` is float32 [3, grid, grid] on 0..255, `valid` bool
 * [grid, grid] (invalid cells join nothing). Shared by every built-in model.
 */
export function labelComponents(g: GraphBuilder, averaged: Value, valid: Value, tolerances: readonly number[] = TOLERANCES, grid = GRID): Components {
  const levels = tolerances.length;
  const cells = grid * grid;
  const { colour, alpha, other } = snapBlends(g, averaged, valid, grid);
  // Squared colour distance across each horizontal / vertical pair of neighbours.
  const dist2 = (a: Value, b: Value): Value => {
    const d = g.sub(a, b);
    return g.reduce('ReduceSum', g.mul(d, d), [0]);
  };
  const right = dist2(g.slice(colour, [1], [grid], [2]), g.slice(colour, [0], [grid - 1], [2])); // [grid, grid - 1]
  const down = dist2(g.slice(colour, [1], [grid], [1]), g.slice(colour, [0], [grid - 1], [1])); // [grid - 1, grid]
  const tol2 = g.constant('float32', [levels, 1, 1], tolerances.map((t) => t * t));
  const validRight = g.op('And', [g.slice(valid, [1], [grid], [1]), g.slice(valid, [0], [grid - 1], [1])]);
  const validDown = g.op('And', [g.slice(valid, [1], [grid], [0]), g.slice(valid, [0], [grid - 1], [0])]);
  const joinRight = g.op('And', [g.op('Less', [g.unsqueeze(right, [0]), tol2]), validRight]); // [4, 256, 255]
  const joinDown = g.op('And', [g.op('Less', [g.unsqueeze(down, [0]), tol2]), validDown]); // [4, 255, 256]
  const noCol = g.fill([levels, grid, 1], 0, 'bool');
  const noRow = g.fill([levels, 1, grid], 0, 'bool');
  // Per cell: may it join its right / left / lower / upper neighbour, at each level.
  const canR = g.concat([joinRight, noCol], 2);
  const canL = g.concat([noCol, joinRight], 2);
  const canD = g.concat([joinDown, noRow], 1);
  const canU = g.concat([noRow, joinDown], 1);

  // Min-label propagation with hooking and pointer jumping (Shiloach-Vishkin style), to
  // convergence. Labels stay cell indices of the same component throughout, so after the
  // loop each component is labelled by its smallest cell index.
  const body = g.subgraph('propagate');
  body.input('round', 'int64', []);
  body.input('cond_in', 'bool', []);
  const labels = body.input('labels_in', 'int32', [levels, grid, grid]);
  const big = g.constant('int32', [], [BIG_INT]);
  const shifted = (axis: number, from: 'next' | 'prev'): Value => {
    // The neighbour's label moved onto each cell. The edge row/column is filled with a
    // copy of itself, never read because the can* masks are false there.
    const parts =
      from === 'next'
        ? [body.slice(labels, [1], [grid], [axis]), body.slice(labels, [grid - 1], [grid], [axis])]
        : [body.slice(labels, [0], [1], [axis]), body.slice(labels, [0], [grid - 1], [axis])];
    return body.concat(parts, axis);
  };
  const nR = body.where(canR, shifted(2, 'next'), big);
  const nL = body.where(canL, shifted(2, 'prev'), big);
  const nD = body.where(canD, shifted(1, 'next'), big);
  const nU = body.where(canU, shifted(1, 'prev'), big);
  const flatShape = g.i64([levels, cells]);
  const best = body.reshape(body.op('Min', [labels, nR, nL, nD, nU]), flatShape);
  const flat = body.reshape(labels, flatShape);
  // Hook: the cell my label points at adopts my best neighbour label too.
  const hooked = body.op('ScatterElements', [flat, flat, best], { axis: 1, reduction: 'min' });
  const merged = body.op('Min', [hooked, best]);
  const jumped = body.op('GatherElements', [merged, merged], { axis: 1 });
  const jumped2 = body.op('GatherElements', [jumped, jumped], { axis: 1 });
  const changed = body.op('Greater', [body.reduce('ReduceMax', body.sub(flat, jumped2), [0, 1]), g.constant('int32', [], [0])]);
  body.output(changed, 'cond_out', 'bool', []);
  body.output(body.reshape(jumped2, g.i64([levels, grid, grid])), 'labels_out', 'int32', [levels, grid, grid]);

  const initial = g.op('Expand', [
    g.reshape(g.range(0, cells, 1, 'int32'), [1, grid, grid]),
    g.i64([levels, grid, grid]),
  ]);
  const [final] = g.op('Loop', [g.scalarI64(MAX_ROUNDS), g.constant('bool', [], [1]), initial], { body }, 1);
  return { labels: final, colour, alpha, other };
}

/**
 * Shared encoder tail: component labels at the four tolerances and the packed embedding.
 * `colour` is float32 [3, 256, 256] on 0..255, `valid` bool [256, 256].
 */
function encodeGrid(g: GraphBuilder, averaged: Value, valid: Value): Value {
  const levels = TOLERANCES.length;
  const { labels: final, colour, alpha, other } = labelComponents(g, averaged, valid);
  const finalFlat = g.reshape(final, [levels, CELLS]);
  // Medium-level component sizes (the decoder's box scoring): count per root, read back.
  const medium = g.slice(finalFlat, [1], [2], [0]);
  const counts = g.op('ScatterElements', [g.fill([1, CELLS], 0), medium, g.fill([1, CELLS], 1)], {
    axis: 1,
    reduction: 'add',
  });
  const mediumSize = g.op('GatherElements', [counts, medium], { axis: 1 });
  const otherLabels = g.op('GatherElements', [finalFlat, g.op('Expand', [g.reshape(other, [1, CELLS]), g.i64([levels, CELLS])])], {
    axis: 1,
  });
  const planes = g.concat(
    [
      g.cast(finalFlat, 'float32'),
      g.reshape(colour, [3, CELLS]),
      g.reduce('ReduceSum', g.reshape(g.mul(colour, colour), [3, CELLS]), [0], true),
      g.reshape(g.cast(valid, 'float32'), [1, CELLS]),
      mediumSize,
      g.reshape(alpha, [1, CELLS]),
      g.cast(otherLabels, 'float32'),
      g.fill([PLANE.count - PLANE.otherLabels - levels, CELLS], 0),
    ],
    0,
  );
  return g.reshape(planes, [1, 256, 64, 64]);
}

/**
 * Finds one-cell colour blends and snaps them to the nearer side. A cell an edge between
 * regions A and B runs through holds a mix of their colours; left alone it would join A
 * and B into one component at any tolerance above half their distance. A cell is a blend
 * across an axis when its colour lies on the segment between its two neighbours along
 * that axis (|PC| + |CN| ~ |PN|) and differs from both; across both axes, the stronger
 * edge wins. Returns the snapped colours, the blend's share of the side it snapped to
 * (alpha in [0.5, 1]; 1 for ordinary cells) and the cell index of the other side (its own
 * index for ordinary cells): the decoder turns these into sub-cell mask edges. Gradients
 * qualify too and just shift by a cell, which is harmless.
 */
function snapBlends(g: GraphBuilder, colour: Value, valid: Value, grid: number): { colour: Value; alpha: Value; other: Value } {
  const norm = (a: Value, b: Value): Value => {
    const d = g.sub(a, b);
    return g.op('Sqrt', [g.reduce('ReduceSum', g.mul(d, d), [0])]);
  };
  // The neighbour before / after each cell along `axis` (the cell itself at the border).
  const neighbour = (x: Value, axis: number, which: 'prev' | 'next'): Value =>
    which === 'prev'
      ? g.concat([g.slice(x, [0], [1], [axis]), g.slice(x, [0], [grid - 1], [axis])], axis)
      : g.concat([g.slice(x, [1], [grid], [axis]), g.slice(x, [grid - 1], [grid], [axis])], axis);
  const index = g.reshape(g.range(0, grid * grid, 1), [grid, grid]);
  const across = (axis: number) => {
    const prev = neighbour(colour, axis, 'prev');
    const next = neighbour(colour, axis, 'next');
    const dp = norm(prev, colour);
    const dn = norm(colour, next);
    const span = norm(prev, next);
    const between = g.op('And', [
      g.op('LessOrEqual', [g.add(dp, dn), g.add(g.mul(span, g.scalar(1.1)), g.scalar(2))]),
      g.op('GreaterOrEqual', [g.op('Min', [dp, dn]), g.scalar(4)]),
    ]);
    // Never snap towards padding (colour 0), which would glue dark image edges to it.
    const realNeighbours = g.op('And', [neighbour(valid, axis - 1, 'prev'), neighbour(valid, axis - 1, 'next')]);
    const isBlend = g.op('And', [between, realNeighbours]);
    const towardsPrev = g.op('LessOrEqual', [dp, dn]);
    const total = g.op('Max', [g.add(dp, dn), g.scalar(1e-6)]);
    return {
      target: g.where(towardsPrev, prev, next),
      alpha: g.div(g.where(towardsPrev, dn, dp), total), // share of the nearer side
      other: g.where(towardsPrev, neighbour(index, axis - 1, 'next'), neighbour(index, axis - 1, 'prev')),
      strength: g.where(isBlend, span, g.scalar(0)),
    };
  };
  const h = across(2);
  const v = across(1);
  const useH = g.op('And', [g.op('Greater', [h.strength, g.scalar(0)]), g.op('GreaterOrEqual', [h.strength, v.strength])]);
  const useV = g.op('Greater', [v.strength, g.scalar(0)]);
  const pick = (a: Value, b: Value, none: Value): Value => g.where(useH, a, g.where(useV, b, none));
  return {
    colour: pick(h.target, v.target, colour),
    alpha: pick(h.alpha, v.alpha, g.scalar(1)),
    other: pick(h.other, v.other, index),
  };
}

// ------------------------------------------------------------------------------------
// Decoders
// ------------------------------------------------------------------------------------

/**
 * SAM-family decoder with 4 masks (0 = single-mask answer, 1..3 = fine/medium/coarse).
 * Inputs and outputs exactly as Meta's ONNX export (see model-contracts.md).
 */
export function buildSamDecoder(): Uint8Array {
  const g = new GraphBuilder({ name: 'builtin_sam_decoder' });
  g.doc('samlite built-in classical segmenter (not a neural network): SAM-family 4-mask decoder.');
  const signature = REAL_GRAPHS['mobilesam-decoder'];
  // mask_input and has_mask_input are accepted for the contract; a previous mask adds
  // nothing to a flood fill.
  const { image_embeddings: embedding, point_coords: coords, point_labels: labels, orig_im_size: origSize } = declareInputs(g, signature);

  const hF = g.gather(origSize, g.scalarI64(0));
  const wF = g.gather(origSize, g.scalarI64(1));
  // Size of the image inside the 1024 frame (SAM's ResizeLongestSide), in double like the caller.
  const h64 = g.cast(hF, 'float64');
  const w64 = g.cast(wF, 'float64');
  const scale = g.div(g.constant('float64', [], [1024]), g.op('Max', [h64, w64]));
  // At least one pixel, so extreme aspect ratios still have a row or column to render.
  const resized = (side: Value): Value =>
    g.op('Max', [g.cast(g.op('Floor', [g.add(g.mul(side, scale), g.constant('float64', [], [0.5]))]), 'float32'), g.scalar(1)]);
  const cellsH = g.div(resized(h64), g.scalar(4));
  const cellsW = g.div(resized(w64), g.scalar(4));

  const xy = g.reshape(coords, [-1, 2]);
  const u = g.div(g.reshape(g.slice(xy, [0], [1], [1]), [-1]), g.scalar(4));
  const v = g.div(g.reshape(g.slice(xy, [1], [2], [1]), [-1]), g.scalar(4));
  const kinds = g.reshape(labels, [-1]);

  const { logits, iou } = decodeCore(g, embedding, { u, v, kinds, cellsW, cellsH, maskLevels: [1, 0, 1, 2], negatives: true });
  const k = 4;
  // Meta's export: upsample to 1024, crop the resized image, resize to H x W. Composed, that
  // is one half-pixel bilinear resize from a source cellsH x cellsW cells long.
  const masks = renderBilinear(g, logits, k, { srcH: cellsH, srcW: cellsW, outH: hF, outW: wF });
  declareOutputs(g, signature, [g.unsqueeze(masks, [0]), g.reshape(iou, [1, k]), g.reshape(logits, [1, k, GRID, GRID])], labels);
  return g.toBytes(modelOptions('sam', 'decoder'));
}

/**
 * SAM 2-family decoder as osam's export: all 4 tokens (0 = single-mask answer, 1..3 =
 * fine/medium/coarse) at `orig_im_size` (int64), points in the stretched 1024 frame (the
 * caller adds no padding point), and the 256x256 logits as `low_res_masks`. It reads its
 * planes from all three embedding tensors: labels from `image_embeddings`, colours and
 * validity from `high_res_features1`, sizes, blends and their labels from
 * `high_res_features2`. Like the real export it leaves the mask choice to the caller.
 */
export function buildSam2Decoder(): Uint8Array {
  const g = new GraphBuilder({ name: 'builtin_sam2_decoder' });
  g.doc('samlite built-in classical segmenter (not a neural network): SAM 2-family 4-token decoder.');
  const signature = REAL_GRAPHS['sam2-decoder'];
  const inputs = declareInputs(g, signature);
  const planesOf = (t: Value, from: number, to: number) => g.slice(g.reshape(t, [-1, CELLS]), [from], [to], [0]);
  const planes = g.concat(
    [
      planesOf(inputs.image_embeddings, 0, PLANE.colour),
      planesOf(inputs.high_res_features1, PLANE.colour, PLANE.mediumSize),
      planesOf(inputs.high_res_features2, PLANE.mediumSize, PLANE.count),
    ],
    0,
  );
  const hI = g.gather(inputs.orig_im_size, g.scalarI64(0));
  const wI = g.gather(inputs.orig_im_size, g.scalarI64(1));
  const xy = g.reshape(inputs.point_coords, [-1, 2]);
  const u = g.div(g.reshape(g.slice(xy, [0], [1], [1]), [-1]), g.scalar(4));
  const v = g.div(g.reshape(g.slice(xy, [1], [2], [1]), [-1]), g.scalar(4));
  const grid = g.scalar(GRID);
  const { logits, iou } = decodeCore(g, planes, { u, v, kinds: g.reshape(inputs.point_labels, [-1]), cellsW: grid, cellsH: grid, maskLevels: [1, 0, 1, 2], negatives: true });
  const k = 4;
  // The predictor's step: the 256x256 logits resized straight to orig_im_size.
  const masks = renderBilinear(g, logits, k, { srcH: grid, srcW: grid, outH: g.cast(hI, 'float32'), outW: g.cast(wI, 'float32') });
  declareOutputs(g, signature, [g.unsqueeze(masks, [0]), g.reshape(iou, [1, k]), g.reshape(logits, [1, k, GRID, GRID])], inputs.point_labels);
  return g.toBytes(modelOptions('sam2', 'decoder'));
}

/**
 * EfficientSAM-family decoder: 3 unsorted masks (medium, fine, coarse), points in the
 * `orig_im_size` pixel frame, only the first 6 points used, label 0 ignored.
 */
export function buildEfficientSamDecoder(): Uint8Array {
  const g = new GraphBuilder({ name: 'builtin_efficientsam_decoder' });
  g.doc('samlite built-in classical segmenter (not a neural network): EfficientSAM-family decoder.');
  const signature = REAL_GRAPHS['efficientsam-decoder'];
  const { image_embeddings: embedding, batched_point_coords: coords, batched_point_labels: labels, orig_im_size: origSize } = declareInputs(g, signature);

  const hF = g.cast(g.gather(origSize, g.scalarI64(0)), 'float32');
  const wF = g.cast(g.gather(origSize, g.scalarI64(1)), 'float32');
  const xy = g.reshape(g.slice(coords, [0], [6], [2]), [-1, 2]);
  const kinds = g.reshape(g.slice(labels, [0], [6], [2]), [-1]);
  const grid = g.scalar(GRID);
  const u = g.div(g.mul(g.reshape(g.slice(xy, [0], [1], [1]), [-1]), grid), wF);
  const v = g.div(g.mul(g.reshape(g.slice(xy, [1], [2], [1]), [-1]), grid), hF);

  const { logits, iou } = decodeCore(g, embedding, {
    u,
    v,
    kinds,
    cellsW: grid,
    cellsH: grid,
    maskLevels: [1, 0, 2],
    negatives: false,
  });
  const k = 3;
  const masks = renderBilinear(g, logits, k, { srcH: grid, srcW: grid, outH: hF, outW: wF });
  // The third output, the low-res logits, is [B*Q, 3, 256, 256] under an exporter-chosen name.
  declareOutputs(g, signature, [g.unsqueeze(masks, [0, 1]), g.reshape(iou, [1, 1, k]), g.reshape(logits, [1, k, GRID, GRID])], origSize);
  return g.toBytes(modelOptions('efficientsam', 'decoder'));
}

interface CoreInputs {
  /** Point positions in grid-cell units (x / 4 in the 1024 frame), float32 [N]. */
  readonly u: Value;
  readonly v: Value;
  /** Point labels, float32 [N]: 1 positive, 0 negative, 2/3 box corners, others ignored. */
  readonly kinds: Value;
  /** Extent of the image in cells (float scalars); points are clipped into it. */
  readonly cellsW: Value;
  readonly cellsH: Value;
  /** Nominal tolerance level of each output mask. */
  readonly maskLevels: readonly number[];
  /** Whether label 0 means "negative point" (SAM) or nothing (EfficientSAM). */
  readonly negatives: boolean;
}

/**
 * Prompt -> low-res logits [k, 65536] and predicted IoUs [k], on the 256x256 grid.
 *
 * Seeds are cells: every positive point's cell, plus with a box the "main region" cell (see
 * below). A mask at level l is the union of the seeds' level-l components, clipped to the
 * box. Negative points choose the level: mask level = min(nominal, the coarsest level at
 * which no negative point shares a component with a seed), so a negative on a similar
 * neighbouring region splits the two. Components are nested across levels and the seeds
 * and clip are the same at every level, so the masks are nested too and a mask's IoU
 * against the next coarser one is simply the ratio of their areas.
 */
function decodeCore(g: GraphBuilder, embedding: Value, p: CoreInputs): { logits: Value; iou: Value } {
  const levels = TOLERANCES.length;
  const planes = g.reshape(embedding, [PLANE.count, CELLS]);
  const labelsI = g.cast(g.slice(planes, [PLANE.labels], [PLANE.labels + levels], [0]), 'int32'); // [4, C]

  // A dummy padding point keeps every reduction over points non-empty.
  const u = g.concat([p.u, g.f32([0])], 0);
  const v = g.concat([p.v, g.f32([0])], 0);
  const kinds = g.concat([p.kinds, g.f32([-1])], 0);
  const clipCell = (x: Value, extent: Value): Value => {
    const last = g.sub(g.op('Ceil', [extent]), g.scalar(1));
    return g.op('Min', [g.op('Max', [g.op('Floor', [x]), g.scalar(0)]), last]);
  };
  const pointCells = g.cast(g.add(g.mul(clipCell(v, p.cellsH), g.scalar(GRID)), clipCell(u, p.cellsW)), 'int64'); // [N]
  const isPos = g.op('Equal', [kinds, g.scalar(1)]);
  // EfficientSAM has no negative label: its label 0 must do nothing (x == NaN is false).
  const isNeg = g.op('Equal', [kinds, g.scalar(p.negatives ? 0 : Number.NaN)]);
  const isTL = g.op('Equal', [kinds, g.scalar(2)]);
  const isBR = g.op('Equal', [kinds, g.scalar(3)]);
  const anyOf = (b: Value): Value => g.op('Greater', [g.reduce('ReduceMax', g.cast(b, 'float32'), [0]), g.scalar(0)]);
  const hasBox = g.op('And', [anyOf(isTL), anyOf(isBR)]);

  // Box: its cells, and a seed cell in its main region. Only runs when a box is given.
  const box = g.subgraph('box');
  {
    const isCorner = box.op('Or', [isTL, isBR]);
    const minOver = (x: Value): Value => box.reduce('ReduceMin', box.where(isCorner, x, g.scalar(BIG)), [0]);
    const maxOver = (x: Value): Value => box.reduce('ReduceMax', box.where(isCorner, x, g.scalar(-BIG)), [0]);
    const [u0, u1, v0, v1] = [minOver(u), maxOver(u), minOver(v), maxOver(v)];
    const cellPos = box.range(0, GRID, 1, 'float32');
    // A cell is in the box when it overlaps it, so thin boxes still select cells.
    const inSpan = (lo: Value, hi: Value): Value =>
      box.op('And', [box.op('Greater', [box.add(cellPos, g.scalar(1)), lo]), box.op('Less', [cellPos, hi])]);
    const inBox = box.cast(
      box.reshape(box.op('And', [box.unsqueeze(inSpan(v0, v1), [1]), box.unsqueeze(inSpan(u0, u1), [0])]), [1, CELLS]),
      'float32',
    );
    // Main region: the medium-level component maximising inside^2 / size, i.e. both big
    // and mostly inside the box (the surrounding background is big but mostly outside).
    const medium = box.slice(labelsI, [1], [2], [0]); // [1, C]
    const mediumSize = box.slice(planes, [PLANE.mediumSize], [PLANE.mediumSize + 1], [0]);
    const inside = box.op('ScatterElements', [box.fill([1, CELLS], 0), medium, inBox], { axis: 1, reduction: 'add' });
    const root = box.cast(box.op('ArgMax', [box.div(box.mul(inside, inside), mediumSize)], { axis: 1, keepdims: 1 }), 'int32');
    // Seed at the region's cell nearest the box centre, not at its root (the smallest
    // index, a top-left border cell whose colour may be a blend).
    const centreDist = (lo: Value, hi: Value): Value => {
      const d = box.sub(box.add(cellPos, g.scalar(0.5)), box.mul(box.add(lo, hi), g.scalar(0.5)));
      return box.mul(d, d);
    };
    const dist = box.reshape(
      box.add(box.unsqueeze(centreDist(v0, v1), [1]), box.unsqueeze(centreDist(u0, u1), [0])),
      [1, CELLS],
    );
    const seed = box.op('ArgMin', [box.where(box.op('Equal', [medium, root]), dist, g.scalar(BIG))], { axis: 1, keepdims: 0 });
    box.output(inBox, 'box_mask', 'float32', [1, CELLS]);
    box.output(seed, 'box_seed', 'int64', [1]);
  }
  const noBox = g.subgraph('no_box');
  noBox.output(noBox.constant('float32', [1, 1], [1]), 'no_box_mask', 'float32', [1, 1]);
  noBox.output(noBox.constant('int64', [1], [0]), 'no_box_seed', 'int64', [1]);
  const [boxMask, boxSeed] = g.op('If', [hasBox], { then_branch: box, else_branch: noBox }, 2);

  // Seeds: the points, then the box seed. Their planes hold labels and colour.
  const seedCells = g.concat([pointCells, boxSeed], 0); // [S]
  const seedPlanes = g.gather(planes, seedCells, 1); // [16, S]
  const seedLabels = g.cast(g.slice(seedPlanes, [PLANE.labels], [PLANE.labels + levels], [0]), 'int32'); // [4, S]
  const seedPos = g.concat([isPos, g.reshape(hasBox, [1])], 0); // [S]
  const seedNeg = g.concat([isNeg, g.constant('bool', [1], [0])], 0);
  const posLabels = g.where(seedPos, seedLabels, g.constant('int32', [], [-1]));
  const negLabels = g.where(seedNeg, seedLabels, g.constant('int32', [], [-2]));

  // Coarsest level at which no negative shares a component with a positive seed (nesting
  // makes clashes monotone in the level; with a clash even at level 0 negatives are moot).
  const clash = g.reduce(
    'ReduceMax',
    g.cast(g.op('Equal', [g.unsqueeze(posLabels, [2]), g.unsqueeze(negLabels, [1])]), 'float32'),
    [1, 2],
  ); // [4]
  const okLevel = g.op('Max', [g.sub(g.cast(g.reduce('ReduceSum', g.sub(g.scalar(1), clash), [0]), 'int64'), g.scalarI64(1)), g.scalarI64(0)]);
  const level = g.op('Min', [g.i64(p.maskLevels), okLevel]); // [k]
  const refLevel = g.op('Min', [g.add(level, g.scalarI64(1)), g.scalarI64(levels - 1)]);

  // Membership table: table[l, label] = 1 for the positive seeds' labels; masks by lookup.
  const table = g.op(
    'ScatterElements',
    [
      g.fill([levels, CELLS], 0),
      g.op('Max', [posLabels, g.constant('int32', [], [0])]),
      g.op('Expand', [g.cast(seedPos, 'float32'), g.shape(posLabels)]),
    ],
    { axis: 1, reduction: 'max' },
  );
  const member = g.mul(g.op('GatherElements', [table, labelsI], { axis: 1 }), boxMask); // [4, C]
  const area = g.reduce('ReduceSum', member, [1]); // [4]
  // IoU with the next coarser mask (nested, so an area ratio), times area / (area + 1) so
  // that specks of a few cells, typical of noise, do not pass as confident masks.
  const own = g.gather(area, level, 0);
  const ratio = g.div(own, g.op('Max', [g.gather(area, refLevel, 0), g.scalar(1)]));
  const iou = g.mul(ratio, g.div(own, g.add(own, g.scalar(1))));

  // Colour distance to the nearest positive seed, as |c|^2 - 2 c.s + |s|^2 with one MatMul
  // straight over the embedding planes (the seed row is zero outside the colour planes).
  // Only positive seeds take part (Compress), usually just one.
  const posPlanes = g.op('Compress', [seedPlanes, seedPos], { axis: 1 }); // [16, P]
  const seedColour = g.transpose(g.slice(posPlanes, [PLANE.colour], [PLANE.colour + 3], [0]), [1, 0]); // [P, 3]
  const seedRow = g.op('Pad', [g.mul(seedColour, g.scalar(-2)), g.i64([0, 0, 0, 1])]); // [P, 4]
  const normPick = g.constant('float32', [1, 4], [0, 0, 0, 1]);
  const colourPlanes = g.slice(planes, [PLANE.colour], [PLANE.colourNorm + 1], [0]); // [4, C]: RGB, |RGB|^2
  const seedNorm = g.reduce('ReduceSum', g.mul(seedColour, seedColour), [1], true); // [P, 1]
  const d2 = g.add(g.matmul(g.add(seedRow, normPick), colourPlanes), seedNorm); // [P, C]
  // With no positive seed the minimum is +inf, harmless: every mask is empty then.
  const dist = g.op('Sqrt', [g.op('Relu', [g.reduce('ReduceMin', d2, [0], true)])]); // [1, C]

  // Edge cells: `other` is the mask membership of the far side of each edge-blend cell, so
  // a blend counts as covered by the mask to its share alpha (inside, snapped in) or
  // 1 - alpha (outside, snapped out), 1 if both sides are in. Logits are linear in that
  // coverage, 17 * coverage - 8.5, so the bilinear render puts the edge inside the cell
  // where the colour mix says it is, not on the cell boundary.
  const otherI = g.cast(g.slice(planes, [PLANE.otherLabels], [PLANE.otherLabels + levels], [0]), 'int32');
  const otherMember = g.mul(g.op('GatherElements', [table, otherI], { axis: 1 }), boxMask); // [4, C]
  const masks = g.gather(member, level, 0); // [k, C]
  const others = g.gather(otherMember, level, 0);
  const alpha = g.slice(planes, [PLANE.alpha], [PLANE.alpha + 1], [0]); // [1, C]
  // With o = the far side's membership and beta = 17 (1 - alpha): inside, the smaller of
  // the colour term 8.5 - min(d * 8 / scale, 8) and the coverage term 17 max(alpha, o) - 8.5,
  // i.e. 8.5 - max(min(d * 8 / scale, 8), beta - beta o); outside, beta o - 8.5 (-8.5 away
  // from edges, where alpha = 1).
  const beta = g.mul(g.sub(g.scalar(1), alpha), g.scalar(17)); // [1, C]
  const slope = g.unsqueeze(g.gather(g.f32(LOGIT_SCALES.map((s) => 8 / s)), level, 0), [1]); // [k, 1]
  const colourDrop = g.op('Min', [g.mul(dist, slope), g.scalar(8)]); // [k, C]
  const betaOther = g.mul(beta, others);
  const inside = g.sub(g.scalar(8.5), g.op('Max', [colourDrop, g.sub(beta, betaOther)]));
  const outside = g.add(betaOther, g.scalar(OUTSIDE_LOGIT));
  const logits = g.where(g.cast(masks, 'bool'), inside, outside);
  return { logits, iou };
}


/**
 * Bilinear (half-pixel, PyTorch align_corners=False) resize of k grid maps [k, 65536] to
 * [k, outH, outW], reading the grid as if it were `srcH` x `srcW` cells long (fractional
 * lengths crop the padding away exactly). Built from row gathers rather than Resize, whose
 * output length is rounded from a float scale; columns are done as rows of the transpose
 * because ONNX Runtime gathers single elements slowly.
 */
function renderBilinear(
  g: GraphBuilder,
  logits: Value,
  k: number,
  size: { srcH: Value; srcW: Value; outH: Value; outW: Value },
): Value {
  const grid = g.reshape(logits, [k, GRID, GRID]);
  // Segment-everything's usual request for SAM (longest side 256, frame a multiple of 4)
  // is one output pixel per cell: then the resize is the identity and a crop suffices.
  const same = g.op('And', [g.op('Equal', [size.srcH, size.outH]), g.op('Equal', [size.srcW, size.outW])]);
  const crop = g.subgraph('render_crop');
  {
    const end = crop.concat([crop.reshape(crop.cast(size.outH, 'int64'), [1]), crop.reshape(crop.cast(size.outW, 'int64'), [1])], 0);
    crop.output(crop.op('Slice', [grid, g.i64([0, 0]), end, g.i64([1, 2])]), 'cropped', 'float32', [k, 'H', 'W']);
  }
  const resize = g.subgraph('render_resize');
  {
    const r = resize;
    const taps = (src: Value, out: Value): { i0: Value; i1: Value; w: Value } => {
      const pos = r.range(g.scalar(0.5), r.add(out, g.scalar(0.5)), g.scalar(1), 'float32'); // i + 0.5
      const s = r.op('Max', [r.sub(r.mul(pos, r.div(src, out)), g.scalar(0.5)), g.scalar(0)]);
      const f = r.op('Min', [r.op('Floor', [s]), g.scalar(GRID - 1)]);
      const i0 = r.cast(f, 'int64');
      const i1 = r.op('Min', [r.add(i0, g.scalarI64(1)), g.scalarI64(GRID - 1)]);
      return { i0, i1, w: r.unsqueeze(r.op('Min', [r.sub(s, f), g.scalar(1)]), [1]) };
    };
    const lerpRows = (x: Value, t: { i0: Value; i1: Value; w: Value }): Value => {
      const a = r.gather(x, t.i0, 1);
      return r.add(a, r.mul(r.sub(r.gather(x, t.i1, 1), a), t.w));
    };
    const columnsFirst = r.transpose(grid, [0, 2, 1]); // [k, x, y]
    const cols = lerpRows(columnsFirst, taps(size.srcW, size.outW)); // [k, W, 256]
    const rows = lerpRows(r.transpose(cols, [0, 2, 1]), taps(size.srcH, size.outH)); // [k, H, W]
    r.output(rows, 'resized', 'float32', [k, 'H', 'W']);
  }
  const [out] = g.op('If', [same], { then_branch: crop, else_branch: resize }, 1);
  return out;
}

/** SAM 2's Normalize (ImageNet), on 0..1 values. */
const SAM2_MEAN = [0.485, 0.456, 0.406];
const SAM2_STD = [0.229, 0.224, 0.225];

function modelOptions(family: 'sam' | 'efficientsam' | 'sam2', part: 'encoder' | 'decoder') {
  return {
    producerName: 'samlite build-builtin-models',
    producerVersion: '1',
    docString:
      'samlite built-in classical colour-region segmenter (connected components at four colour ' +
      'tolerances; not a neural network), wired to the ' +
      (family === 'sam' ? 'SAM (MobileSAM-style)' : family === 'sam2' ? "SAM 2 (osam's export)" : 'EfficientSAM') +
      ` ${part} contract.`,
    metadata: { 'samlite.builtin': '1', 'samlite.family': family, 'samlite.part': part },
  };
}

/** File names of the built-in models (as listed in models/registry.json). */
export const BUILTIN_FILES = {
  samEncoder: 'builtin-sam-encoder.onnx',
  samDecoder: 'builtin-sam-decoder.onnx',
  efficientSamEncoder: 'builtin-efficientsam-encoder.onnx',
  efficientSamDecoder: 'builtin-efficientsam-decoder.onnx',
  sam2Encoder: 'builtin-sam2-encoder.onnx',
  sam2Decoder: 'builtin-sam2-decoder.onnx',
} as const;

/** Builds the built-in prompt-family models' files, keyed by file name (models/builtin/<name>). */
export function buildAllBuiltinModels(): Record<string, Uint8Array> {
  return {
    [BUILTIN_FILES.sam2Encoder]: buildSam2Encoder(),
    [BUILTIN_FILES.sam2Decoder]: buildSam2Decoder(),
    [BUILTIN_FILES.samEncoder]: buildSamEncoder(),
    [BUILTIN_FILES.samDecoder]: buildSamDecoder(),
    [BUILTIN_FILES.efficientSamEncoder]: buildEfficientSamEncoder(),
    [BUILTIN_FILES.efficientSamDecoder]: buildEfficientSamDecoder(),
  };
}
