/**
 * samlite's public API. The CLI (`bin/samlite`) is a thin layer over these exports.
 */
export * from './util/errors.js';
export type { RgbImage, LoadedImage } from './image/types.js';
export type { BinaryMask, MaskLogits, BoxXYWH } from './masks/types.js';
export type { Point, Box, Prompt } from './prompts/types.js';
export type { FamilyName, PromptFamilyName, Size, ImageEmbedding, DecodeOptions, DecodedMasks, FamilyAdapter } from './families/types.js';
export { writeFileAtomic, writeStreamAtomic } from './util/atomic-write.js';
export type { RawImage } from './image/types.js';
export { loadImage, ALPHA_BACKGROUND, type LoadImageOptions } from './image/load.js';
export { probeImage, type ImageInfo, type ImageReadOptions } from './image/probe.js';
export { DEFAULT_MAX_PIXELS, parseMaxPixels } from './image/limits.js';
export { resizeRgb } from './image/resize.js';
export { encodePng, encodeMaskPng, decodeMaskPng } from './image/encode.js';
export * from './everything/index.js';
export { upsampleLogitWindow, upsampleLogitsToMask, upsampledMaskStats, windowMaskToRle, type LogitWindow, type WindowMask, type UpsampledMaskStats } from './masks/resize.js';
export * from './writers/naming.js';
export { writeOutputFile, writeOutputStream, type WriteOptions } from './writers/files.js';
export * from './writers/segment.js';
export * from './writers/sa1b-json.js';
export * from './writers/labels.js';
export * from './writers/mask-folder.js';
export * from './writers/overlay.js';
export * from './writers/polygons.js';
export * from './writers/everything.js';
export { maskId, paintOrder } from './writers/order.js';
export { cocoBbox } from './writers/mask-stats.js';
export { distinctColour, type Rgb } from './writers/draw.js';
export * from './masks/polygons.js';
export { simplifyRing, ringArea2 } from './masks/simplify.js';
export { rleToCrop, maskToCrop, forEachForegroundSpan, type MaskCrop } from './masks/crop.js';
export { maskOutline } from './masks/outline.js';
export * from './store/index.js';
export { describeOnnxFile, formatDims, type OnnxSignature, type TensorSignature } from './inference/signature.js';
export { GRID_RENDER_FACTOR, MULTIMASK_CANDIDATES, Segmenter, type ModelToOpen, type SegmenterOptions, type SegmentOptions, type SegmentResult, type PromptMask, type EverythingRun } from './segmenter/segmenter.js';
export type { FamilyPipeline, PipelineOptions } from './segmenter/pipeline.js';
export * from './fastsam/index.js';
export { MemoryEmbeddingCache, embeddingKey, type EmbeddingCache } from './cache/embedding-cache.js';
export * from './prompts/index.js';
export * from './datasets/index.js';
export { openFamilyAdapter, FAMILY_CONTRACTS, resizeLongestSide } from './families/index.js';
export type { FamilyContract, TensorSpec, EncoderInputLayout, ModelFiles, OpenOptions, RunObserver, SessionOptions } from './families/index.js';
export * from './masks/rle.js';
export type { MaskRecord } from './masks/record.js';
export { logitsToMask } from './masks/threshold.js';
export { expandInputs, IMAGE_EXTENSIONS, hasImageExtension, type InputItem, type InputProblem, type ExpandOptions } from './batch/inputs.js';
export { parseShard, inShard, type Shard } from './batch/shard.js';
export { DiskEmbeddingCache, DEFAULT_DISK_CACHE_BYTES } from './cache/disk-embedding-cache.js';
export { TieredEmbeddingCache } from './cache/embedding-cache.js';
export { maskIou, pixelIou } from './masks/iou.js';
// The job layer: batches as the CLI and the server run them (plan, check outputs, run, finish datasets).
export { installInterruptHandler, type Interrupt, type StopReason } from './batch/interrupt.js';
export { datasetSettings, finishDataset, planResume, type JobReport } from './jobs/dataset-run.js';
export { segmentImage, segmentTarget, type SegmentImageJob, type SegmentImageSettings, type SegmentImageEvents } from './jobs/segment-image.js';
export {
  planSegmentJobs,
  prepareSegmentRun,
  checkSharedPrompt,
  runSegmentJobs,
  type SegmentRequest,
  type SegmentPlan,
  type SegmentOutputs,
  type PreparedSegmentRun,
  type SegmentRunEvents,
  type SegmentRunResult,
} from './jobs/segment-run.js';
export {
  prepareEverythingRun,
  runEverythingJobs,
  finishEverythingDataset,
  type EverythingRequest,
  type PreparedEverythingRun,
  type EverythingRunSettings,
  type EverythingRunEvents,
  type EverythingRunResult,
  type EverythingImageDone,
} from './jobs/everything-run.js';
export { mergeDatasets, type MergeRequest } from './jobs/merge-run.js';
export { startServer, type ServeOptions, type RunningServer } from './server/server.js';
// GeoTIFFs: tiled runs, seam merge, georeferenced outputs (src/geo/).
export * from './geo/index.js';
