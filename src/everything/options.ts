/**
 * Options of segment-everything, with the reference's defaults (SamAutomaticMaskGenerator's
 * constructor) and samlite's own additions, validated into one resolved object.
 */
import { UsageError } from '../util/errors.js';
import type { FamilyName } from '../families/types.js';
import { type AreaLimit, parseAreaLimit } from './area.js';
import { pointsPerSideForLayer } from './grid.js';

/** Record order: the reference's (NMS score order, see docs/everything-algorithm.md) or by area, largest first. */
export type RecordOrder = 'reference' | 'area';

/** Where stability and boxes are measured (see {@link EverythingOptions.scoreResolution}). */
export type ScoreResolution = 'full' | 'low';

/**
 * Which grid points are decoded: 'faithful' (every one, the reference algorithm) or 'fast'
 * (coarse to fine, skipping points inside another point's finest accepted mask; see
 * fast-schedule.ts and docs/fast-mode.md for how its results differ).
 */
export type EverythingMode = 'faithful' | 'fast';

/** Every option, resolved. Reference names are in the comments where they differ. */
export interface EverythingOptions {
  /** samlite: 'faithful' follows the reference; 'fast' decodes far fewer points. Default 'faithful'. */
  readonly mode: EverythingMode;
  /** Grid points per side (points_per_side); presets 16, 32, 64. Default 32. */
  readonly pointsPerSide: number;
  /**
   * Decoder runs per batch (points_per_batch). Runs are one prompt each and go one after
   * another, so this only sets how often progress is reported; it never changes results.
   * The fast mode decodes one point at a time and reports after every run. Default 64.
   */
  readonly pointsPerBatch: number;
  /** Keep candidates whose predicted IoU is strictly greater (pred_iou_thresh); 0 disables. Default 0.88. */
  readonly predIouThresh: number;
  /** Keep candidates whose stability is at least this (stability_score_thresh); 0 disables. Default 0.95. */
  readonly stabilityThresh: number;
  /** Logit cutoff shift for the stability score (stability_score_offset). Default 1. */
  readonly stabilityOffset: number;
  /** Box IoU above which NMS inside one crop drops the lower-scored mask (box_nms_thresh). Default 0.7. */
  readonly boxNmsThresh: number;
  /** Crop layers beyond the whole image (crop_n_layers). Default 0. */
  readonly cropLayers: number;
  /** Box IoU for NMS across crops (crop_nms_thresh). Default 0.7. */
  readonly cropNmsThresh: number;
  /** Overlap of neighbouring crops, as a fraction of the short side in layer 1 (crop_overlap_ratio). Default 512/1500. */
  readonly cropOverlapRatio: number;
  /** Points per side are divided by this per crop layer (crop_n_points_downscale_factor). Default 1. */
  readonly cropPointsDownscale: number;
  /** Fill holes and drop islands smaller than this many pixels (min_mask_region_area); 0 disables. Default 0. */
  readonly minRegionArea: number;
  /** samlite: drop final masks smaller than this. Default none. */
  readonly minArea: AreaLimit | null;
  /** samlite: drop final masks larger than this. Default none. */
  readonly maxArea: AreaLimit | null;
  /**
   * samlite: longest side, in pixels, at which the decoder renders candidate logits (the
   * crop's aspect ratio is kept; never above the crop's own size). 'full' renders at the
   * crop's size, which is the reference's behaviour and costs far more on large photos.
   * Default 256.
   */
  readonly lowResSize: number | 'full';
  /**
   * samlite: where stability scores and NMS boxes are measured. 'full' (default): on the
   * full-resolution mask, as the reference does, computed exactly from the bilinear
   * upsampling of the low-resolution logits without building it. 'low': on the rendered
   * low-resolution logits (the variant of SAM's ONNX export): cheaper, but a boundary cell
   * then weighs as much as a whole cell, which lowers stability on small or thin masks.
   */
  readonly scoreResolution: ScoreResolution;
  /**
   * samlite: memory, in MB, for the low-resolution logits of candidates waiting for NMS.
   * Past it, candidates keep only their scores and box and the survivors among them are
   * decoded again after NMS (same results, a few more decoder runs). Default 64.
   */
  readonly candidateMemoryMB: number;
  /** samlite: order of the records. Default 'reference'. */
  readonly order: RecordOrder;
  /**
   * SAM 2's `multimask_output`: each grid point gives its three multi-mask candidates
   * (true), or the one single-mask answer (false: SAM 2's token 0 unless unstable; the
   * family's own pick for the others). Default true, as in both reference generators.
   */
  readonly multimask: boolean;
  /**
   * SAM 2's `use_m2m`: every candidate is decoded once more with its own low-resolution
   * logits as the mask input, in single-mask mode, and that answer replaces it before the
   * filters. Needs a decoder with a mask input (SAM 2). Default false.
   */
  readonly useM2m: boolean;
}

/** What callers may pass: any subset, with area bounds also as text ("500", "0.02", "2%"). */
export type EverythingOptionsInput = Partial<Omit<EverythingOptions, 'minArea' | 'maxArea'>> & {
  readonly minArea?: AreaLimit | string | number | null;
  readonly maxArea?: AreaLimit | string | number | null;
};

/** The defaults: the reference's for its options, samlite's choices for the rest. */
export const EVERYTHING_DEFAULTS: Readonly<EverythingOptions> = Object.freeze({
  mode: 'faithful',
  pointsPerSide: 32,
  pointsPerBatch: 64,
  predIouThresh: 0.88,
  stabilityThresh: 0.95,
  stabilityOffset: 1.0,
  boxNmsThresh: 0.7,
  cropLayers: 0,
  cropNmsThresh: 0.7,
  cropOverlapRatio: 512 / 1500,
  cropPointsDownscale: 1,
  minRegionArea: 0,
  minArea: null,
  maxArea: null,
  lowResSize: 256,
  scoreResolution: 'full',
  candidateMemoryMB: 64,
  order: 'reference',
  multimask: true,
  useM2m: false,
});

/**
 * SAM2AutomaticMaskGenerator's defaults where they differ from SAM's (its constructor at
 * the commit the conformance kit names): predicted IoU above 0.8, not 0.88.
 */
export const SAM2_EVERYTHING_DEFAULTS: Readonly<EverythingOptions> = Object.freeze({ ...EVERYTHING_DEFAULTS, predIouThresh: 0.8 });

/** The defaults `family`'s reference generator uses. */
export function everythingDefaults(family: FamilyName): Readonly<EverythingOptions> {
  return family === 'sam2' ? SAM2_EVERYTHING_DEFAULTS : EVERYTHING_DEFAULTS;
}

/** Crop layers beyond this make thousands of encoder runs; nobody means that. */
export const MAX_CROP_LAYERS = 5;

/**
 * Accepted ranges of the numeric options, inclusive; the CLI states the same ranges
 * (src/cli/ranges.ts). The bounds that are not the reference's own are there so that a
 * typo cannot start a job that never ends or allocate what no machine has:
 * - pointsPerSide 256: 65 536 decoder runs per crop, hours per image on a CPU (the
 *   reference's presets are 16, 32 and 64); 100 000 asked for a 10^10-point grid.
 * - lowResSize 4096: every candidate is rendered at this longest side; any value past the
 *   image's own size already means the full resolution, as 'full' does.
 * - cropPointsDownscale 256: the largest grid divided down to one point.
 */
export const EVERYTHING_LIMITS = Object.freeze({
  pointsPerSide: { min: 1, max: 256 },
  cropLayers: { min: 0, max: MAX_CROP_LAYERS },
  cropPointsDownscale: { min: 1, max: 256 },
  lowResSize: { min: 8, max: 4096 },
  predIouThresh: { min: 0, max: 1 },
  stabilityThresh: { min: 0, max: 1 },
  stabilityOffset: { min: 0, max: Infinity },
  boxNmsThresh: { min: 0, max: 1 },
  cropNmsThresh: { min: 0, max: 1 },
  cropOverlapRatio: { min: 0, max: 0.999 },
  minRegionArea: { min: 0, max: Infinity },
});

function fail(name: string, want: string, got: unknown): never {
  throw new UsageError(`everything option ${name} must be ${want} (got ${JSON.stringify(got) ?? String(got)})`);
}

function int(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(name, max >= Number.MAX_SAFE_INTEGER ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`, v);
  }
  return v;
}

/** {@link int} within the option's {@link EVERYTHING_LIMITS}. */
function limitedInt(name: keyof typeof EVERYTHING_LIMITS, v: unknown): number {
  const { min, max } = EVERYTHING_LIMITS[name];
  return int(name, v, min, Math.min(max, Number.MAX_SAFE_INTEGER));
}

/** A finite number within the option's {@link EVERYTHING_LIMITS}. */
function limitedReal(name: keyof typeof EVERYTHING_LIMITS, v: unknown, what: string): number {
  const { min, max } = EVERYTHING_LIMITS[name];
  return real(name, v, min, max, Number.isFinite(max) ? `${what} from ${min} to ${max}` : `${what} >= ${min}`);
}

function real(name: string, v: unknown, min: number, max: number, want: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(name, want, v);
  return v;
}

function area(name: string, v: AreaLimit | string | number | null | undefined): AreaLimit | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number') return parseAreaLimit(v, name);
  if ('pixels' in v) return { pixels: int(`${name}.pixels`, v.pixels, 0) };
  if ('fraction' in v) return { fraction: real(`${name}.fraction`, v.fraction, 0, 1, 'a fraction from 0 to 1') };
  return fail(name, 'a pixel count or a fraction of the image', v);
}

/**
 * Fill in defaults and check every option, throwing a UsageError that names the option and
 * the accepted range. Combinations are checked too (a crop layer whose grid would have no
 * points; min-area above max-area).
 */
export function resolveEverythingOptions(input: EverythingOptionsInput = {}, defaults: Readonly<EverythingOptions> = EVERYTHING_DEFAULTS): EverythingOptions {
  const known = new Set(Object.keys(EVERYTHING_DEFAULTS));
  for (const key of Object.keys(input)) {
    if (!known.has(key)) throw new UsageError(`unknown everything option ${key} (known: ${[...known].join(', ')})`);
  }
  const o = { ...defaults, ...stripUndefined(input) };
  if (typeof o.multimask !== 'boolean') fail('multimask', 'true or false', o.multimask);
  if (typeof o.useM2m !== 'boolean') fail('useM2m', 'true or false', o.useM2m);
  const lowResSize = o.lowResSize === 'full' ? 'full' : limitedInt('lowResSize', o.lowResSize);
  if (o.mode !== 'faithful' && o.mode !== 'fast') fail('mode', '"faithful" or "fast"', o.mode);
  if (o.order !== 'reference' && o.order !== 'area') fail('order', '"reference" or "area"', o.order);
  if (o.scoreResolution !== 'full' && o.scoreResolution !== 'low') fail('scoreResolution', '"full" or "low"', o.scoreResolution);
  const resolved: EverythingOptions = {
    mode: o.mode,
    pointsPerSide: limitedInt('pointsPerSide', o.pointsPerSide),
    pointsPerBatch: int('pointsPerBatch', o.pointsPerBatch, 1),
    predIouThresh: limitedReal('predIouThresh', o.predIouThresh, 'a predicted IoU (0 disables the filter)'),
    stabilityThresh: limitedReal('stabilityThresh', o.stabilityThresh, 'a number (0 disables the filter)'),
    stabilityOffset: limitedReal('stabilityOffset', o.stabilityOffset, 'a finite number'),
    boxNmsThresh: limitedReal('boxNmsThresh', o.boxNmsThresh, 'a box IoU'),
    cropLayers: limitedInt('cropLayers', o.cropLayers),
    cropNmsThresh: limitedReal('cropNmsThresh', o.cropNmsThresh, 'a box IoU'),
    cropOverlapRatio: limitedReal('cropOverlapRatio', o.cropOverlapRatio, 'a fraction'),
    cropPointsDownscale: limitedInt('cropPointsDownscale', o.cropPointsDownscale),
    minRegionArea: limitedInt('minRegionArea', o.minRegionArea),
    minArea: area('minArea', input.minArea),
    maxArea: area('maxArea', input.maxArea),
    lowResSize,
    scoreResolution: o.scoreResolution,
    candidateMemoryMB: real('candidateMemoryMB', o.candidateMemoryMB, 0, Infinity, 'a number of megabytes >= 0'),
    order: o.order,
    multimask: o.multimask,
    useM2m: o.useM2m,
  };
  const deepest = pointsPerSideForLayer(resolved.pointsPerSide, resolved.cropLayers, resolved.cropPointsDownscale);
  if (deepest < 1) {
    throw new UsageError(
      `everything: pointsPerSide ${resolved.pointsPerSide} divided by cropPointsDownscale ${resolved.cropPointsDownscale} ` +
        `per layer leaves crop layer ${resolved.cropLayers} without grid points; use fewer crop layers or a larger grid`,
    );
  }
  const { minArea, maxArea } = resolved;
  if (minArea && maxArea && ('pixels' in minArea) === ('pixels' in maxArea)) {
    const lo = 'pixels' in minArea ? minArea.pixels : minArea.fraction;
    const hi = 'pixels' in maxArea ? maxArea.pixels : maxArea.fraction;
    if (lo > hi) throw new UsageError('everything: minArea is larger than maxArea, so no mask could pass');
  }
  return resolved;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
