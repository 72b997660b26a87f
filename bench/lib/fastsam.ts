/**
 * FastSAM rows of `npm run bench`: everything with the FastSAM-s stand-in at 640 and 1024
 * against the bare onnxruntime run of the same file on the same letterboxed input, the
 * post-processing stages samlite adds (its floor), and `segment` as a selection among the
 * cached detections, per prompt.
 */
import { loadavg } from 'node:os';
import * as ort from 'onnxruntime-node';
import { letterboxGeometry, letterboxPlanes } from '../../src/fastsam/letterbox.js';
import { loadImage, MemoryEmbeddingCache, Segmenter, writeEverythingOutputs, type FastSamEverythingResult, type Prompt } from '../../src/index.js';
import type { BenchFastSamInfo } from '../../scripts/bench-models/index.js';
import type { BenchImage } from './images.js';
import { SAMLITE_SESSION_OPTIONS, resolveBenchModel, withModelTime } from './pipeline.js';
import { note, round1, round2, timeRuns, type Timed } from './util.js';

/** What one FastSAM stand-in measured. */
export interface FastSamBench {
  readonly model: string;
  readonly side: number;
  /** The file alone: an onnxruntime session with samlite's options, on the letterboxed photo. */
  readonly bare: Timed;
  readonly everything: {
    /** Library call: load the photo, everything(), write the SA-1B JSON (median run). */
    readonly totalMs: number;
    readonly load: readonly number[];
    readonly steps: Readonly<Record<string, number>>;
    /** The same call's own time inside onnxruntime. */
    readonly sameRun: { readonly modelMs: number; readonly ratio: number; readonly overheadMs: number };
    /** samlite's post-processing stages of that run: letterbox, detections, masks to RLE, clean-up. */
    readonly floorMs: number;
    readonly floorPerMaskMs: number;
    /** (total - floor) / bare run, minutes apart from this call. */
    readonly ratioToBarePlusFloor: number;
    /** (total - floor) / this call's own onnxruntime time: what the target limits to 1.10. */
    readonly ratioToOwnPlusFloor: number;
    /**
     * The same with the JSON write of real masks (the built-in FastSAM model's on the same
     * photo, per mask) in place of the stand-in's: its masks come from random prototypes,
     * whose RLE is about 20 times as long as an object's.
     */
    readonly ratioRealMasks: number;
    readonly timings: Readonly<Record<string, number>>;
    readonly counts: Readonly<Record<string, number>>;
    readonly records: number;
  };
  readonly segment: {
    /** First prompt on the photo: the model run plus the selection. */
    readonly coldMs: number;
    /** Each later prompt, answered from the cached detections (points and boxes alternate). */
    readonly perPrompt: Timed;
  };
}

/** Prompts spread over the photo: clicks and boxes alternating. */
function prompts(photo: BenchImage, n: number): Prompt[] {
  return Array.from({ length: n }, (_, i) => {
    const x = Math.round(((i % 4) + 0.5) * (photo.width / 4));
    const y = Math.round((Math.floor(i / 4) % 3 + 0.5) * (photo.height / 3));
    const w = photo.width / 5;
    const h = photo.height / 5;
    return i % 2 === 0
      ? { points: [{ x, y }] }
      : { box: { x1: Math.max(0, x - w / 2), y1: Math.max(0, y - h / 2), x2: Math.min(photo.width, x + w / 2), y2: Math.min(photo.height, y + h / 2) } };
  });
}

/** Measures one stand-in on the photo. */
/**
 * What writing the SA-1B JSON costs per mask for real masks: the built-in FastSAM model's
 * masks of the photo (median of `reps` writes, divided by their count).
 */
export async function realJsonWritePerMaskMs(photo: BenchImage, out: string, reps: number): Promise<number> {
  const image = await loadImage(photo.path);
  const seg = await Segmenter.open(resolveBenchModel('builtin-fastsam'), { embeddingCache: false });
  try {
    const { records } = await seg.everything(image);
    const write = await timeRuns(reps, 1, () => writeEverythingOutputs(image, records, { input: photo.path, outDir: out }, ['json'], { overwrite: true }));
    return write.medianMs / Math.max(1, records.length);
  } finally {
    await seg.close();
  }
}

export async function measureFastSam(info: BenchFastSamInfo, photo: BenchImage, warmup: BenchImage, out: string, reps: number, realWritePerMaskMs: number): Promise<FastSamBench> {
  const image = await loadImage(photo.path);
  note(`${info.name}: bare onnxruntime run on the letterboxed photo`);
  const session = await ort.InferenceSession.create(info.file, SAMLITE_SESSION_OPTIONS);
  const input = { width: info.spec.side, height: info.spec.side };
  const feeds = { images: new ort.Tensor('float32', letterboxPlanes(image, letterboxGeometry(image, input)), [1, 3, input.height, input.width]) };
  const bare = await timeRuns(reps, 1, () => session.run(feeds));
  await session.release();

  note(`${info.name}: everything, library (${reps} runs)`);
  const model = resolveBenchModel(info.manifest);
  const seg = await Segmenter.open(model, { embeddingCache: false });
  const runs: FastSamBench['everything'][] = [];
  try {
    await seg.everything(await loadImage(warmup.path));
    for (let i = 0; i < reps; i++) {
      const steps: Record<string, number> = {};
      let result: FastSamEverythingResult | undefined;
      const load0 = loadavg()[0];
      const run = await withModelTime(async () => {
        let t = performance.now();
        const img = await loadImage(photo.path);
        steps.loadImage = round1(performance.now() - t);
        t = performance.now();
        result = (await seg.everything(img)) as FastSamEverythingResult;
        steps.everything = round1(performance.now() - t);
        t = performance.now();
        await writeEverythingOutputs(img, result.records, { input: photo.path, outDir: out }, ['json'], { overwrite: true });
        steps.writeJson = round1(performance.now() - t);
      });
      const { timings, counts } = result!.stats;
      const floorMs = timings.preprocessMs + timings.detectMs + timings.renderMs + timings.cleanupMs;
      runs.push({
        totalMs: round1(run.totalMs),
        load: [round2(load0), round2(loadavg()[0])],
        steps,
        sameRun: { modelMs: round1(run.modelMs), ratio: round2(run.totalMs / run.modelMs), overheadMs: round1(run.totalMs - run.modelMs) },
        floorMs: round1(floorMs),
        floorPerMaskMs: round2(floorMs / Math.max(1, counts.kept)),
        ratioToBarePlusFloor: round2((run.totalMs - floorMs) / bare.medianMs),
        ratioToOwnPlusFloor: round2((run.totalMs - floorMs) / run.modelMs),
        ratioRealMasks: round2((run.totalMs - floorMs - steps.writeJson + realWritePerMaskMs * result!.records.length) / run.modelMs),
        timings: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, round1(v)])),
        counts: { ...counts },
        records: result!.records.length,
      });
    }
  } finally {
    await seg.close();
  }
  const everything = [...runs].sort((a, b) => a.totalMs - b.totalMs)[Math.floor(runs.length / 2)];

  note(`${info.name}: segment, one model run then prompts from the cached detections`);
  const cached = await Segmenter.open(model, { embeddingCache: new MemoryEmbeddingCache() });
  try {
    await cached.segment(await loadImage(warmup.path), { points: [{ x: 10, y: 10 }] });
    const list = prompts(photo, 12);
    const t = performance.now();
    await cached.segment(image, list[0]);
    const coldMs = round1(performance.now() - t);
    const perPrompt = await timeRuns(list.length - 1, 0, (i) => cached.segment(image, list[1 + Math.max(0, i)]));
    return { model: info.name, side: info.spec.side, bare, everything, segment: { coldMs, perPrompt } };
  } finally {
    await cached.close();
  }
}

/** FastSAM's everything time against a grid run's (how many times faster). */
export function speedupOver(fastsam: FastSamBench, otherMs: number | undefined): number | undefined {
  return otherMs === undefined ? undefined : round2(otherMs / fastsam.everything.totalMs);
}

