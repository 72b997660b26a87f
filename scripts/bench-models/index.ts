/**
 * Benchmark models: architecture-shaped ONNX pairs with random weights, built on demand
 * into a cache folder, following the real exports' contracts (see models.ts).
 */
export {
  BENCH_MODELS_VERSION,
  BENCH_PAIRS,
  MINI_BENCH_PAIRS,
  DEFAULT_BENCH_CACHE,
  SAM_MASK_DECODER,
  TINYVIT_5M,
  VIT_S,
  VIT_TI,
  buildBenchPair,
  ensureBenchModels,
} from './models.js';
export type { BenchEncoderSpec, BenchModelInfo, BenchPairSpec, BuiltPair, EnsureOptions, PublishedFigures } from './models.js';
export type { CostReport } from './net.js';
export { IOU_CENTRE, IOU_GAIN, LOGIT_GAIN, type MaskDecoderConfig } from './decoder.js';
export type { TinyVitEncoderConfig, VitEncoderConfig } from './encoders.js';
export { FASTSAM_BENCH_MODELS, MINI_FASTSAM_BENCH_MODELS, buildFastSamBench, ensureFastSamBenchModels } from './fastsam.js';
export type { BenchFastSamInfo, BenchFastSamSpec, FastSamPublished } from './fastsam.js';
export { YOLOV8S_SEG, SCORE_BIAS, buildYoloSeg, type YoloSegConfig } from './yolo-seg.js';
