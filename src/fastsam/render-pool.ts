/**
 * Render workers for FastSAM's segment-everything: an image's masks are shared between the
 * main thread and `workers` worker threads (render-share.ts), so rendering 300 masks of a
 * 12 MP photo, with their COCO strings and boxes, uses every core instead of one. The
 * workers start on first use and are unref'd while idle: they never keep the process alive.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { rememberRleFacts } from '../masks/rle.js';
import { startModuleWorker } from '../util/worker-module.js';
import { detectionCount, packAnalysis, type FastSamAnalysis } from './analysis.js';
import { DetectionMasks } from './masks.js';
import { CLOSED, NEXT, NOT_STARTED, STATES, WORKING, renderClaimed, type RenderJob, type RenderReply, type RenderedMask } from './render-share.js';

/**
 * Box pixels (summed over an image's masks) below which the masks are rendered on the
 * calling thread alone: a job's hand-over (copying the prototypes, the reply) costs a few
 * milliseconds, and small or clean masks render faster than that.
 */
export const POOL_MIN_BOX_PIXELS = 16_000_000;

/** The worker thread's module (render-worker.ts, built to .js). */
const RENDER_WORKER = new URL('./render-worker.js', import.meta.url);

/** Images of at least this many pixels start the workers before the model runs (see warm). */
export const POOL_WARM_PIXELS = 1_000_000;

interface Pending {
  readonly job: number;
  resolve(masks: RenderedMask[]): void;
  reject(err: Error): void;
}

/** One render worker thread. */
class RenderWorker {
  private readonly worker: Worker;
  /** Jobs the worker started, by id: two images of one run can be in flight at once. */
  private readonly pending = new Map<number, Pending>();
  /** Set once the thread failed or exited: its jobs are rendered by the main thread. */
  broken: Error | undefined;

  constructor(module: URL) {
    this.worker = startModuleWorker(module, 'samlite-fastsam-render');
    this.worker.unref();
    this.worker.on('message', (reply: RenderReply) => {
      const p = this.pending.get(reply.job);
      if (!p) return; // a job the main thread finished without it
      this.settle(reply.job);
      if ('error' in reply) p.reject(new Error(`FastSAM render worker: ${reply.error}`));
      else p.resolve(reply.masks);
    });
    const fail = (err: Error) => {
      this.broken ??= err;
      const all = [...this.pending.values()];
      this.pending.clear();
      this.worker.unref();
      for (const p of all) p.reject(err);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`FastSAM render worker exited with code ${code}`)));
  }

  private settle(job: number): void {
    this.pending.delete(job);
    if (this.pending.size === 0) this.worker.unref();
  }

  /** Send `job` (its prototypes are transferred); the answer is awaited only if the worker starts it (see wait). */
  send(job: RenderJob): void {
    this.worker.postMessage(job, [job.packed.buffer as ArrayBuffer]);
  }

  /** The masks the worker rendered for `job`, which it has started. */
  wait(job: number): Promise<RenderedMask[]> {
    if (this.broken) return Promise.reject(this.broken);
    // Held open while a started job is awaited; unref'd when idle, it never keeps the process alive.
    this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(job, { job, resolve, reject });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

/**
 * Worker threads that help render masks. One pool serves the whole process (see
 * {@link sharedRenderPool}): every FastSAM model opened shares its threads, which stay warm
 * from one image to the next.
 */
export class MaskRenderPool {
  private readonly threads: RenderWorker[] = [];
  private nextJob = 1;

  private readonly minBoxPixels: number;
  private readonly callerRenders: boolean;
  private readonly module: URL;
  /** Why a worker could not be started; no further attempt is made. */
  private startFailed: unknown;

  /**
   * Up to `workers` threads besides the caller's. `minBoxPixels`: box pixels below which the
   * caller renders alone. `callerRenders` false leaves every mask to the workers, and
   * `module` names another worker module (both for tests of the workers' side).
   */
  constructor(
    readonly workers: number,
    options: { readonly minBoxPixels?: number; readonly callerRenders?: boolean; readonly module?: URL } = {},
  ) {
    this.minBoxPixels = options.minBoxPixels ?? POOL_MIN_BOX_PIXELS;
    this.callerRenders = options.callerRenders ?? true;
    this.module = options.module ?? RENDER_WORKER;
  }

  /**
   * Every detection's mask of `analysis` (index order), each RLE's facts remembered for the
   * writers. Masks go to threads biggest box first; `signal` stops the claiming between masks.
   */
  async render(analysis: FastSamAnalysis, signal?: AbortSignal, workers = this.workers): Promise<RenderedMask[]> {
    const masks = new DetectionMasks(analysis);
    const n = detectionCount(analysis);
    const boxPixels = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const { c0, r0, c1, r1 } = masks.boxPixels(i);
      boxPixels[i] = Math.max(0, c1 - c0) * Math.max(0, r1 - r0);
      total += boxPixels[i];
    }
    const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => boxPixels[b] - boxPixels[a] || a - b);
    const helpers = total >= this.minBoxPixels ? this.helpers(workers) : [];
    const cells = new Int32Array(new SharedArrayBuffer(4 * (STATES + helpers.length)));
    const job = this.nextJob++;
    // Each worker gets its own copy of the prototypes, transferred rather than copied again.
    helpers.forEach((h, w) => h.send({ job, packed: packAnalysis(analysis, '').data, image: analysis.image, order, shared: cells.buffer as SharedArrayBuffer, slot: STATES + w }));
    const pooled = helpers.length > 0;
    const caller = this.callerRenders || !pooled;
    const mine = caller ? renderClaimed(masks, order, cells, () => signal?.aborted === true, pooled) : [];
    // Stopped: the workers claim nothing more either.
    if (signal?.aborted) Atomics.store(cells, NEXT, n);
    // A worker that has not started this job never will; one that has is waited for.
    const theirs = await Promise.all(
      helpers.map((h, w) =>
        !caller || Atomics.compareExchange(cells, STATES + w, NOT_STARTED, CLOSED) === WORKING ? h.wait(job).catch((): RenderedMask[] => []) : [],
      ),
    );
    signal?.throwIfAborted();
    const byIndex: (RenderedMask | undefined)[] = new Array(n);
    for (const m of [...mine, ...theirs.flat()]) byIndex[m.i] = m;
    // A worker that failed mid-job: its masks are rendered here.
    for (let i = 0; i < n; i++) byIndex[i] ??= renderClaimed(masks, Int32Array.of(i), new Int32Array(STATES), undefined, pooled)[0];
    for (const m of byIndex) if (m!.facts) rememberRleFacts(m!.rle, m!.facts);
    return byIndex as RenderedMask[];
  }

  /**
   * Start the workers now if an image of `pixels` will probably need them, so they are ready
   * when its masks are (a worker's start-up then overlaps the model run).
   */
  warm(pixels: number, workers = this.workers): void {
    if (pixels >= POOL_WARM_PIXELS) this.helpers(workers);
  }

  /**
   * The live workers, started on first use. One that failed, or could not be started at all
   * (no thread left, no built worker module), is not started again: the caller renders its
   * share, as it does when no worker is asked for.
   */
  private helpers(workers: number): RenderWorker[] {
    const n = Math.min(workers, this.workers);
    if (this.startFailed === undefined) {
      try {
        for (let w = this.threads.length; w < n; w++) this.threads.push(new RenderWorker(this.module));
      } catch (err) {
        this.startFailed = err;
      }
    }
    return this.threads.slice(0, n).filter((t) => !t.broken);
  }

  /** Stop the workers. */
  async close(): Promise<void> {
    const threads = this.threads.splice(0);
    await Promise.all(threads.map((t) => t.terminate()));
  }
}

let shared: MaskRenderPool | undefined;

/** The process's render pool: one thread per core beyond the first. */
export function sharedRenderPool(): MaskRenderPool {
  shared ??= new MaskRenderPool(Math.max(0, availableParallelism() - 1));
  return shared;
}
