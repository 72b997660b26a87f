/**
 * samlite's public API. The CLI (`bin/samlite`) is a thin layer over these exports.
 */
export * from './errors.js';
export type { RgbImage, LoadedImage } from './image/types.js';
export type { BinaryMask, MaskLogits, BoxXYWH } from './masks/types.js';
export type { Point, Box, Prompt } from './prompts/types.js';
export type { FamilyName, Size, ImageEmbedding, DecodeOptions, DecodedMasks, FamilyAdapter } from './families/types.js';
export { writeFileAtomic } from './util/atomic-write.js';
export type { RawImage } from './image/types.js';
export { loadImage, ALPHA_BACKGROUND, type LoadImageOptions } from './image/load.js';
export { probeImage, type ImageInfo, type ImageReadOptions } from './image/probe.js';
export { DEFAULT_MAX_PIXELS, parseMaxPixels } from './image/limits.js';
export { resizeRgb } from './image/resize.js';
export { encodePng, encodeMaskPng, decodeMaskPng } from './image/encode.js';
export * from './everything/index.js';
export { upsampleLogitWindow, windowMaskToRle, type LogitWindow, type WindowMask } from './masks/resize.js';
export * from './writers/naming.js';
export { writeOutputFile, type WriteOptions } from './writers/files.js';
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
export { describeOnnxFile, formatDims, type OnnxSignature, type TensorSignature } from './families/signature.js';
