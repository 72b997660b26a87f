/**
 * The fast everything mode against the faithful one, on the built-in models over generated
 * scenes (their masks are real, so "recovered" means something; the benchmark models'
 * masks are noise).
 */
import { loadavg } from 'node:os';
import { Segmenter } from '../../src/index.js';
import { makeScene } from '../../scripts/fixtures/scene.js';
import { recoveredCount } from '../../scripts/measure-fast-mode.js';
import { resolveBenchModel } from './pipeline.js';
import { round1, round2, round3 } from './util.js';

/** Fast mode vs faithful mode at one grid size. */
export interface FastModeResult {
  readonly note: string;
  /** The option object that selects fast mode. */
  readonly option: Readonly<Record<string, unknown>>;
  readonly grid: number;
  readonly scenes: string;
  readonly faithfulMs: number;
  readonly fastMs: number;
  readonly speedup: number;
  /** Faithful masks with a fast mask at IoU >= 0.9, over all faithful masks. */
  readonly recovered: number;
  readonly faithfulMasks: number;
  readonly fastMasks: number;
  readonly perModel: readonly { model: string; faithfulMs: number; fastMs: number; faithfulMasks: number; recoveredMasks: number; fastMasks: number }[];
  readonly load: readonly number[];
}

/** Fast vs faithful at `grid`, on both built-in models over `seeds` generated 640x480 scenes. */
export async function measureFastMode(grid: number, seeds: readonly number[]): Promise<FastModeResult> {
  const option = { mode: 'fast' } as const;
  const load0 = loadavg()[0];
  const perModel = [];
  for (const name of ['builtin', 'builtin-efficientsam']) {
    const seg = await Segmenter.open(resolveBenchModel(name));
    try {
      let faithfulMs = 0;
      let fastMs = 0;
      let faithfulMasks = 0;
      let fastMasks = 0;
      let recoveredMasks = 0;
      await seg.everything(makeScene({ width: 160, height: 120, seed: 99 }).image, { pointsPerSide: 4 }); // loads sessions
      for (const seed of seeds) {
        const image = makeScene({ width: 640, height: 480, seed }).image;
        let t = performance.now();
        const faithful = await seg.everything(image, { pointsPerSide: grid });
        faithfulMs += performance.now() - t;
        t = performance.now();
        const fast = await seg.everything(image, { pointsPerSide: grid, ...option });
        fastMs += performance.now() - t;
        faithfulMasks += faithful.records.length;
        fastMasks += fast.records.length;
        recoveredMasks += recoveredCount(faithful.records, fast.records);
      }
      perModel.push({ model: name, faithfulMs: round1(faithfulMs), fastMs: round1(fastMs), faithfulMasks, recoveredMasks, fastMasks });
    } finally {
      await seg.close();
    }
  }
  const faithfulMs = perModel.reduce((a, m) => a + m.faithfulMs, 0);
  const fastMs = perModel.reduce((a, m) => a + m.fastMs, 0);
  const faithfulMasks = perModel.reduce((a, m) => a + m.faithfulMasks, 0);
  const recovered = perModel.reduce((a, m) => a + m.recoveredMasks, 0);
  return {
    note: `everything ${JSON.stringify(option)} vs faithful, built-in models, ${seeds.length} generated 640x480 scenes each`,
    option,
    grid,
    scenes: `makeScene 640x480 seeds ${seeds.join(',')}`,
    faithfulMs: round1(faithfulMs),
    fastMs: round1(fastMs),
    speedup: round2(faithfulMs / fastMs),
    recovered: round3(faithfulMasks ? recovered / faithfulMasks : 1),
    faithfulMasks,
    fastMasks: perModel.reduce((a, m) => a + m.fastMasks, 0),
    perModel,
    load: [round2(load0), round2(loadavg()[0])],
  };
}
