/**
 * The project's ONNX toolkit: a graph builder (builder.ts), neural-network blocks for
 * random-weight benchmark models (nn.ts), the built-in classical segmenter
 * (builtin-segmenter.ts) and the adapter tests' spy models (spy-models.ts).
 */
export { GraphBuilder, Value, TensorAttr, FloatAttr, float, tensorAttr, toTypedArray } from './builder.js';
export type { Attrs, AttrValue, Dim, GraphOptions, ModelOptions, OpInput, TensorData } from './builder.js';
export { DATA_TYPE, decodeModel } from './proto.js';
export type { DType } from './proto.js';
export { SeededRandom, attention, conv2d, gelu, layerNorm, linear, mlp, toFloat16Bits, transformerBlock } from './nn.js';
export type { Init } from './nn.js';
