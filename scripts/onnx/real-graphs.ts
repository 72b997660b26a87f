/**
 * The inputs and outputs of the published ONNX exports, exactly as onnxruntime reports them
 * (names, element types, shapes with the exporters' symbolic dimension names). Copied from
 * the conformance kit's real-graph-metadata.json, which reads graphs rebuilt by the upstream
 * export code (../shared/conformance): efficientsam-ti and -s share one signature.
 *
 * The spy, built-in and benchmark models declare these signatures, so every test and
 * benchmark loads files whose metadata looks like the real ones; `npm run conformance`
 * checks this table against the kit's file when the kit is there.
 */
import type { GraphBuilder, Value } from './builder.js';
import type { DType } from './proto.js';

/** One graph input or output: a fixed size is a number, a symbolic one its name. */
export interface GraphIo {
  readonly name: string;
  readonly type: DType & ('float32' | 'int64');
  readonly dims: readonly (number | string)[];
}

/** A graph's inputs and outputs, in graph order. */
export interface GraphSignature {
  readonly inputs: readonly GraphIo[];
  readonly outputs: readonly GraphIo[];
}

/** Which published file each signature is, by the kit's key (`<model>/<role>`). */
export const REAL_GRAPH_SOURCES = {
  'efficientsam-encoder': 'efficientsam-ti/encoder',
  'efficientsam-decoder': 'efficientsam-ti/decoder',
  'mobilesam-encoder': 'mobilesam/encoder',
  'mobilesam-decoder': 'mobilesam/decoder',
  'sam-vit-b-encoder': 'sam-vit-b/encoder',
  'sam-vit-b-decoder': 'sam-vit-b/decoder',
  // SAM 2.1: the export behind osam's files, and samexporter's (sam2/README.md in the kit).
  'sam2-encoder': 'sam2.1-tiny/encoder',
  'sam2-decoder': 'sam2.1-tiny/decoder',
  'sam2-samexporter-encoder': 'sam2.1-tiny-samexporter/encoder',
  'sam2-samexporter-decoder': 'sam2.1-tiny-samexporter/decoder',
} as const;

/** The signature of each published export. */
export const REAL_GRAPHS: Readonly<Record<keyof typeof REAL_GRAPH_SOURCES, GraphSignature>> = {
  'efficientsam-encoder': {
    inputs: [
      { name: 'batched_images', type: 'float32', dims: ['batch', 3, 'height', 'width'] },
    ],
    outputs: [
      { name: 'image_embeddings', type: 'float32', dims: ['Addimage_embeddings_dim_0', 256, 'Addimage_embeddings_dim_2', 'Addimage_embeddings_dim_3'] },
    ],
  },
  'efficientsam-decoder': {
    inputs: [
      { name: 'image_embeddings', type: 'float32', dims: ['batch', 256, 64, 64] },
      { name: 'batched_point_coords', type: 'float32', dims: [1, 1, 'num_points', 2] },
      { name: 'batched_point_labels', type: 'float32', dims: [1, 1, 'num_points'] },
      { name: 'orig_im_size', type: 'int64', dims: [2] },
    ],
    outputs: [
      { name: 'output_masks', type: 'float32', dims: [1, 1, 'Reshapeoutput_masks_dim_2', 'Reshapeoutput_masks_dim_3', 'Reshapeoutput_masks_dim_4'] },
      { name: 'iou_predictions', type: 'float32', dims: [1, 1, 'Reshapeoutput_masks_dim_2'] },
      { name: 'onnx::Shape_1830', type: 'float32', dims: ['Sliceonnx::Shape_1830_dim_0', 'Reshapeoutput_masks_dim_2', 'Sliceonnx::Shape_1830_dim_2', 'Sliceonnx::Shape_1830_dim_3'] },
    ],
  },
  'mobilesam-encoder': {
    inputs: [
      { name: 'input_image', type: 'float32', dims: ['image_height', 'image_width', 3] },
    ],
    outputs: [
      { name: 'image_embeddings', type: 'float32', dims: ['Addimage_embeddings_dim_0', 256, 64, 64] },
    ],
  },
  'mobilesam-decoder': {
    inputs: [
      { name: 'image_embeddings', type: 'float32', dims: [1, 256, 64, 64] },
      { name: 'point_coords', type: 'float32', dims: [1, 'num_points', 2] },
      { name: 'point_labels', type: 'float32', dims: [1, 'num_points'] },
      { name: 'mask_input', type: 'float32', dims: [1, 1, 256, 256] },
      { name: 'has_mask_input', type: 'float32', dims: [1] },
      { name: 'orig_im_size', type: 'float32', dims: [2] },
    ],
    outputs: [
      { name: 'masks', type: 'float32', dims: ['Resizemasks_dim_0', 'Resizemasks_dim_1', 'Resizemasks_dim_2', 'Resizemasks_dim_3'] },
      { name: 'iou_predictions', type: 'float32', dims: ['Gemmiou_predictions_dim_0', 4] },
      { name: 'low_res_masks', type: 'float32', dims: ['Reshapelow_res_masks_dim_0', 'Reshapelow_res_masks_dim_1', 'Reshapelow_res_masks_dim_2', 'Reshapelow_res_masks_dim_3'] },
    ],
  },
  'sam-vit-b-encoder': {
    inputs: [
      { name: 'x', type: 'float32', dims: [1, 3, 1024, 1024] },
    ],
    outputs: [
      { name: 'image_embeddings', type: 'float32', dims: ['Addimage_embeddings_dim_0', 256, 64, 64] },
    ],
  },
  'sam-vit-b-decoder': {
    inputs: [
      { name: 'image_embeddings', type: 'float32', dims: [1, 256, 64, 64] },
      { name: 'point_coords', type: 'float32', dims: [1, 'num_points', 2] },
      { name: 'point_labels', type: 'float32', dims: [1, 'num_points'] },
      { name: 'mask_input', type: 'float32', dims: [1, 1, 256, 256] },
      { name: 'has_mask_input', type: 'float32', dims: [1] },
      { name: 'orig_im_size', type: 'float32', dims: [2] },
    ],
    outputs: [
      { name: 'masks', type: 'float32', dims: ['Resizemasks_dim_0', 'Resizemasks_dim_1', 'Resizemasks_dim_2', 'Resizemasks_dim_3'] },
      { name: 'iou_predictions', type: 'float32', dims: ['Unsqueezeiou_predictions_dim_0', 1] },
      { name: 'low_res_masks', type: 'float32', dims: ['Unsqueezelow_res_masks_dim_0', 1, 'Unsqueezelow_res_masks_dim_2', 'Unsqueezelow_res_masks_dim_3'] },
    ],
  },
  // osam's files were also run through onnxsim, which the kit cannot install: these are the
  // export's own signatures (its constant-folded copy keeps them), what samlite's checks
  // must accept; a simplifier may only fix more of the symbolic dims.
  'sam2-encoder': {
    inputs: [
      { name: 'input', type: 'float32', dims: [1, 3, 1024, 1024] },
    ],
    // The channel axes are symbolic as onnxruntime reads the file unoptimised (how the kit and
    // `models info` read it); a session's optimiser works them out.
    outputs: [
      { name: 'image_embeddings', type: 'float32', dims: [1, 'Reshapeimage_embeddings_dim_1', 64, 64] },
      { name: 'high_res_features1', type: 'float32', dims: [1, 'Reshapehigh_res_features1_dim_1', 256, 256] },
      { name: 'high_res_features2', type: 'float32', dims: [1, 'Reshapehigh_res_features2_dim_1', 128, 128] },
    ],
  },
  'sam2-decoder': {
    inputs: [
      { name: 'image_embeddings', type: 'float32', dims: [1, 256, 64, 64] },
      { name: 'high_res_features1', type: 'float32', dims: [1, 32, 256, 256] },
      { name: 'high_res_features2', type: 'float32', dims: [1, 64, 128, 128] },
      { name: 'point_coords', type: 'float32', dims: ['num_labels', 'num_points', 2] },
      { name: 'point_labels', type: 'float32', dims: ['num_labels', 'num_points'] },
      { name: 'mask_input', type: 'float32', dims: ['num_labels', 1, 256, 256] },
      { name: 'has_mask_input', type: 'float32', dims: ['num_labels'] },
      { name: 'orig_im_size', type: 'int64', dims: [2] },
    ],
    outputs: [
      { name: 'masks', type: 'float32', dims: ['Resizemasks_dim_0', 'Resizemasks_dim_1', 'Resizemasks_dim_2', 'Resizemasks_dim_3'] },
      { name: 'iou_predictions', type: 'float32', dims: ['Sigmoidiou_predictions_dim_0', 4] },
      { name: 'low_res_masks', type: 'float32', dims: ['Cliplow_res_masks_dim_0', 'Cliplow_res_masks_dim_1', 'Cliplow_res_masks_dim_2', 'Cliplow_res_masks_dim_3'] },
    ],
  },
  'sam2-samexporter-encoder': {
    inputs: [
      { name: 'image', type: 'float32', dims: [1, 3, 1024, 1024] },
    ],
    outputs: [
      { name: 'high_res_feats_0', type: 'float32', dims: ['Reshapehigh_res_feats_0_dim_0', 'Reshapehigh_res_feats_0_dim_1', 'Reshapehigh_res_feats_0_dim_2', 'Reshapehigh_res_feats_0_dim_3'] },
      { name: 'high_res_feats_1', type: 'float32', dims: ['Reshapehigh_res_feats_1_dim_0', 'Reshapehigh_res_feats_1_dim_1', 'Reshapehigh_res_feats_1_dim_2', 'Reshapehigh_res_feats_1_dim_3'] },
      { name: 'image_embed', type: 'float32', dims: ['Reshapeimage_embed_dim_0', 'Reshapeimage_embed_dim_1', 'Reshapeimage_embed_dim_2', 'Reshapeimage_embed_dim_3'] },
    ],
  },
  'sam2-samexporter-decoder': {
    inputs: [
      { name: 'image_embed', type: 'float32', dims: [1, 256, 64, 64] },
      { name: 'high_res_feats_0', type: 'float32', dims: [1, 32, 256, 256] },
      { name: 'high_res_feats_1', type: 'float32', dims: [1, 64, 128, 128] },
      { name: 'point_coords', type: 'float32', dims: ['num_labels', 'num_points', 2] },
      { name: 'point_labels', type: 'float32', dims: ['num_labels', 'num_points'] },
      { name: 'mask_input', type: 'float32', dims: ['num_labels', 1, 256, 256] },
      { name: 'has_mask_input', type: 'float32', dims: ['num_labels'] },
    ],
    outputs: [
      { name: 'masks', type: 'float32', dims: ['Clipmasks_dim_0', 'Clipmasks_dim_1', 'Clipmasks_dim_2', 'Clipmasks_dim_3'] },
      { name: 'iou_predictions', type: 'float32', dims: ['Sliceiou_predictions_dim_0', 3] },
    ],
  },
};

/** Declare every input of `signature` on `g`, in its order; the values come back by name. */
export function declareInputs(g: GraphBuilder, signature: GraphSignature): Record<string, Value> {
  return Object.fromEntries(signature.inputs.map((io) => [io.name, g.input(io.name, io.type, [...io.dims])]));
}

/**
 * Make `values` the graph's outputs as `signature` declares them (names, types, dims), in
 * its order. Pass fewer values than the signature has only to leave the rest out on
 * purpose (never done for a model meant to look real).
 *
 * onnxruntime replaces a declared symbolic dim by the size its load-time shape inference
 * works out; the real exports keep theirs because their shapes come from data. So an
 * output declared with a symbolic dim is routed through {@link opaqueShape} on `anchor`
 * (any graph input), and the session reports exactly the declared dims.
 */
export function declareOutputs(g: GraphBuilder, signature: GraphSignature, values: readonly Value[], anchor: Value): void {
  values.forEach((value, i) => {
    const io = signature.outputs[i];
    const symbolic = io.dims.some((d) => typeof d === 'string');
    g.output(symbolic ? opaqueShape(g, value, anchor) : value, io.name, io.type, [...io.dims]);
  });
}

/**
 * `value` reshaped to its own shape, multiplied by a 1 that only the data of `anchor` tells
 * (its first element equals itself): shape inference can no longer size it, while the run
 * costs one reshape.
 */
export function opaqueShape(g: GraphBuilder, value: Value, anchor: Value): Value {
  const first = g.slice(g.reshape(anchor, [-1]), [0], [1], [0]);
  const one = g.cast(g.op('Equal', [first, first]), 'int64');
  return g.reshape(value, g.mul(g.shape(value), one));
}

/**
 * FastSAM's published contracts. The ultralytics signatures are what onnxruntime reports for
 * FastSAM-s graphs rebuilt and exported by the exporters themselves (the FastSAM kit,
 * ../shared/conformance/fastsam; `npm run conformance -- --fastsam` checks them against the
 * kit's files): static at 640 and 1024, and `dynamic=True` at opset 12 by current ultralytics
 * (8.4.50) and by the copy (8.0.120) vendored in the FastSAM repository, which name the axes
 * differently. Qualcomm's is read from its export code (quic/ai-hub-models), not a file.
 */
export const FASTSAM_GRAPHS = {
  /** `yolo export model=FastSAM-s.pt format=onnx imgsz=1024`: every size fixed. */
  'fastsam-ultralytics-1024': {
    inputs: [{ name: 'images', type: 'float32', dims: [1, 3, 1024, 1024] }],
    outputs: [
      { name: 'output0', type: 'float32', dims: [1, 37, 21504] },
      { name: 'output1', type: 'float32', dims: [1, 32, 256, 256] },
    ],
  },
  /** The same at imgsz=640. */
  'fastsam-ultralytics-640': {
    inputs: [{ name: 'images', type: 'float32', dims: [1, 3, 640, 640] }],
    outputs: [
      { name: 'output0', type: 'float32', dims: [1, 37, 8400] },
      { name: 'output1', type: 'float32', dims: [1, 32, 160, 160] },
    ],
  },
  /**
   * Current ultralytics' `dynamic=True` (opset 12): it names output0's batch and anchor axes,
   * and torch's exporter leaves the 37 rows symbolic under a name of its own.
   */
  'fastsam-ultralytics-dynamic': {
    inputs: [{ name: 'images', type: 'float32', dims: ['batch', 3, 'height', 'width'] }],
    outputs: [
      { name: 'output0', type: 'float32', dims: ['batch', 'Concatoutput0_dim_1', 'anchors'] },
      { name: 'output1', type: 'float32', dims: ['batch', 32, 'mask_height', 'mask_width'] },
    ],
  },
  /**
   * The FastSAM repository's vendored exporter (ultralytics 8.0.120), `dynamic=True` at opset
   * 12: it names output0's axis 1 (the 37 rows) 'anchors', so the anchors get torch's name.
   */
  'fastsam-repo-dynamic': {
    inputs: [{ name: 'images', type: 'float32', dims: ['batch', 3, 'height', 'width'] }],
    outputs: [
      { name: 'output0', type: 'float32', dims: ['batch', 'anchors', 'Concatoutput0_dim_2'] },
      { name: 'output1', type: 'float32', dims: ['batch', 32, 'mask_height', 'mask_width'] },
    ],
  },
  /**
   * Qualcomm AI Hub's FastSam-S.onnx / FastSam-X.onnx, fixed at 640x640: channel-first
   * prototypes in the ONNX file (its export asks AI Hub for channel-last outputs only for
   * other runtimes than ONNX).
   */
  'fastsam-qualcomm': {
    inputs: [{ name: 'image', type: 'float32', dims: [1, 3, 640, 640] }],
    outputs: [
      { name: 'boxes', type: 'float32', dims: [1, 8400, 4] },
      { name: 'scores', type: 'float32', dims: [1, 8400] },
      { name: 'mask_coeffs', type: 'float32', dims: [1, 8400, 32] },
      { name: 'mask_protos', type: 'float32', dims: [1, 32, 160, 160] },
    ],
  },
  // Qualcomm's TFLite / QNN compilations put the prototypes channel-last; samlite accepts
  // that layout too, and this signature is how the tests prove it reads it right.
  'fastsam-qualcomm-channels-last': {
    inputs: [{ name: 'image', type: 'float32', dims: [1, 3, 640, 640] }],
    outputs: [
      { name: 'boxes', type: 'float32', dims: [1, 8400, 4] },
      { name: 'scores', type: 'float32', dims: [1, 8400] },
      { name: 'mask_coeffs', type: 'float32', dims: [1, 8400, 32] },
      { name: 'mask_protos', type: 'float32', dims: [1, 160, 160, 32] },
    ],
  },
} as const satisfies Record<string, GraphSignature>;

/** Which FastSAM signature. */
export type FastSamGraph = keyof typeof FASTSAM_GRAPHS;
