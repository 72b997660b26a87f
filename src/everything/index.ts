/** Segment everything: the automatic mask generator and its building blocks. */
export {
  generateMasks,
  renderSizeFor,
  type GenerateMasksOptions,
  type EverythingProgress,
  type EverythingResult,
  type EverythingStats,
  type EverythingCounts,
  type EverythingTimings,
} from './generator.js';
export { fullGridSchedule, type PointSchedule, type AcceptedCandidate, type ScheduledPoint } from './schedule.js';
export {
  EVERYTHING_DEFAULTS,
  MAX_CROP_LAYERS,
  resolveEverythingOptions,
  type EverythingOptions,
  type EverythingOptionsInput,
  type RecordOrder,
  type EverythingMode,
  type ScoreResolution,
} from './options.js';
export { parseAreaLimit, resolveAreaLimit, formatAreaLimit, type AreaLimit } from './area.js';
export { GRID_PRESETS, buildPointGrid, buildAllLayerPointGrids, scaleGrid } from './grid.js';
export { stabilityScore } from './stability.js';
export { boxFromLogits, boxFromMask, boxArea, boxIou, type Xyxy } from './boxes.js';
export { nms } from './nms.js';
export { generateCropBoxes, isBoxNearCropEdge, CROP_EDGE_TOLERANCE, type CropBox } from './crops.js';
export { removeSmallRegions, cleanSmallRegions, type RegionMode, type RegionResult } from './regions.js';
export { MaskData } from './mask-data.js';
export { fastSchedule, coarseToFineOrder, windowContains } from './fast-schedule.js';
