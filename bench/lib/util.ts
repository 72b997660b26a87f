/**
 * Timing helpers for the benchmark: medians of repeated runs, and the machine load seen
 * while measuring (the development machine is shared, so every figure carries its load).
 */
import { loadavg } from 'node:os';

/** Median of a non-empty list (mean of the middle two for even lengths). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A repeated measurement: every run in ms, its median, and the 1-minute load around it. */
export interface Timed {
  readonly runsMs: number[];
  readonly medianMs: number;
  readonly minMs: number;
  /** 1-minute load average before the first and after the last run. */
  readonly load: readonly [number, number];
}

/** Runs `f` `warmup` times untimed (first runs allocate arenas), then `runs` times timed. */
export async function timeRuns(runs: number, warmup: number, f: (i: number) => Promise<unknown>): Promise<Timed> {
  for (let i = 0; i < warmup; i++) await f(-1 - i);
  const before = loadavg()[0];
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f(i);
    runsMs.push(performance.now() - t);
  }
  return { runsMs: runsMs.map(round1), medianMs: round1(median(runsMs)), minMs: round1(Math.min(...runsMs)), load: [round2(before), round2(loadavg()[0])] };
}

/** One timed call: its result, its wall time, and the load around it. */
export async function timeOnce<T>(f: () => Promise<T>): Promise<{ value: T; ms: number; load: [number, number] }> {
  const before = loadavg()[0];
  const t = performance.now();
  const value = await f();
  return { value, ms: round1(performance.now() - t), load: [round2(before), round2(loadavg()[0])] };
}

/** Rounds to 0.1 (ms figures). */
export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Rounds to 0.01 (ratios, loads). */
export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Rounds to 0.001 (fractions). */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** A progress line on stderr, so stdout keeps only the table. */
export function note(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)} load ${loadavg()[0].toFixed(2)}] ${line}\n`);
}
