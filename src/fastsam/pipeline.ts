/**
 * The FastSAM pipeline behind the Segmenter: letterbox, one run, the kept detections and
 * prototypes (the per-image analysis, cached for `segment` like an embedding), then masks
 * selected by prompts or all of them for segment-everything.
 */
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { InputError, UsageError } from '../util/errors.js';
import { openFastSamModel, type FastSamModel } from '../families/fastsam.js';
import type { Size } from '../families/types.js';
import type { RgbImage } from '../image/types.js';
import { modelFile, type FamilyPipeline, type ModelToOpen, type PipelineOptions } from '../segmenter/pipeline.js';
import { FASTSAM_ANALYSIS, analysisOf, packAnalysis, unpackAnalysis, type FastSamAnalysis } from './analysis.js';
import { keepDetections } from './detections.js';
import { everythingRecords, resolveFastSamEverythingOptions, type FastSamCounts, type FastSamEverythingResult, type FastSamTimings } from './everything.js';
import { letterboxGeometry, letterboxPlanes } from './letterbox.js';
import { DetectionMasks } from './masks.js';
import { sharedRenderPool } from './render-pool.js';
import { selectMasks } from './select.js';
import { DEFAULT_IMGSZ, resolveFastSamSettings, type FastSamSettings } from './settings.js';

/**
 * The frame a model's input is letterboxed into: the file's own size when it fixes one
 * (asking for another is a UsageError), else a square of the caller's imgsz, the
 * manifest's, or DEFAULT_IMGSZ.
 */
function frameFor(net: Pick<FastSamModel, 'fixedInput' | 'path'>, asked: number | undefined, manifest: number | undefined, model: string): Size {
  const fixed = net.fixedInput;
  if (fixed) {
    for (const [value, where] of [
      [asked, 'imgsz'],
      [manifest, 'the manifest imgsz'],
    ] as const) {
      if (value !== undefined && (value !== fixed.width || value !== fixed.height)) {
        throw new UsageError(`model ${model}: ${basename(net.path)} fixes its input at ${fixed.width}x${fixed.height}, so ${where} ${value} cannot apply`);
      }
    }
    return fixed;
  }
  const side = asked ?? manifest ?? DEFAULT_IMGSZ;
  return { width: side, height: side };
}

/** Open a FastSAM model file and check it against the contracts (a UsageError for bad settings comes first). */
export async function openFastSamPipeline(model: ModelToOpen, options: PipelineOptions = {}): Promise<FamilyPipeline> {
  const asked = resolveFastSamSettings(options.fastsam);
  const path = modelFile(model, 'model');
  // Before opening, so a failing stat leaves no session (or worker thread) behind.
  const info = await stat(path);
  const net = await openFastSamModel(path, options);
  let frame: Size;
  try {
    frame = frameFor(net, asked.imgsz, model.imgsz, model.name);
  } catch (err) {
    await net.release();
    throw err;
  }
  // A dynamic export gets the minimum rectangle, as ultralytics' predictor feeds it.
  const rect = net.minimumRectangle;
  const settings: FastSamSettings = { ...asked, imgsz: frame.width === frame.height ? frame.width : undefined };
  // The analysis depends on how samlite computes it, the file, the input frame and the
  // detection settings.
  const cacheIdentity = `fastsam:r${FASTSAM_ANALYSIS.revision}:${path}:${info.size}:${info.mtimeMs}:${frame.width}x${frame.height}${rect ? ':rect' : ''}:${settings.conf}:${settings.iou}:${settings.maxDet}`;

  // One input buffer for the frame, made on first use and reused image after image: a fresh
  // 12 MB buffer costs its page faults in every letterbox (on the 2-core VM the letterbox of
  // a batch's images took 45 ms each, 23 ms with the buffer kept). Touching it at open
  // instead gained nothing for a single photo: it slows the decode running beside the open.
  // Each image gets a new view, so an inference worker never takes it for an input it
  // already holds. Two images in flight at once: the second takes a buffer of its own.
  let spareInput: ArrayBuffer | undefined;

  const analyse = async (image: RgbImage, counts?: FastSamCounts, timings?: FastSamTimings): Promise<{ analysis: FastSamAnalysis; input: Size }> => {
    const t = performance.now();
    const box = letterboxGeometry(image, frame, rect);
    const buffer = spareInput ?? new ArrayBuffer(12 * frame.width * frame.height);
    spareInput = undefined;
    let t1: number;
    let raw: Awaited<ReturnType<FastSamModel['detect']>>;
    try {
      const planes = letterboxPlanes(image, box, buffer);
      t1 = performance.now();
      raw = await net.detect(planes, box.input, settings.conf);
    } finally {
      spareInput ??= buffer;
    }
    const t2 = performance.now();
    const kept = keepDetections(raw, settings);
    const analysis = analysisOf(kept, raw, box);
    if (counts) {
      counts.aboveConf = raw.scores.length;
      counts.kept = kept.scores.length;
    }
    if (timings) {
      timings.preprocessMs += t1 - t;
      timings.modelMs += t2 - t1;
      timings.detectMs += performance.now() - t2;
    }
    return { analysis, input: box.input };
  };

  // Threads besides the caller's that render everything's masks (the process's shared
  // pool): one per core left, or per thread of `threads` when it is set (1: the caller alone).
  const renderPool = sharedRenderPool();
  const renderWorkers = Math.max(0, (options.threads ?? availableParallelism()) - 1);

  return {
    family: 'fastsam',
    modelName: model.name,
    scoreName: 'detection score',
    cacheIdentity,
    adapter: undefined,
    checkPrompt(prompt) {
      if ((prompt.points?.length ?? 0) === 0 && (prompt.negPoints?.length ?? 0) === 0 && !prompt.box) {
        throw new InputError(`${model.name} (fastsam) needs a point or a box`);
      }
    },
    analyse: async (image) => packAnalysis((await analyse(image)).analysis, cacheIdentity),
    async answer(packed, image, prompt, options) {
      const analysis = unpackAnalysis(packed);
      if (analysis.image.width !== image.width || analysis.image.height !== image.height) {
        throw new Error(`FastSAM analysis of a ${analysis.image.width}x${analysis.image.height} image used for a ${image.width}x${image.height} one`);
      }
      return selectMasks(new DetectionMasks(analysis), prompt, options.multimask ?? false);
    },
    async everything(image, request = {}): Promise<FastSamEverythingResult> {
      const options = resolveFastSamEverythingOptions(request);
      const t0 = performance.now();
      const counts: FastSamCounts = { aboveConf: 0, kept: 0, masks: 0, afterRegionCleanup: 0, afterArea: 0 };
      const timings: FastSamTimings = { preprocessMs: 0, modelMs: 0, detectMs: 0, renderMs: 0, cleanupMs: 0, totalMs: 0 };
      request.signal?.throwIfAborted();
      renderPool.warm(image.width * image.height, renderWorkers);
      const { analysis, input } = await analyse(image, counts, timings);
      request.onProgress?.({ done: 1, total: 1 });
      const records = await everythingRecords(analysis, options, settings.iou, { counts, timings }, (a, signal) => renderPool.render(a, signal, renderWorkers), request.signal);
      timings.totalMs = performance.now() - t0;
      return {
        records,
        stats: { family: 'fastsam', settings, options, imageSize: { width: image.width, height: image.height }, inputSize: input, counts, timings },
      };
    },
    dispose: () => net.release(),
  };
}
