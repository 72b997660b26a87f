/**
 * The masks of one FastSAM image rendered by more than one thread: the main thread and the
 * render workers take masks from one shared counter (Atomics), biggest boxes first, until
 * none is left. Nothing depends on which thread renders a mask (each is rendered whole by
 * one thread, the same way), so the result is the same with any number of threads and any
 * timing; a worker that starts late or not at all only leaves more to the main thread.
 *
 * A job's shared cells: [0] the next position in the claim order, then one state per worker
 * (0 not started, 1 working, 2 the main thread finished first: that worker must not start).
 */
import type { Rle, RleFacts } from '../masks/rle.js';
import { rleFacts } from '../masks/rle.js';
import { unpackAnalysis } from './analysis.js';
import { DetectionMasks } from './masks.js';

/** The shared cell of the claim counter; worker w's state is cell STATES + w. */
export const NEXT = 0;
export const STATES = 1;
export const NOT_STARTED = 0;
export const WORKING = 1;
export const CLOSED = 2;

/** One rendered mask as it crosses threads. */
export interface RenderedMask {
  /** The detection's index. */
  readonly i: number;
  readonly rle: Rle;
  readonly area: number;
  readonly stability: number;
  readonly facts: RleFacts | undefined;
  /** Whether a worker thread rendered it (the caller's otherwise). */
  readonly byWorker: boolean;
}

/** What the main thread sends a worker for one image. */
export interface RenderJob {
  readonly job: number;
  /** The analysis as packAnalysis packs it. */
  readonly packed: Float32Array;
  readonly image: { readonly width: number; readonly height: number };
  /** Detection indices in the order they are claimed. */
  readonly order: Int32Array;
  readonly shared: SharedArrayBuffer;
  /** This worker's state cell. */
  readonly slot: number;
}

/** A worker's answer: the masks it rendered, or why it failed. */
export type RenderReply = { readonly job: number; readonly masks: RenderedMask[] } | { readonly job: number; readonly error: string };

/**
 * Claim masks from `cells` and render them until the counter passes the end of `order`
 * (or `stop` says so between masks). Every thread runs this same loop; `facts` says whether
 * each RLE's facts are computed too (they are, wherever more than one thread renders).
 */
export function renderClaimed(masks: DetectionMasks, order: Int32Array, cells: Int32Array, stop?: () => boolean, facts = true, byWorker = false): RenderedMask[] {
  const out: RenderedMask[] = [];
  for (;;) {
    if (stop?.()) break;
    const at = Atomics.add(cells, NEXT, 1);
    if (at >= order.length) break;
    const i = order[at];
    const m = masks.renderRle(i);
    out.push({ i, rle: m.rle, area: m.area, stability: m.stability, facts: facts ? rleFacts(m.rle) : undefined, byWorker });
  }
  return out;
}

/** The worker's side of a job: start unless the main thread already finished, then claim and render. */
export function runRenderJob(job: RenderJob): RenderReply {
  const cells = new Int32Array(job.shared);
  if (Atomics.compareExchange(cells, job.slot, NOT_STARTED, WORKING) !== NOT_STARTED) return { job: job.job, masks: [] };
  const analysis = unpackAnalysis({ family: 'fastsam', modelKey: '', image: job.image, data: job.packed, dims: [job.packed.length] });
  return { job: job.job, masks: renderClaimed(new DetectionMasks(analysis), job.order, cells, undefined, true, true) };
}
