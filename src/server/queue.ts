/**
 * The server's one inference queue: model work runs one job at a time (onnxruntime already
 * uses every core for one run), in arrival order, with a bound on the jobs waiting. A job
 * that would pass the bound is refused at once with 429, so a burst of clients gets a
 * clear answer instead of an ever-growing wait.
 */
import { HttpError } from './http.js';

/** Queue figures for /api/health and the tests. */
export interface QueueStats {
  /** Jobs running (0 or 1). */
  readonly running: number;
  /** Jobs waiting behind it. */
  readonly waiting: number;
  /** Most jobs allowed to wait. */
  readonly bound: number;
  /** Jobs refused with 429 since the start. */
  readonly refused: number;
  /** Jobs done since the start. */
  readonly done: number;
  /** Most jobs seen waiting at once since the start. */
  readonly peakWaiting: number;
}

export class InferenceQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private running = 0;
  private waiting = 0;
  private refused = 0;
  private done = 0;
  private peakWaiting = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    /** Most jobs that may wait behind the running one. */
    readonly bound: number,
  ) {}

  /**
   * Run `job` after the jobs before it. Throws a 429 HttpError when `bound` jobs are
   * already waiting; `job`'s own error is its caller's, never the next job's.
   */
  run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running + this.waiting > this.bound) {
      this.refused++;
      throw new HttpError(429, `the inference queue is full (${this.waiting} requests waiting, bound ${this.bound}); retry shortly`, { 'retry-after': '1' });
    }
    this.waiting++;
    this.peakWaiting = Math.max(this.peakWaiting, this.waiting);
    const result = this.tail.then(async () => {
      this.waiting--;
      this.running++;
      try {
        return await job();
      } finally {
        this.running--;
        this.done++;
        if (this.running + this.waiting === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      }
    });
    // The chain goes on whether this job failed or not.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves when no job is running or waiting (for a graceful stop). */
  idle(): Promise<void> {
    if (this.running + this.waiting === 0) return Promise.resolve();
    return new Promise((wake) => this.idleWaiters.push(wake));
  }

  stats(): QueueStats {
    return { running: this.running, waiting: this.waiting, bound: this.bound, refused: this.refused, done: this.done, peakWaiting: this.peakWaiting };
  }
}
