/**
 * The measurements behind docs/performance.md: what running inference in a worker
 * thread costs and buys, and the session settings.
 *
 *   npx tsx scripts/measure-inference.ts [section...] [--reps n] [--bench]
 *
 * Sections: decode (per-call cost of a decoder run, main vs worker), transport (bare
 * transfer cost by tensor size), everything (end to end), loop (event-loop delay during an
 * encode), concurrency (two images in flight, threads, spinning), spinning (one session
 * alone), graph (optimisation level and memory arena). Default: all. `--bench` adds the architecture-shaped benchmark
 * pairs from .cache/bench-models/ (build them with `npx tsx scripts/bench-models/cli.ts`).
 *
 * Every figure is a median over repetitions that alternate the two modes, so drift in
 * other load on the machine hits both alike. Process CPU time counts every thread.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import pLimit from 'p-limit';
import { GraphBuilder } from './onnx/builder.js';
import { makeScene } from './fixtures/index.js';
import { loadImage } from '../src/image/load.js';
import type { RgbImage } from '../src/image/types.js';
import { ModelSession, type SessionOptions, type TensorMap } from '../src/families/session.js';
import { Segmenter, type ModelToOpen } from '../src/segmenter/segmenter.js';
import { resolveModel } from '../src/store/resolve.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const ROOT = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const repsAt = args.indexOf('--reps');
const REPS = repsAt >= 0 ? Number(args[repsAt + 1]) : 5;
const withBench = args.includes('--bench');
const sections = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--reps');
const want = (s: string) => sections.length === 0 || sections.includes(s);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const cpuMs = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};
const log = (line: string) => console.log(line);
const min = (xs: number[]) => Math.min(...xs);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runnable threads on the machine right now (this process is idle while it looks). */
function running(): number {
  const m = /procs_running (\d+)/.exec(readFileSync('/proc/stat', 'utf8'));
  return m ? Number(m[1]) : 0;
}

/**
 * Wait, up to `maxMs`, until the machine is quiet: on average at most one other runnable
 * thread over a second. Other people's work on a shared machine swamps the differences
 * measured here; waiting for quiet moments makes repetitions comparable.
 */
async function quiet(maxMs = 120_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    let sum = 0;
    for (let i = 0; i < 10; i++) {
      sum += running();
      await sleep(100);
    }
    // The sampling itself is one runnable thread.
    if (sum / 10 <= 2 || Date.now() - start > maxMs) break;
  }
  const waited = Date.now() - start;
  if (waited > 1500) console.error(`  (waited ${(waited / 1000).toFixed(0)} s for a quiet machine)`);
}

type Cost = { wall: number; cpu: number };

/**
 * Wall and process CPU per call of each variant, over batches of `calls` that alternate
 * the variants (in turning order), so load drifting on a shared machine hits all alike.
 * Reports the best batch's wall time and the median batch's CPU time.
 */
async function perCall(calls: number, batches: number, variants: Record<string, (i: number) => Promise<unknown>>): Promise<Record<string, Cost>> {
  const names = Object.keys(variants);
  const wall: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let b = 0; b <= batches; b++) {
    const order = names.map((_, k) => names[(k + b) % names.length]);
    for (const name of order) {
      await quiet();
      const c = process.cpuUsage();
      const t = performance.now();
      for (let i = 0; i < calls; i++) await variants[name](i);
      if (b > 0) {
        wall[name].push((performance.now() - t) / calls);
        cpu[name].push(cpuMs(c) / calls);
      }
    }
  }
  return Object.fromEntries(names.map((n) => [n, { wall: min(wall[n]), cpu: median(cpu[n]) }]));
}

async function models(): Promise<ModelToOpen[]> {
  const list: ModelToOpen[] = [await resolveModel('builtin')];
  if (withBench) {
    for (const name of ['bench-mobilesam', 'bench-efficientsam-ti']) {
      const manifest = join(ROOT, '.cache', 'bench-models', name, 'manifest.json');
      if (existsSync(manifest)) list.push(await resolveModel(manifest));
    }
  }
  return list;
}

function scene(width: number, height: number, seed: number): RgbImage {
  const s = makeScene({ width, height, seed, shapes: 8 });
  return s.image;
}

/** Per-call cost of the adapter's decode (the everything loop's call) in both modes. */
async function decodeSection(image: RgbImage): Promise<void> {
  log(`\n## decode: one prompt per call, same embedding, render 256 px (ms per call: best batch wall / median process CPU, ${REPS} batches)`);
  log('| model | threads | main | worker | worker - main (wall / cpu) |');
  log('| --- | --- | --- | --- | --- |');
  for (const model of await models()) {
    for (const threads of [1, undefined]) {
      const calls = model.name === 'builtin' ? 100 : 10;
      const segs = {
        main: await Segmenter.open(model, { inference: 'main', threads, embeddingCache: false }),
        worker: await Segmenter.open(model, { inference: 'worker', threads, embeddingCache: false }),
      };
      const emb = { main: await segs.main.adapter.encode(image), worker: await segs.worker.adapter.encode(image) };
      const render = { width: 256, height: Math.round((256 * image.height) / image.width) };
      const decode = (mode: 'main' | 'worker') => (i: number) =>
        segs[mode].adapter.decode(emb[mode], { points: [{ x: (i * 37) % image.width, y: (i * 53) % image.height }] }, { renderSize: render });
      const { main: m, worker: w } = await perCall(calls, REPS, { main: decode('main'), worker: decode('worker') });
      log(
        `| ${model.name} | ${threads ?? 'default'} | ${f2(m.wall)} / ${f2(m.cpu)} | ${f2(w.wall)} / ${f2(w.cpu)} | ${f2(w.wall - m.wall)} / ${f2(w.cpu - m.cpu)} |`,
      );
      await Promise.all([segs.main.close(), segs.worker.close()]);
    }
  }
}

/** y = x + 1 over n floats: a model that is nearly pure transport. */
function addOneModel(n: number): Uint8Array {
  const g = new GraphBuilder({ name: 'add_one' });
  const x = g.input('x', 'float32', [n]);
  g.output(g.add(x, g.scalar(1)), 'y', 'float32', [n]);
  return g.toBytes();
}

async function transportSection(): Promise<void> {
  log(`\n## transport: y = x + 1, input and output the same size, 1 thread (ms per call: best batch wall / median process CPU)`);
  log('| tensor | main | worker, same input array | worker, a new input array each call | main, a new input array each call |');
  log('| --- | --- | --- | --- | --- |');
  const dir = mkdtempSync(join(tmpdir(), 'samlite-measure-'));
  for (const bytes of [4 << 10, 256 << 10, 4 << 20, 16 << 20]) {
    const n = bytes / 4;
    const path = join(dir, `add-${n}.onnx`);
    writeFileSync(path, addOneModel(n));
    const main = await ModelSession.open(path, 'decoder', { inference: 'main', threads: 1 });
    const worker = await ModelSession.open(path, 'decoder', { inference: 'worker', threads: 1 });
    const same = new ort.Tensor('float32', new Float32Array(n).fill(1), [n]);
    const fresh = () => new ort.Tensor('float32', new Float32Array(n).fill(1), [n]);
    const calls = bytes >= 4 << 20 ? 10 : 100;
    const cell = (r: Cost) => `${f2(r.wall)} / ${f2(r.cpu)}`;
    const r = await perCall(calls, REPS, {
      main: () => main.run({ x: same }),
      workerSame: () => worker.run({ x: same }),
      workerFresh: () => worker.run({ x: fresh() }),
      mainFresh: () => main.run({ x: fresh() }),
    });
    const row = [r.main, r.workerSame, r.workerFresh, r.mainFresh];
    const label = bytes >= 1 << 20 ? `${bytes >> 20} MB` : `${bytes >> 10} KB`;
    log(`| ${label} | ${row.map(cell).join(' | ')} |`);
    await Promise.all([main.release(), worker.release()]);
  }
}

async function everythingSection(images: Record<string, RgbImage>): Promise<void> {
  log(`\n## everything end to end (s, median of ${REPS}; process CPU s in brackets)`);
  log('| model | image | grid | main | worker |');
  log('| --- | --- | --- | --- | --- |');
  for (const model of await models()) {
    const grids = model.name === 'builtin' ? [16, 32] : [16];
    const reps = model.name === 'builtin' ? REPS : Math.min(REPS, 2);
    const segs = {
      main: await Segmenter.open(model, { inference: 'main', embeddingCache: false }),
      worker: await Segmenter.open(model, { inference: 'worker', embeddingCache: false }),
    };
    for (const [name, image] of Object.entries(images)) {
      for (const grid of grids) {
        const wall: Record<string, number[]> = { main: [], worker: [] };
        const cpu: Record<string, number[]> = { main: [], worker: [] };
        for (let rep = 0; rep <= reps; rep++) {
          for (const mode of rep % 2 ? (['main', 'worker'] as const) : (['worker', 'main'] as const)) {
            await quiet();
            const c = process.cpuUsage();
            const t = performance.now();
            await segs[mode].everything(image, { pointsPerSide: grid });
            if (rep > 0) {
              wall[mode].push((performance.now() - t) / 1000);
              cpu[mode].push(cpuMs(c) / 1000);
            }
          }
        }
        const cell = (m: string) => `${f2(median(wall[m]))} (${f2(median(cpu[m]))})`;
        log(`| ${model.name} | ${name} | ${grid} | ${cell('main')} | ${cell('worker')} |`);
      }
    }
    await Promise.all([segs.main.close(), segs.worker.close()]);
  }
}

/** The longest the event loop was held up during one encode, and how many 10 ms ticks ran. */
async function loopDuring(seg: Segmenter, image: RgbImage): Promise<{ maxMs: number; ticks: number; encodeMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  h.enable();
  const t = performance.now();
  await seg.adapter.encode(image);
  const encodeMs = performance.now() - t;
  const during = ticks;
  // The histogram records a stall when its timer next fires: let the loop turn first.
  await sleep(30);
  h.disable();
  clearInterval(timer);
  return { maxMs: h.max / 1e6, ticks: during, encodeMs };
}

async function loopSection(image: RgbImage): Promise<void> {
  log(`\n## event loop during one encode of a 1024x768 image (median of ${REPS})`);
  log('| model | mode | encode ms | max event-loop delay ms | 10 ms ticks during the encode |');
  log('| --- | --- | --- | --- | --- |');
  for (const model of await models()) {
    for (const mode of ['main', 'worker'] as const) {
      const seg = await Segmenter.open(model, { inference: mode, embeddingCache: false });
      await seg.adapter.encode(image); // warm-up (and lazy encoder load)
      const rows = [];
      for (let rep = 0; rep < REPS; rep++) {
        await quiet();
        rows.push(await loopDuring(seg, image));
      }
      log(
        `| ${model.name} | ${mode} | ${f1(median(rows.map((r) => r.encodeMs)))} | ${f1(median(rows.map((r) => r.maxMs)))} | ${median(rows.map((r) => r.ticks))} |`,
      );
      await seg.close();
    }
  }
}

interface Setup {
  readonly label: string;
  readonly inference: 'main' | 'worker';
  readonly concurrency: number;
  /** Segmenters (models opened): 2 gives each image in flight its own worker. */
  readonly instances: number;
  readonly threads?: number;
  readonly spinning?: boolean;
}

async function runBatch(model: ModelToOpen, images: RgbImage[], grid: number, setup: Setup): Promise<{ wall: number; cpu: number }> {
  const options: SessionOptions = { inference: setup.inference, threads: setup.threads, spinning: setup.spinning };
  const segs = await Promise.all(Array.from({ length: setup.instances }, () => Segmenter.open(model, { ...options, embeddingCache: false })));
  await Promise.all(segs.map((s) => s.everything(images[0], { pointsPerSide: 4 }))); // load both sessions
  const free = [...segs];
  const limit = pLimit(setup.concurrency);
  const c = process.cpuUsage();
  const t = performance.now();
  await Promise.all(
    images.map((image) =>
      limit(async () => {
        const seg = free.length > 0 ? free.pop()! : segs[0];
        try {
          await seg.everything(image, { pointsPerSide: grid });
        } finally {
          if (setup.instances > 1) free.push(seg);
        }
      }),
    ),
  );
  const wall = (performance.now() - t) / 1000;
  const cpu = cpuMs(c) / 1000;
  await Promise.all(segs.map((s) => s.close()));
  return { wall, cpu };
}

async function concurrencySection(): Promise<void> {
  const cores = cpus().length;
  const half = Math.max(1, Math.floor(cores / 2));
  const setups: Setup[] = [
    { label: 'main, 1 at a time, spinning (samlite before workers)', inference: 'main', concurrency: 1, instances: 1, spinning: true },
    { label: `main, 1 at a time, ${cores} threads`, inference: 'main', concurrency: 1, instances: 1, spinning: false },
    { label: 'main, 1 at a time, 1 thread', inference: 'main', concurrency: 1, instances: 1, threads: 1, spinning: false },
    { label: `worker, 1 at a time, ${cores} threads`, inference: 'worker', concurrency: 1, instances: 1, spinning: false },
    { label: `worker, 2 in flight, one worker, ${cores} threads, spinning`, inference: 'worker', concurrency: 2, instances: 1, spinning: true },
    { label: `worker, 2 in flight, one worker, ${cores} threads`, inference: 'worker', concurrency: 2, instances: 1, spinning: false },
    { label: 'worker, 2 in flight, one worker, 1 thread', inference: 'worker', concurrency: 2, instances: 1, threads: 1, spinning: false },
    { label: `worker, 2 in flight, 2 workers x ${half} thread`, inference: 'worker', concurrency: 2, instances: 2, threads: half, spinning: false },
  ];
  for (const model of await models()) {
    const builtin = model.name === 'builtin';
    const images = Array.from({ length: builtin ? 4 : 2 }, (_, i) => scene(640, 480, 100 + i));
    const grid = builtin ? 16 : 6;
    const reps = builtin ? REPS : Math.min(REPS, 2);
    log(`\n## concurrency: ${model.name}, ${images.length} images 640x480, grid ${grid}, ${cores} cores (s for the batch, median of ${reps}; process CPU s in brackets)`);
    log('| setup | wall | cpu |');
    log('| --- | --- | --- |');
    const results = new Map<string, { wall: number[]; cpu: number[] }>(setups.map((s) => [s.label, { wall: [], cpu: [] }]));
    for (let rep = 0; rep < reps; rep++) {
      const order = rep % 2 ? [...setups].reverse() : setups;
      for (const setup of order) {
        await quiet();
        const r = await runBatch(model, images, grid, setup);
        console.error(`  rep ${rep + 1}: ${setup.label}: ${f2(r.wall)} s (cpu ${f2(r.cpu)} s)`);
        results.get(setup.label)!.wall.push(r.wall);
        results.get(setup.label)!.cpu.push(r.cpu);
      }
    }
    for (const setup of setups) {
      const r = results.get(setup.label)!;
      log(`| ${setup.label} | ${f2(median(r.wall))} | ${f2(median(r.cpu))} |`);
    }
  }
}

async function spinningSection(image: RgbImage): Promise<void> {
  log(`\n## spinning, one session alone, main thread, default threads (ms per call: best batch wall / median process CPU)`);
  log('| model | encode, spinning | encode, no spinning | decode, spinning | decode, no spinning |');
  log('| --- | --- | --- | --- | --- |');
  for (const model of await models()) {
    const segs = {
      spin: await Segmenter.open(model, { spinning: true, embeddingCache: false }),
      still: await Segmenter.open(model, { spinning: false, embeddingCache: false }),
    };
    const emb = { spin: await segs.spin.adapter.encode(image), still: await segs.still.adapter.encode(image) };
    const builtin = model.name === 'builtin';
    const enc = await perCall(builtin ? 5 : 1, REPS, { spin: () => segs.spin.adapter.encode(image), still: () => segs.still.adapter.encode(image) });
    const render = { width: 256, height: 192 };
    const decode = (k: 'spin' | 'still') => (i: number) => segs[k].adapter.decode(emb[k], { points: [{ x: (i * 37) % image.width, y: (i * 53) % image.height }] }, { renderSize: render });
    const dec = await perCall(builtin ? 100 : 10, REPS, { spin: decode('spin'), still: decode('still') });
    const cell = (c: Cost) => `${f2(c.wall)} / ${f2(c.cpu)}`;
    log(`| ${model.name} | ${cell(enc.spin)} | ${cell(enc.still)} | ${cell(dec.spin)} | ${cell(dec.still)} |`);
    await Promise.all([segs.spin.close(), segs.still.close()]);
  }
}

async function graphSection(image: RgbImage): Promise<void> {
  log(`\n## graph optimisation and memory arena: decoder run, main thread, default threads (ms per call: best batch wall / median process CPU)`);
  log('| model | all + arena (samlite) | disabled + arena | all, no arena | session create all / disabled (ms) |');
  log('| --- | --- | --- | --- | --- |');
  for (const model of await models()) {
    // Feeds exactly as the adapter makes them: observe one real decode.
    let feeds: TensorMap | undefined;
    const seg = await Segmenter.open(model, {
      embeddingCache: false,
      observer: (role, f) => {
        if (role === 'decoder') feeds = { ...f };
      },
    });
    const emb = await seg.adapter.encode(image);
    await seg.adapter.decode(emb, { points: [{ x: 100, y: 100 }] }, { renderSize: { width: 256, height: 192 } });
    await seg.close();
    const variants: Record<string, ort.InferenceSession.SessionOptions> = {
      all: { graphOptimizationLevel: 'all', enableCpuMemArena: true },
      disabled: { graphOptimizationLevel: 'disabled', enableCpuMemArena: true },
      noArena: { graphOptimizationLevel: 'all', enableCpuMemArena: false },
    };
    const sessions: Record<string, ort.InferenceSession> = {};
    const create: Record<string, number> = {};
    for (const [k, o] of Object.entries(variants)) {
      const t = performance.now();
      sessions[k] = await ort.InferenceSession.create(model.files.decoder!, { ...o, executionProviders: ['cpu'] });
      create[k] = performance.now() - t;
    }
    const calls = model.name === 'builtin' ? 100 : 10;
    const r = await perCall(calls, REPS, Object.fromEntries(Object.keys(variants).map((k) => [k, () => sessions[k].run(feeds!)])));
    const cell = (c: Cost) => `${f2(c.wall)} / ${f2(c.cpu)}`;
    log(`| ${model.name} | ${cell(r.all)} | ${cell(r.disabled)} | ${cell(r.noArena)} | ${f1(create.all)} / ${f1(create.disabled)} |`);
    await Promise.all(Object.values(sessions).map((s) => s.release()));
  }
}

log(`# measure-inference: ${cpus().length} cores, load average ${loadavg().map(f2).join(' ')}, ${new Date().toISOString()}`);
const landscape = await loadImage(join(ROOT, 'fixtures', 'landscape.png'));
const big = scene(1024, 768, 7);
if (want('decode')) await decodeSection(landscape);
if (want('transport')) await transportSection();
if (want('everything')) await everythingSection({ 'landscape.png': landscape, 'scene 1024x768': big });
if (want('loop')) await loopSection(big);
if (want('concurrency')) await concurrencySection();
if (want('spinning')) await spinningSection(landscape);
if (want('graph')) await graphSection(landscape);
log(`\nload average at the end: ${loadavg().map(f2).join(' ')}`);
