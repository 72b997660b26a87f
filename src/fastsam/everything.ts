/**
 * Segment-everything with FastSAM: every kept detection's mask, then the steps all
 * everything runs share (small-region clean-up, area filters, order). Records use the
 * SA-1B layout with FastSAM's meanings: predicted_iou is the detector's score,
 * stability_score SAM's stability measured on the prototype grid, point_coords empty (no
 * prompt made the mask), crop_box the whole image.
 */
import { UsageError } from '../util/errors.js';
import { finishRecords } from '../everything/finish.js';
import type { GenerateMasksOptions } from '../everything/generator.js';
import { MaskData } from '../everything/mask-data.js';
import { type EverythingOptions, resolveEverythingOptions } from '../everything/options.js';
import type { Size } from '../families/types.js';
import type { MaskRecord } from '../masks/record.js';
import type { Rle } from '../masks/rle.js';
import type { FastSamAnalysis } from './analysis.js';
import type { RenderedMask } from './render-share.js';
import type { FastSamSettings } from './settings.js';

/** The everything options FastSAM honours; the others belong to the grid algorithm. */
export const FASTSAM_EVERYTHING_OPTIONS = ['minRegionArea', 'minArea', 'maxArea', 'order'] as const;

/** The resolved everything options of a FastSAM run. */
export type FastSamEverythingOptions = Pick<EverythingOptions, (typeof FASTSAM_EVERYTHING_OPTIONS)[number]>;

/** How many detections or masks each stage let through. */
export interface FastSamCounts {
  /** Detections scoring above the confidence threshold. */
  aboveConf: number;
  /** After box NMS and the detection cap. */
  kept: number;
  /** Masks with at least one pixel (a mask empty inside its box is dropped). */
  masks: number;
  /** After small-region clean-up and its NMS (equal to `masks` when it is off). */
  afterRegionCleanup: number;
  /** After min/max area: the number of records. */
  afterArea: number;
}

/** Wall-clock milliseconds per stage. */
export interface FastSamTimings {
  /** Letterboxing the image into the input tensor. */
  preprocessMs: number;
  /** The onnxruntime run. */
  modelMs: number;
  /** Reading the outputs, NMS, the box rules and cutting the prototypes. */
  detectMs: number;
  /** Masks at full resolution inside their boxes, straight to RLE. */
  renderMs: number;
  /** Small-region clean-up and the area filters. */
  cleanupMs: number;
  totalMs: number;
}

/** What a FastSAM everything run did. */
export interface FastSamStats {
  readonly family: 'fastsam';
  readonly settings: FastSamSettings;
  readonly options: FastSamEverythingOptions;
  readonly imageSize: Size;
  /** The model input the image was letterboxed into. */
  readonly inputSize: Size;
  readonly counts: FastSamCounts;
  readonly timings: FastSamTimings;
}

/** The masks and what the run did. */
export interface FastSamEverythingResult {
  readonly records: MaskRecord[];
  readonly stats: FastSamStats;
}

/**
 * The options of `input` FastSAM uses, validated like the grid algorithm's; a grid option
 * that is set is a UsageError rather than silently ignored.
 */
export function resolveFastSamEverythingOptions(input: GenerateMasksOptions = {}): FastSamEverythingOptions {
  const own: readonly string[] = [...FASTSAM_EVERYTHING_OPTIONS, 'signal', 'onProgress'];
  for (const [key, value] of Object.entries(input)) {
    if (value !== undefined && !own.includes(key)) {
      throw new UsageError(`everything option ${key} does not apply to fastsam models (one forward pass finds every mask; there is no prompt grid)`);
    }
  }
  const o = resolveEverythingOptions({ minRegionArea: input.minRegionArea, minArea: input.minArea, maxArea: input.maxArea, order: input.order });
  return { minRegionArea: o.minRegionArea, minArea: o.minArea, maxArea: o.maxArea, order: o.order };
}

/** One detection on its way to a record (a MaskData row). */
interface Row {
  rle: Rle;
  score: number;
  stability: number;
}

/** Records for every detection of `analysis` (its masks made by `render`), after the shared finishing steps; fills `stats`. */
export async function everythingRecords(
  analysis: FastSamAnalysis,
  options: FastSamEverythingOptions,
  nmsThresh: number,
  stats: { counts: FastSamCounts; timings: FastSamTimings },
  render: (analysis: FastSamAnalysis, signal?: AbortSignal) => Promise<readonly RenderedMask[]>,
  signal?: AbortSignal,
): Promise<MaskRecord[]> {
  const { image } = analysis;
  const t = performance.now();
  const data = new MaskData<Row>(['rle', 'score', 'stability']);
  for (const m of await render(analysis, signal)) {
    if (m.area === 0) continue;
    data.push({ rle: m.rle, score: analysis.scores[m.i], stability: m.stability });
  }
  stats.counts.masks = data.length;
  stats.timings.renderMs += performance.now() - t;

  return finishRecords(
    data,
    image,
    options,
    nmsThresh,
    (row) => ({ predictedIou: row.score, stabilityScore: row.stability, pointCoords: [], cropBox: [0, 0, image.width, image.height] }),
    stats,
    () => signal?.throwIfAborted(),
  );
}
