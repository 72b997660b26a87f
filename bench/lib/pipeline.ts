/**
 * In-process measurements of one model pair: the model's own cost on bare onnxruntime
 * sessions, and samlite's library calls around it (segment, everything, embedding caches).
 *
 * The bare-session timings run exactly the tensors samlite fed: a run observer captures
 * the feeds of a real `segment` call and of a one-point `everything` call, and the same
 * feeds then go to fresh sessions opened with samlite's session options. So "model time"
 * and "samlite time" differ only by what samlite does around the model.
 */
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { DiskEmbeddingCache, loadImage, Segmenter, writeEverythingOutputs, writeSegmentOutputs, type EverythingResult, type RgbImage } from '../../src/index.js';
import { chooseModel } from '../../src/store/index.js';
import type { BenchImage } from './images.js';
import { median, note, round1, round2, round3, timeOnce, timeRuns, type Timed } from './util.js';

/** Session options samlite uses for every model (families/session.ts). */
export const SAMLITE_SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  enableCpuMemArena: true,
  executionMode: 'sequential',
};

type Feeds = Record<string, ort.Tensor>;

/** Time spent inside onnxruntime `session.run` calls of this process (see installOrtClock). */
export const ortClock = { ms: 0, runs: 0, installed: false };

/**
 * Wraps `InferenceSession.prototype.run` so every run in this process adds its wall time
 * to {@link ortClock}. samlite's library default runs sessions on the calling thread, so
 * the time a pipeline call spent in the model can be read from the same run that measured
 * the call: the ratio then does not depend on how the machine's load drifted between two
 * separate measurements. (With `inference: 'worker'` runs happen in another thread and are
 * not seen; the bench uses the library default.)
 */
export function installOrtClock(): void {
  if (ortClock.installed) return;
  // The typings describe a factory; at run time InferenceSession is a class with run() on its prototype.
  const proto = (ort.InferenceSession as unknown as { prototype: { run: (...args: unknown[]) => Promise<unknown> } }).prototype;
  const original = proto.run;
  proto.run = async function (this: unknown, ...args: unknown[]) {
    const t = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      ortClock.ms += performance.now() - t;
      ortClock.runs++;
    }
  };
  ortClock.installed = true;
}

/** Runs `f` and returns its wall time and the time its onnxruntime runs took. */
export async function withModelTime<T>(f: () => Promise<T>): Promise<{ value: T; totalMs: number; modelMs: number; runs: number }> {
  const ms0 = ortClock.ms;
  const runs0 = ortClock.runs;
  const t = performance.now();
  const value = await f();
  return { value, totalMs: performance.now() - t, modelMs: ortClock.ms - ms0, runs: ortClock.runs - runs0 };
}

/** Repetition counts (the defaults keep the whole bench near 10 minutes on 2 cores). */
export interface Repeats {
  readonly encoder: number;
  readonly decoder: number;
  readonly segment: number;
  readonly cachePairs: number;
}

/** The model's own cost, on bare sessions. */
export interface ModelCost {
  /** Session creation for both files (what a CLI run pays on top). */
  readonly loadMs: number;
  readonly encoder: Timed;
  /** One click, masks rendered at the photo's size (what `segment` asks for). */
  readonly decoderFull: Timed;
  /** One click, masks rendered at everything's low-res size. */
  readonly decoderRender: Timed & { readonly size: string };
}

/** A library-call measurement with the time of each step. */
export interface StepTimed extends Timed {
  /** Median ms of each step. */
  readonly steps: Readonly<Record<string, number>>;
}

/**
 * A pipeline call against the model time of the same call: the time its onnxruntime
 * runs took (see installOrtClock). Immune to load drift between measurements.
 */
export interface SameRun {
  /** Median ms inside session.run per call. */
  readonly modelMs: number;
  /** Median of total / model per call. */
  readonly ratio: number;
  /** samlite's own ms per call (total - model), median. */
  readonly overheadMs: number;
}

/** One `everything` run. */
export interface EverythingRun {
  readonly grid: number;
  readonly totalMs: number;
  readonly load: readonly number[];
  /** encoder + grid² x decoderRender (bare sessions, sampled before and after the run; 0 without). */
  readonly modelMs: number;
  readonly model: { readonly encoderMs: number; readonly decoderRenderMs: number };
  /** totalMs / modelMs (NaN when no bare model was given). */
  readonly ratio: number;
  /** Against the run's own time inside onnxruntime (see installOrtClock). */
  readonly sameRun: SameRun & { readonly sessionRuns: number };
  readonly steps: Readonly<Record<string, number>>;
  readonly timings: Readonly<Record<string, number>>;
  readonly counts: Readonly<Record<string, number>>;
  readonly decoderRuns: number;
  readonly records: number;
}

/** A cache measurement: a cold segment() and a second prompt served from the cache. */
export interface CacheResult {
  readonly note: string;
  readonly coldMs: number;
  readonly warmMs: number;
  readonly fraction: number;
  /** Of the warm call, the time inside onnxruntime (the decoder run). */
  readonly warmModelMs: number;
  readonly load: readonly number[];
}

/** Everything measured in-process for one pair. */
export interface FamilyInProcess {
  readonly model: ModelCost;
  /** `modelMs`/`ratio`: against bare runs interleaved with the calls; `sameRun`: against the calls' own session time. */
  readonly segment: StepTimed & { readonly modelMs: number; readonly ratio: number; readonly sameRun: SameRun };
  readonly memoryCache: CacheResult;
  readonly diskCache: CacheResult;
  readonly everything: EverythingRun[];
}

/** The model as samlite's store resolves it (manifest path or catalog name). */
export function resolveBenchModel(spec: string) {
  return chooseModel(spec).model;
}

/** A copy of `image` with one pixel changed, so the embedding cache sees a new image. */
function variant(image: RgbImage, k: number): RgbImage {
  const data = new Uint8Array(image.data);
  data[0] = (data[0] + 1 + k) % 256;
  return { ...image, data };
}

/** Captures the feeds samlite gives the encoder and the decoder (at the photo's size and at everything's render size). */
async function captureFeeds(spec: string, photo: RgbImage, point: { x: number; y: number }) {
  let encoder: Feeds | undefined;
  let decoder: Feeds | undefined;
  const observer = (role: string, feeds: Readonly<Feeds>) => {
    if (role === 'encoder') encoder = { ...feeds };
    else decoder = { ...feeds };
  };
  const seg = await Segmenter.open(resolveBenchModel(spec), { observer, embeddingCache: false });
  try {
    // The decoder at the photo's size, as the reference pipeline runs it (segment itself
    // renders a large photo at the decoder's own grid and upsamples).
    await seg.adapter.decode(await seg.embed(photo), { points: [point] });
    const full = decoder;
    await seg.everything(photo, { pointsPerSide: 1 });
    const render = decoder;
    if (!encoder || !full || !render || full === render) throw new Error('the run observer saw no encoder/decoder feeds; cannot time bare sessions');
    return { encoder, full, render };
  } finally {
    await seg.close();
  }
}

function renderSizeOf(feeds: Feeds): string {
  const size = feeds.orig_im_size;
  const [h, w] = Array.from(size.data as ArrayLike<number | bigint>, Number);
  return `${w}x${h}`;
}

/**
 * Bare onnxruntime sessions of a pair, fed the tensors samlite fed. Kept open while the
 * pipeline is measured, so bare and pipeline runs can alternate: on a shared machine the
 * load drifts by the minute, and a ratio of runs minutes apart would measure the drift.
 */
class BareModel {
  private constructor(
    private readonly encoder: ort.InferenceSession,
    private readonly decoder: ort.InferenceSession,
    private readonly feeds: Awaited<ReturnType<typeof captureFeeds>>,
    /** Session creation for both files, ms. */
    readonly loadMs: number,
  ) {}

  static async open(spec: string, feeds: Awaited<ReturnType<typeof captureFeeds>>): Promise<BareModel> {
    const model = resolveBenchModel(spec);
    const t = performance.now();
    const encoder = await ort.InferenceSession.create(model.files.encoder!, SAMLITE_SESSION_OPTIONS);
    const decoder = await ort.InferenceSession.create(model.files.decoder!, SAMLITE_SESSION_OPTIONS);
    return new BareModel(encoder, decoder, feeds, round1(performance.now() - t));
  }

  /** Size everything renders candidates at, as `WxH`. */
  get renderSize(): string {
    return renderSizeOf(this.feeds.render);
  }

  private async timed(session: ort.InferenceSession, feeds: Feeds): Promise<number> {
    const t = performance.now();
    await session.run(feeds);
    return performance.now() - t;
  }

  encode(): Promise<number> {
    return this.timed(this.encoder, this.feeds.encoder);
  }

  decodeFull(): Promise<number> {
    return this.timed(this.decoder, this.feeds.full);
  }

  decodeRender(): Promise<number> {
    return this.timed(this.decoder, this.feeds.render);
  }

  /** Median of `n` render-size decoder runs. */
  async decodeRenderMedian(n: number): Promise<number> {
    const runs: number[] = [];
    for (let i = 0; i < n; i++) runs.push(await this.decodeRender());
    return median(runs);
  }

  async release(): Promise<void> {
    await this.encoder.release();
    await this.decoder.release();
  }
}

/** The model's own cost on bare sessions, fed what samlite feeds. */
async function modelCost(bare: BareModel, repeats: Repeats): Promise<ModelCost> {
  const enc = await timeRuns(repeats.encoder, 1, () => bare.encode());
  const full = await timeRuns(Math.max(3, repeats.decoder >> 1), 1, () => bare.decodeFull());
  const render = await timeRuns(repeats.decoder, 2, () => bare.decodeRender());
  return { loadMs: bare.loadMs, encoder: enc, decoderFull: full, decoderRender: { ...render, size: bare.renderSize } };
}

/**
 * segment, in-process, end to end: load the image file, embed (no cache), decode one click,
 * write the mask PNG. Sessions are loaded beforehand (a warm-up call), so this is what a
 * long-running process pays per image. Each run is paired with a bare encoder + decoder
 * run just before it; the ratio is the median of the per-pair ratios.
 */
async function segmentInProcess(spec: string, photo: BenchImage, out: string, repeats: Repeats, bare: BareModel) {
  const seg = await Segmenter.open(resolveBenchModel(spec), { embeddingCache: false });
  const steps: Record<string, number[]> = { loadImage: [], segment: [], write: [] };
  const bareMs: number[] = [];
  const ratios: number[] = [];
  const same = { modelMs: [] as number[], ratio: [] as number[], overhead: [] as number[] };
  const totals: number[] = [];
  const prompt = { points: [photo.point] };
  try {
    const load0 = loadavg()[0];
    // The first round warms the pipeline's own allocations and is not counted.
    for (let i = -1; i < repeats.segment; i++) {
      const model = (await bare.encode()) + (await bare.decodeFull());
      const t: number[] = [];
      const call = await withModelTime(async () => {
        t.push(performance.now());
        const image = await loadImage(photo.path);
        t.push(performance.now());
        const result = await seg.segment(image, prompt);
        t.push(performance.now());
        await writeSegmentOutputs(image, { promptIndex: 0, prompt, mask: result.best.mask, predictedIou: result.best.predictedIou }, { input: photo.path, outDir: out }, ['mask'], { overwrite: true });
        t.push(performance.now());
      });
      if (i < 0) continue;
      totals.push(call.totalMs);
      steps.loadImage.push(t[1] - t[0]);
      steps.segment.push(t[2] - t[1]);
      steps.write.push(t[3] - t[2]);
      bareMs.push(model);
      ratios.push(call.totalMs / model);
      same.modelMs.push(call.modelMs);
      same.ratio.push(call.totalMs / call.modelMs);
      same.overhead.push(call.totalMs - call.modelMs);
    }
    return {
      runsMs: totals.map(round1),
      medianMs: round1(median(totals)),
      minMs: round1(Math.min(...totals)),
      load: [round2(load0), round2(loadavg()[0])] as const,
      steps: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, round1(median(v))])),
      modelMs: round1(median(bareMs)),
      ratio: round2(median(ratios)),
      sameRun: { modelMs: round1(median(same.modelMs)), ratio: round2(median(same.ratio)), overheadMs: round1(median(same.overhead)) },
    };
  } finally {
    await seg.close();
  }
}

/** Second prompt on the same image through the in-memory cache, against a cold first prompt. */
async function memoryCache(spec: string, photo: RgbImage, warm: RgbImage, p: BenchImage, repeats: Repeats): Promise<CacheResult> {
  const seg = await Segmenter.open(resolveBenchModel(spec));
  try {
    await seg.segment(warm, { points: [{ x: 10, y: 10 }] }); // loads the encoder session
    const cold: number[] = [];
    const hot: number[] = [];
    const hotModel: number[] = [];
    const load0 = loadavg()[0];
    for (let k = 0; k < repeats.cachePairs; k++) {
      const image = variant(photo, k);
      cold.push((await withModelTime(() => seg.segment(image, { points: [p.point] }))).totalMs);
      const warmCall = await withModelTime(() => seg.segment(image, { points: [p.point2] }));
      hot.push(warmCall.totalMs);
      hotModel.push(warmCall.modelMs);
    }
    const coldMs = median(cold);
    const warmMs = median(hot);
    return {
      note: 'Segmenter.segment() with the default in-memory cache: a new image, then a second click on it',
      coldMs: round1(coldMs),
      warmMs: round1(warmMs),
      fraction: round3(warmMs / coldMs),
      warmModelMs: round1(median(hotModel)),
      load: [round2(load0), round2(loadavg()[0])],
    };
  } finally {
    await seg.close();
  }
}

/**
 * Second prompt served from the on-disk cache by a fresh Segmenter (as a second CLI run
 * would be), against a cold first prompt.
 */
async function diskCache(spec: string, photo: RgbImage, warm: RgbImage, p: BenchImage, dir: string): Promise<CacheResult> {
  const model = resolveBenchModel(spec);
  const first = await Segmenter.open(model, { embeddingCache: new DiskEmbeddingCache(dir) });
  let coldMs: number;
  const load0 = loadavg()[0];
  try {
    await first.segment(warm, { points: [{ x: 10, y: 10 }] });
    const image = variant(photo, 99);
    coldMs = (await timeOnce(() => first.segment(image, { points: [p.point] }))).ms;
  } finally {
    await first.close();
  }
  const second = await Segmenter.open(model, { embeddingCache: new DiskEmbeddingCache(dir) });
  try {
    await second.segment(warm, { points: [{ x: 12, y: 12 }] }); // decoder warm-up; the warm-up image is a disk hit too
    const image = variant(photo, 99);
    const warmCall = await withModelTime(() => second.segment(image, { points: [p.point2] }));
    const warmMs = warmCall.totalMs;
    return {
      note: 'DiskEmbeddingCache: a cold segment() in one Segmenter, then a second click on the same image in a new Segmenter (embedding read from disk)',
      coldMs: round1(coldMs),
      warmMs: round1(warmMs),
      fraction: round3(warmMs / coldMs),
      warmModelMs: round1(warmCall.modelMs),
      load: [round2(load0), round2(loadavg()[0])],
    };
  } finally {
    await second.close();
  }
}

/**
 * `everything` in-process, end to end, once per grid: load the image, generate, write the
 * SA-1B JSON. One Segmenter for all grids, its sessions loaded by a warm-up on a small
 * image. With `bare`, ten bare decoder runs right before and after each run give the
 * decoder's cost at that moment; the encoder's comes from `encoderMs`.
 */
export async function everythingInProcess(
  spec: string,
  photo: BenchImage,
  warmup: BenchImage,
  grids: readonly number[],
  out: string,
  bare?: { readonly model: BareModel; readonly encoderMs: number },
): Promise<EverythingRun[]> {
  const seg = await Segmenter.open(resolveBenchModel(spec), { embeddingCache: false });
  const runs: EverythingRun[] = [];
  try {
    await seg.everything(await loadImage(warmup.path), { pointsPerSide: 1 });
    for (const grid of grids) {
      const before = bare ? await bare.model.decodeRenderMedian(10) : 0;
      let result: EverythingResult | undefined;
      const steps: Record<string, number> = {};
      const load0 = loadavg()[0];
      const run = await withModelTime(async () => {
        let t = performance.now();
        const image = await loadImage(photo.path);
        steps.loadImage = round1(performance.now() - t);
        t = performance.now();
        result = (await seg.everything(image, { pointsPerSide: grid })) as EverythingResult;
        steps.everything = round1(performance.now() - t);
        t = performance.now();
        await writeEverythingOutputs(image, result.records, { input: photo.path, outDir: out }, ['json'], { overwrite: true });
        steps.writeJson = round1(performance.now() - t);
      });
      const after = bare ? await bare.model.decodeRenderMedian(10) : 0;
      const stats = result!.stats;
      const decoderMs = (before + after) / 2;
      const modelMs = (bare?.encoderMs ?? 0) + grid * grid * decoderMs;
      runs.push({
        grid,
        totalMs: round1(run.totalMs),
        load: [round2(load0), round2(loadavg()[0])],
        modelMs: round1(modelMs),
        model: { encoderMs: round1(bare?.encoderMs ?? 0), decoderRenderMs: round1(decoderMs) },
        ratio: bare ? round2(run.totalMs / modelMs) : NaN,
        sameRun: { modelMs: round1(run.modelMs), ratio: round2(run.totalMs / run.modelMs), overheadMs: round1(run.totalMs - run.modelMs), sessionRuns: run.runs },
        steps,
        timings: Object.fromEntries(Object.entries(stats.timings).map(([k, v]) => [k, round1(v)])),
        counts: { ...stats.counts },
        decoderRuns: stats.decoderRuns,
        records: result!.records.length,
      });
    }
    return runs;
  } finally {
    await seg.close();
  }
}

/** Every in-process measurement of one pair. */
export async function measureInProcess(spec: string, label: string, photo: BenchImage, warmup: BenchImage, tmp: string, repeats: Repeats, grids: readonly number[]): Promise<FamilyInProcess> {
  const out = join(tmp, `out-${label}`);
  mkdirSync(out, { recursive: true });
  const image = await loadImage(photo.path);
  const warm = await loadImage(warmup.path);
  note(`${label}: capturing samlite's feeds`);
  const feeds = await captureFeeds(spec, image, photo.point);
  note(`${label}: bare onnxruntime sessions`);
  const bare = await BareModel.open(spec, feeds);
  try {
    const model = await modelCost(bare, repeats);
    note(`${label}: encoder ${model.encoder.medianMs} ms, decoder ${model.decoderFull.medianMs} ms (full) / ${model.decoderRender.medianMs} ms (${model.decoderRender.size})`);
    note(`${label}: segment in-process`);
    const segment = await segmentInProcess(spec, photo, out, repeats, bare);
    note(`${label}: embedding caches`);
    const memory = await memoryCache(spec, image, warm, photo, repeats);
    const disk = await diskCache(spec, image, warm, photo, join(tmp, `embeddings-${label}`));
    note(`${label}: everything ${grids.map((g) => `${g}x${g}`).join(', ')}`);
    const everything = await everythingInProcess(spec, photo, warmup, grids, out, { model: bare, encoderMs: model.encoder.medianMs });
    return { model, segment, memoryCache: memory, diskCache: disk, everything };
  } finally {
    await bare.release();
  }
}

/**
 * The model's cost alone (bare sessions fed what samlite feeds, encoder and decoder), for
 * models timed without the rest of the pipeline (`--real-graphs`).
 */
export async function measureModelCost(spec: string, photo: BenchImage, repeats: Repeats): Promise<ModelCost> {
  const feeds = await captureFeeds(spec, await loadImage(photo.path), photo.point);
  const bare = await BareModel.open(spec, feeds);
  try {
    return await modelCost(bare, repeats);
  } finally {
    await bare.release();
  }
}

/**
 * What writing `segment`'s mask PNG costs for a real mask: the built-in model `spec`'s mask
 * for the same click on the same photo, written `reps` times (median ms). The benchmark
 * models' masks are noise, which zlib compresses several times slower than an object's
 * mask; the rest of a segment call does not depend on what the mask contains.
 */
export async function realMaskWriteMs(spec: string, photo: BenchImage, out: string, reps: number): Promise<number> {
  const seg = await Segmenter.open(resolveBenchModel(spec), { embeddingCache: false });
  try {
    const image = await loadImage(photo.path);
    const prompt = { points: [photo.point] };
    const result = await seg.segment(image, prompt);
    const mask = { promptIndex: 0, prompt, mask: result.best.mask, predictedIou: result.best.predictedIou };
    const runs: number[] = [];
    for (let i = -1; i < reps; i++) {
      const t = performance.now();
      await writeSegmentOutputs(image, mask, { input: photo.path, outDir: out }, ['mask'], { overwrite: true });
      if (i >= 0) runs.push(performance.now() - t);
    }
    return round1(median(runs));
  } finally {
    await seg.close();
  }
}
