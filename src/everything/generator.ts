/**
 * Segment everything: the reference automatic mask generator (amg.py) over a FamilyAdapter,
 * built to keep memory bounded on large photos and large grids.
 *
 * Per crop: encode the crop, decode every grid point as one positive prompt with the
 * decoder rendering logits at a small size, and pass every candidate mask through the
 * reference's filters in order (predicted IoU, stability, crop edge), keeping only scalars,
 * a box and a quantised window of low-resolution logits. Box NMS runs on those boxes. Only
 * the final survivors are upsampled to full resolution, one at a time, straight to RLE;
 * small-region clean-up and the area filters then work on the RLEs.
 */
import { InputError, UsageError } from '../util/errors.js';
import type { DecodedMasks, FamilyAdapter, ImageEmbedding, Size } from '../families/types.js';
import type { RgbImage } from '../image/types.js';
import type { MaskRecord } from '../masks/record.js';
import type { MaskLogits } from '../masks/types.js';
import { upsampleLogitWindow, upsampledMaskStats, windowMaskToRle } from '../masks/resize.js';
import type { Rle } from '../masks/rle.js';
import { boundsAbove, boxArea, scaleInclusiveBox, type Xyxy, xyxyToXywh } from './boxes.js';
import { type CropBox, cropRgb, generateCropBoxes, isBoxNearCropEdge, uncropBox, uncropPoint } from './crops.js';
import { fastSchedule } from './fast-schedule.js';
import { fullGridSchedule, type AcceptedCandidate } from './schedule.js';
import { finishRecords } from './finish.js';
import { buildAllLayerPointGrids, scaleGrid } from './grid.js';
import { type LowResLogits, lowResBytes, storeLowRes } from './lowres.js';
import { MaskData } from './mask-data.js';
import { nms } from './nms.js';
import { type EverythingOptions, type EverythingOptionsInput, everythingDefaults, resolveEverythingOptions } from './options.js';
import { stabilityScore } from './stability.js';

/** Decoder runs done so far out of all planned (grid points over every crop). */
export interface EverythingProgress {
  readonly done: number;
  readonly total: number;
}

/** Options of one run: the algorithm's options plus cancellation and progress. */
export interface GenerateMasksOptions extends EverythingOptionsInput {
  /** Checked before every encoder and decoder run; an abort rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Called after every batch of decoder runs. */
  readonly onProgress?: (p: EverythingProgress) => void;
}

/** How many candidates each stage let through (summed over crops). */
export interface EverythingCounts {
  /** Candidate masks the decoder returned (grid points x candidates per point). */
  candidates: number;
  afterPredIou: number;
  afterStability: number;
  afterCropEdge: number;
  /** After box NMS inside each crop. */
  afterBoxNms: number;
  /** After NMS across crops (equal to afterBoxNms without crop layers). */
  afterCropNms: number;
  /** After small-region clean-up and its NMS (equal to afterCropNms when it is off). */
  afterRegionCleanup: number;
  /** After min/max area: the number of records. */
  afterArea: number;
}

/** Wall-clock milliseconds per stage. */
export interface EverythingTimings {
  encodeMs: number;
  decodeMs: number;
  /** Stability, boxes and storing candidates. */
  filterMs: number;
  nmsMs: number;
  /** Upsampling survivors to full resolution and encoding them as RLE. */
  renderMs: number;
  /** Small-region clean-up and the area filters. */
  cleanupMs: number;
  totalMs: number;
}

/** What a run did, for logs, benchmarks and tests. */
export interface EverythingStats {
  readonly options: EverythingOptions;
  readonly imageSize: Size;
  readonly crops: number;
  /** Grid points over all crops. */
  readonly points: number;
  /** Decoder runs, including `redecodes`. */
  decoderRuns: number;
  /** Runs repeated for NMS survivors whose logits did not fit the candidate memory budget. */
  redecodes: number;
  /** Grid points the schedule chose not to decode (fast mode; 0 in faithful mode). */
  skippedPoints: number;
  /** Sizes the decoder was asked to render at, one per crop. */
  readonly renderSizes: Size[];
  /** Most bytes of low-resolution logits held at once. */
  peakLogitBytes: number;
  readonly counts: EverythingCounts;
  readonly timings: EverythingTimings;
}

/** The masks, in the order `options.order` asks for, and the run's statistics. */
export interface EverythingResult {
  readonly records: MaskRecord[];
  readonly stats: EverythingStats;
}

/** One candidate as it moves through the stages (a MaskData row). */
interface Candidate {
  predIou: number;
  stability: number;
  /** Inclusive mask box in pixels: of the crop while in its crop, of the image afterwards. */
  box: Xyxy;
  /** The grid point, in the same frame as `box`. */
  point: [number, number];
  crop: number;
  pointIndex: number;
  /** Which of the decoder's masks for that point. */
  maskIndex: number;
  /** Low-resolution logits; null when the memory budget was full (decoded again if it survives NMS). */
  logits: LowResLogits | null;
  /** The full-resolution mask once rendered. */
  rle: Rle | null;
}

/** One of a grid point's candidate masks as the filters see it. */
interface PointMask {
  /** Which of the decoder's masks for the point. */
  readonly index: number;
  readonly iou: number;
  /** Logits at the render size. */
  readonly logits: Float32Array;
}

const CANDIDATE_KEYS: readonly (keyof Candidate)[] = [
  'predIou',
  'stability',
  'box',
  'point',
  'crop',
  'pointIndex',
  'maskIndex',
  'logits',
  'rle',
];

/** Logits are binarised at > 0, the models' mask_threshold. */
const MASK_THRESHOLD = 0;

/**
 * Size the decoder renders a `width` x `height` frame's candidates at: longest side
 * `lowResSize` with the frame's aspect ratio, never larger than the frame itself.
 */
export function renderSizeFor(width: number, height: number, lowResSize: number | 'full'): Size {
  const longest = Math.max(width, height);
  if (lowResSize === 'full' || longest <= lowResSize) return { width, height };
  const s = lowResSize / longest;
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

class Run {
  readonly o: EverythingOptions;
  readonly stats: EverythingStats;
  readonly crops: CropBox[];
  readonly grids: Float64Array[];
  private heldBytes = 0;
  private done = 0;

  constructor(
    readonly adapter: FamilyAdapter,
    readonly image: RgbImage,
    readonly options: GenerateMasksOptions,
  ) {
    const { signal: _s, onProgress: _p, ...algorithm } = options;
    this.o = resolveEverythingOptions(algorithm, everythingDefaults(adapter.family));
    if (this.o.useM2m && !adapter.acceptsMaskInput) {
      throw new UsageError(`everything: useM2m refines each mask with its own low-resolution logits, which ${adapter.modelName}'s decoder cannot take (SAM 2 models can)`);
    }
    this.crops = generateCropBoxes(image.width, image.height, this.o.cropLayers, this.o.cropOverlapRatio);
    this.grids = buildAllLayerPointGrids(this.o.pointsPerSide, this.o.cropLayers, this.o.cropPointsDownscale);
    const points = this.crops.reduce((n, c) => n + this.grids[c.layer].length / 2, 0);
    this.stats = {
      options: this.o,
      imageSize: { width: image.width, height: image.height },
      crops: this.crops.length,
      points,
      decoderRuns: 0,
      redecodes: 0,
      skippedPoints: 0,
      renderSizes: [],
      peakLogitBytes: 0,
      counts: {
        candidates: 0,
        afterPredIou: 0,
        afterStability: 0,
        afterCropEdge: 0,
        afterBoxNms: 0,
        afterCropNms: 0,
        afterRegionCleanup: 0,
        afterArea: 0,
      },
      timings: { encodeMs: 0, decodeMs: 0, filterMs: 0, nmsMs: 0, renderMs: 0, cleanupMs: 0, totalMs: 0 },
    };
  }

  private abortCheck(): void {
    this.options.signal?.throwIfAborted();
  }

  private hold(bytes: number): void {
    this.heldBytes += bytes;
    if (this.heldBytes > this.stats.peakLogitBytes) this.stats.peakLogitBytes = this.heldBytes;
  }

  private progress(): void {
    this.options.onProgress?.({ done: this.done, total: this.stats.points });
  }

  private async decode(embedding: ImageEmbedding, x: number, y: number, renderSize: Size, maskInput?: MaskLogits): Promise<DecodedMasks> {
    this.abortCheck();
    const t = performance.now();
    // multimask false asks for the single-mask answer (SAM 2's multimask_output=False);
    // a refinement is always single-mask, as the reference's refine_with_m2m.
    const multimask = maskInput || !this.o.multimask ? false : undefined;
    const decoded = await this.adapter.decode(embedding, { points: [{ x, y }] }, { renderSize, multimask, maskInput });
    this.stats.timings.decodeMs += performance.now() - t;
    this.stats.decoderRuns++;
    return decoded;
  }

  /**
   * One grid point's candidates: the decoder's candidates, or its one answer without
   * multimask; under useM2m each replaced by the single-mask answer to the same point with
   * its own low-resolution logits as mask input (the reference's refine_with_m2m).
   */
  private async candidatesAt(embedding: ImageEmbedding, x: number, y: number, renderSize: Size): Promise<{ decoded: DecodedMasks; masks: PointMask[] }> {
    const decoded = await this.decode(embedding, x, y, renderSize);
    const indices = this.o.multimask ? decoded.candidates : [decoded.best];
    const masks: PointMask[] = [];
    for (const index of indices) {
      if (!this.o.useM2m) {
        masks.push({ index, iou: decoded.iou[index], logits: decoded.logits[index] });
        continue;
      }
      const refined = await this.decode(embedding, x, y, renderSize, decoded.lowRes![index]);
      masks.push({ index, iou: refined.iou[refined.best], logits: refined.logits[refined.best] });
    }
    return { decoded, masks };
  }

  /**
   * Where the decoder renders a crop's candidates: at `lowResSize` (see renderSizeFor), or
   * for SAM 2 at its decoder's own 256x256 grid when that fits in `lowResSize`: its
   * generator resizes those logits straight to the crop, so this is the reference's own
   * path at no extra cost. (EfficientSAM's grid is 256x256 too; it keeps the longest-side
   * render its everything measurements were made with.)
   */
  private renderSizeOf(crop: Size): Size {
    const render = renderSizeFor(crop.width, crop.height, this.o.lowResSize);
    const grid = this.adapter.maskGrid(crop);
    const fits = this.o.lowResSize !== 'full' && grid.width <= this.o.lowResSize && grid.height <= this.o.lowResSize;
    return fits && grid.width * grid.height < crop.width * crop.height && this.adapter.family === 'sam2' ? grid : render;
  }

  async generate(): Promise<EverythingResult> {
    const t0 = performance.now();
    if (this.image.width < 1 || this.image.height < 1) {
      throw new InputError(`everything: the image is empty (${this.image.width}x${this.image.height})`);
    }
    this.progress();
    const data = new MaskData<Candidate>(CANDIDATE_KEYS);
    for (let c = 0; c < this.crops.length; c++) data.cat(await this.processCrop(c));

    if (this.crops.length > 1) {
      // Prefer masks from smaller crops: they saw the object at a higher resolution.
      const t = performance.now();
      const scores = data.get('crop').map((c) => 1 / boxArea(this.crops[c].box));
      this.keep(data, nms(data.get('box'), scores, this.o.cropNmsThresh));
      this.stats.timings.nmsMs += performance.now() - t;
    }
    this.stats.counts.afterCropNms = data.length;

    this.render(data);
    // The clean-up's NMS runs at the larger of the two NMS thresholds. Rendering freed every
    // candidate's logits, so dropping candidates from here on releases no budget.
    const records = finishRecords(
      data,
      this.image,
      this.o,
      Math.max(this.o.boxNmsThresh, this.o.cropNmsThresh),
      (row) => ({
        predictedIou: row.predIou,
        stabilityScore: row.stability,
        pointCoords: [[row.point[0], row.point[1]]],
        cropBox: xyxyToXywh(this.crops[row.crop].box),
      }),
      this.stats,
      () => this.abortCheck(),
    );
    this.stats.timings.totalMs = performance.now() - t0;
    return { records, stats: this.stats };
  }

  /** Apply a keep-list, releasing the logits budget held by dropped candidates. */
  private keep(data: MaskData<Candidate>, keep: readonly number[]): void {
    const kept = new Uint8Array(data.length);
    for (const i of keep) kept[i] = 1;
    const logits = data.get('logits');
    for (let i = 0; i < logits.length; i++) if (!kept[i]) this.heldBytes -= lowResBytes(logits[i]);
    data.filter(keep);
  }

  private async processCrop(c: number): Promise<MaskData<Candidate>> {
    const crop = this.crops[c].box;
    const cropSize: Size = { width: crop[2] - crop[0], height: crop[3] - crop[1] };
    const imageBox: Xyxy = [0, 0, this.image.width, this.image.height];
    const renderSize = this.renderSizeOf(cropSize);
    this.stats.renderSizes.push(renderSize);

    this.abortCheck();
    let t = performance.now();
    const embedding = await this.adapter.encode(cropRgb(this.image, crop));
    this.stats.timings.encodeMs += performance.now() - t;

    const points = scaleGrid(this.grids[this.crops[c].layer], cropSize.width, cropSize.height);
    const schedule = this.o.mode === 'fast' ? fastSchedule(points, cropSize) : fullGridSchedule(points, this.o.pointsPerBatch);
    const data = new MaskData<Candidate>(CANDIDATE_KEYS);
    const budget = this.o.candidateMemoryMB * 1024 * 1024;
    const counts = this.stats.counts;

    let skipped = 0;
    for (let batch = schedule.next(); batch; batch = schedule.next()) {
      const accepted: AcceptedCandidate[] = [];
      for (const p of batch) {
        const { decoded, masks } = await this.candidatesAt(embedding, p.x, p.y, renderSize);
        this.done++;
        schedule.decoded?.(p, decoded);
        t = performance.now();
        const frame = decoded.size;
        for (const { index: m, iou: predIou, logits } of masks) {
          counts.candidates++;
          if (this.o.predIouThresh > 0 && !(predIou > this.o.predIouThresh)) continue;
          counts.afterPredIou++;
          let stability: number;
          let box: Xyxy;
          let low: Xyxy | undefined;
          if (this.o.scoreResolution === 'full') {
            const st = upsampledMaskStats(logits, frame.width, frame.height, cropSize.width, cropSize.height, MASK_THRESHOLD, this.o.stabilityOffset);
            stability = st.aboveLow === 0 ? 0 : st.aboveHigh / st.aboveLow;
            if (this.o.stabilityThresh > 0 && !(stability >= this.o.stabilityThresh)) continue;
            box = st.box ?? [0, 0, 0, 0];
            low = boundsAbove(logits, frame.width, frame.height, MASK_THRESHOLD);
          } else {
            stability = stabilityScore(logits, MASK_THRESHOLD, this.o.stabilityOffset);
            if (this.o.stabilityThresh > 0 && !(stability >= this.o.stabilityThresh)) continue;
            low = boundsAbove(logits, frame.width, frame.height, MASK_THRESHOLD);
            box = low ? scaleInclusiveBox(low, frame, cropSize) : [0, 0, 0, 0];
          }
          counts.afterStability++;
          if (isBoxNearCropEdge(box, crop, imageBox)) {
            if (schedule.accepted) {
              const mask = storeLowRes(logits, frame, low ?? [0, 0, 0, 0], !low);
              accepted.push({ box, predIou, point: [p.x, p.y], pointIndex: p.index, maskIndex: m, mask, nearCropEdge: true });
            }
            continue;
          }
          counts.afterCropEdge++;
          let stored: LowResLogits | null = null;
          const bytes = low ? (Math.min(frame.width, low[2] - low[0] + 3) * Math.min(frame.height, low[3] - low[1] + 3)) * 2 : 0;
          if (this.heldBytes + bytes <= budget) {
            stored = storeLowRes(logits, frame, low ?? [0, 0, 0, 0], !low);
            this.hold(lowResBytes(stored));
          }
          const cand: Candidate = { predIou, stability, box, point: [p.x, p.y], crop: c, pointIndex: p.index, maskIndex: m, logits: stored, rle: null };
          data.push(cand);
          if (schedule.accepted) {
            // Past the memory budget the schedule still needs the mask, briefly: this copy
            // is dropped once the batch's accepted() returns.
            const mask = stored ?? storeLowRes(logits, frame, low ?? [0, 0, 0, 0], !low);
            accepted.push({ box, predIou, point: cand.point, pointIndex: p.index, maskIndex: m, mask, nearCropEdge: false });
          }
        }
        this.stats.timings.filterMs += performance.now() - t;
      }
      schedule.accepted?.(accepted);
      const nowSkipped = schedule.skipped?.() ?? 0;
      this.done += nowSkipped - skipped;
      this.stats.skippedPoints += nowSkipped - skipped;
      skipped = nowSkipped;
      this.progress();
    }

    t = performance.now();
    this.keep(data, nms(data.get('box'), data.get('predIou'), this.o.boxNmsThresh));
    this.stats.timings.nmsMs += performance.now() - t;
    counts.afterBoxNms += data.length;

    await this.redecodeMissing(data, embedding, points, renderSize);

    data.set('box', data.get('box').map((b) => uncropBox(b, crop)));
    data.set('point', data.get('point').map((p) => uncropPoint(p, crop)));
    return data;
  }

  /**
   * NMS survivors that had to give up their logits get them back from the decoder, which
   * is deterministic; a point is decoded once however many of its masks survived.
   */
  private async redecodeMissing(data: MaskData<Candidate>, embedding: ImageEmbedding, points: Float64Array, renderSize: Size): Promise<void> {
    const logits = data.get('logits').slice();
    const byPoint = new Map<number, number[]>();
    data.get('pointIndex').forEach((p, i) => {
      if (logits[i] === null) byPoint.set(p, [...(byPoint.get(p) ?? []), i]);
    });
    if (byPoint.size === 0) return;
    const maskIndex = data.get('maskIndex');
    for (const [p, rows] of byPoint) {
      const { decoded, masks } = await this.candidatesAt(embedding, points[2 * p], points[2 * p + 1], renderSize);
      this.stats.redecodes++;
      for (const i of rows) {
        const l = masks.find((m) => m.index === maskIndex[i])!.logits;
        const low = boundsAbove(l, decoded.size.width, decoded.size.height, MASK_THRESHOLD);
        logits[i] = storeLowRes(l, decoded.size, low ?? [0, 0, 0, 0], !low);
        this.hold(lowResBytes(logits[i]));
      }
    }
    data.set('logits', logits);
  }

  /** Full-resolution masks for the survivors, one at a time, each freeing its logits. */
  private render(data: MaskData<Candidate>): void {
    const t = performance.now();
    const logits = data.get('logits').slice();
    const crops = data.get('crop');
    const rles: Rle[] = [];
    for (let i = 0; i < data.length; i++) {
      this.abortCheck();
      const l = logits[i];
      if (!l) throw new Error('everything: a surviving candidate has no logits to render');
      const crop = this.crops[crops[i]].box;
      const window = upsampleLogitWindow(l, crop[2] - crop[0], crop[3] - crop[1]);
      rles.push(windowMaskToRle(window, this.image.width, this.image.height, crop[0], crop[1]));
      this.heldBytes -= lowResBytes(l);
      logits[i] = null;
    }
    data.set('logits', logits);
    data.set('rle', rles);
    this.stats.timings.renderMs += performance.now() - t;
  }
}

/**
 * Every mask in `image`, by the reference automatic mask generator (see
 * docs/everything-algorithm.md for the algorithm, the options and where samlite
 * differs). Records come in the reference's order unless `order: 'area'` is given.
 * Throws a UsageError for invalid options before any model run.
 */
export function generateMasks(adapter: FamilyAdapter, image: RgbImage, options: GenerateMasksOptions = {}): Promise<EverythingResult> {
  let run: Run;
  try {
    run = new Run(adapter, image, options);
  } catch (err) {
    return Promise.reject(err);
  }
  return run.generate();
}
