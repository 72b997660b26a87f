/**
 * FastSAM at the runtime floor, side by side in one run: the bare floor (an onnxruntime
 * session created and run once on the letterboxed input, prepared beforehand), samlite
 * (model open, image decode, the whole everything run and the SA-1B JSON write; or a click:
 * open, decode, segment; the model opens while the image decodes, as in the CLI), and the ultralytics-on-ONNX peer (FastSAM(onnx).predict with
 * retina masks, and .prompt for the click), each from a cold model, median of `reps`.
 *
 * The graphs: the FastSAM conformance kit's rebuilt FastSAM-s graph when
 * SAMLITE_BENCH_FASTSAM_KIT names the kit's work folder (W/work/fastsam_s_rand_1024.onnx,
 * W/venv/bin/python, W/ultralytics-*), else the random-weight stand-in (its masks are noise
 * too); the built-in FastSAM model, whose masks are objects'; and one graph that runs both,
 * answering with the built-in model's masks at the network's cost. The peer runs only with
 * the kit (ultralytics needs the exporter's metadata and Python); otherwise its rows say
 * "not run" and one line says why.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { letterboxGeometry, letterboxPlanes } from '../../src/fastsam/letterbox.js';
// samlite as users run it: the built package (npm run bench builds it first), loaded at run
// time so that type checks need no build. Its render workers start from the built files;
// from the TypeScript sources each would start through tsx.
const { loadImage, Segmenter, writeEverythingOutputs } = (await import(new URL('../../dist/index.js', import.meta.url).href)) as typeof import('../../src/index.js');
import type { BenchImage } from './images.js';
import { ortLogLevel } from '../../src/inference/ort-log.js';
import { ortSessionOptions } from '../../src/inference/ort-session.js';
import { answersAtNetworkCost } from '../../scripts/bench-models/answers-at-cost.js';
import { resolveBenchModel } from './pipeline.js';
import { median, note, round1, round2 } from './util.js';

/** One side-by-side row. */
export interface FloorRow {
  readonly model: string;
  readonly task: 'everything' | 'click';
  readonly image: string;
  readonly floorMs: number;
  readonly samliteMs: number;
  /** The peer's time, or why it was not run. */
  readonly peerMs: number | string;
  readonly records: number;
  /** Decoding the image alone (loadImage), median: part of samlite's time, not of the floor. */
  readonly decodeMs: number;
  readonly ratio: number;
  readonly target: number;
  readonly met: boolean;
  /** 1-minute load average before and after the row's runs (floor and samlite share it). */
  readonly load: readonly [number, number];
}

/** A graph to measure: its file, the manifest samlite opens, the frame side. */
export interface FloorGraph {
  readonly name: string;
  readonly file: string;
  readonly manifest: string;
  readonly side: number;
  /** Target of samlite / floor for everything on it. */
  readonly target: number;
  /** Whether the peer can run it (the kit's graph, with ultralytics' metadata). */
  readonly peer: boolean;
}

/** The kit's peer set-up from SAMLITE_BENCH_FASTSAM_KIT, or why there is none. */
export function kitPeer(tmp: string): { graph?: FloorGraph; python?: string; ultralytics?: string; why?: string } {
  const w = process.env.SAMLITE_BENCH_FASTSAM_KIT;
  if (!w) return { why: 'SAMLITE_BENCH_FASTSAM_KIT is not set (the FastSAM kit folder: rebuilt graph, Python, ultralytics source)' };
  const file = join(w, 'work', 'fastsam_s_rand_1024.onnx');
  const python = join(w, 'venv', 'bin', 'python');
  const ultralytics = existsSync(w) ? readdirSync(w).find((d) => d.startsWith('ultralytics')) : undefined;
  if (!existsSync(file) || !existsSync(python) || !ultralytics) return { why: `${w} lacks work/fastsam_s_rand_1024.onnx, venv/bin/python or an ultralytics-* source folder` };
  const manifest = join(tmp, 'kit-fastsam-s.json');
  writeFileSync(manifest, JSON.stringify({ name: 'kit-fastsam-s-1024', family: 'fastsam', license: 'AGPL-3.0', files: { model: { path: file } } }));
  return { graph: { name: 'rebuilt FastSAM-s (kit, random weights)', file, manifest, side: 1024, target: 2, peer: true }, python, ultralytics: join(w, ultralytics) };
}

/**
 * Object masks at a network's cost: one file that runs `network` and the built-in model on
 * the same input and answers with the built-in model's detections and prototypes
 * (scripts/bench-models/answers-at-cost.ts). The built-in model alone costs less than
 * decoding a 12 MP photo, so its own floor cannot show what samlite adds on object masks
 * behind a real network; this graph's floor is the network's plus the built-in model's.
 */
export function objectMasksAtCost(network: FloorGraph, builtinFile: string, tmp: string): FloorGraph {
  const file = join(tmp, 'object-masks-at-network-cost.onnx');
  writeFileSync(file, answersAtNetworkCost(network.file, builtinFile));
  const manifest = join(tmp, 'object-masks-at-network-cost.json');
  writeFileSync(manifest, JSON.stringify({ name: 'object-masks-at-network-cost', family: 'fastsam', license: 'AGPL-3.0', files: { model: { path: file } } }));
  const short = network.name.replace(/ \(.*$/, '');
  return { name: `object masks at the ${short} cost (built-in answers + ${short} run)`, file, manifest, side: network.side, target: 1.2, peer: false };
}

/**
 * The floor's session is created exactly as samlite creates its own (Segmenter.open's
 * defaults: CPU, intra-op spinning off), so the ratio measures samlite's work around the
 * model, not a different session configuration. (It used the benchmark's generic options,
 * which leave spinning on: on the loaded 2-core machine that was 5-10 % slower, not faster.)
 */
const FLOOR_SESSION_OPTIONS = ortSessionOptions({ device: 'cpu', spinning: false, logLevel: ortLogLevel() }, ['cpu']);

async function floorOnce(file: string, image: BenchImage, side: number): Promise<{ ms: number; decodeMs: number }> {
  const t0 = performance.now();
  const img = await loadImage(image.path);
  const decodeMs = performance.now() - t0;
  const box = letterboxGeometry(img, { width: side, height: side });
  const feeds = { images: new ort.Tensor('float32', letterboxPlanes(img, box), [1, 3, box.input.height, box.input.width]) };
  const t = performance.now();
  const session = await ort.InferenceSession.create(file, FLOOR_SESSION_OPTIONS);
  await session.run(feeds);
  const ms = performance.now() - t;
  await session.release();
  return { ms, decodeMs };
}

async function samliteOnce(manifest: string, image: BenchImage, task: 'everything' | 'click', out: string): Promise<{ ms: number; records: number }> {
  const t = performance.now();
  // The image is decoded while the model loads, as the CLI does with the first images of a
  // run: the load (which blocks this thread) starts once the decode runs (jobs/read-ahead.ts).
  let decodeRunning!: () => void;
  const running = new Promise<void>((resolve) => (decodeRunning = resolve));
  const decoded = loadImage(image.path, { onDecodeStart: decodeRunning });
  await Promise.race([running, decoded]);
  const [seg, img] = await Promise.all([Segmenter.open(resolveBenchModel(manifest), { embeddingCache: false }), decoded]);
  try {
    if (task === 'click') {
      await seg.segment(img, { points: [image.point] });
      return { ms: performance.now() - t, records: 1 };
    }
    const { records } = await seg.everything(img);
    await writeEverythingOutputs(img, records, { input: image.path, outDir: out }, ['json'], { overwrite: true });
    return { ms: performance.now() - t, records: records.length };
  } finally {
    await seg.close();
  }
}

/** The shared folder (../shared beside the checkout, or SAMLITE_SHARED for a worktree elsewhere). */
function sharedDir(): string {
  return process.env.SAMLITE_SHARED ?? join(import.meta.dirname, '..', '..', '..', 'shared');
}

/** Pixels above which the peer is not run: ultralytics' retina masks are one float32 image per detection (300 x 48 MB at 12 MP). */
const PEER_MAX_PIXELS = 4_000_000;

function peerOnce(python: string, ultralytics: string, file: string, image: BenchImage, task: 'everything' | 'click'): number | string {
  if (image.width * image.height > PEER_MAX_PIXELS) {
    return `not run: ultralytics' retina masks at ${image.width}x${image.height} are ${Math.round((300 * image.width * image.height * 4) / 1e9)} GB of float32 for 300 detections`;
  }
  const script = join(import.meta.dirname, '..', 'peer', 'fastsam_ultralytics.py');
  // The kit's pure-torch torchvision.ops.nms: ultralytics needs torchvision to import.
  const stub = join(sharedDir(), 'conformance', 'fastsam', 'tvstub');
  const stubArgs = existsSync(stub) ? ['--torchvision-stub', stub] : [];
  const r = spawnSync(python, [script, ultralytics, file, image.path, '1024', task, String(image.point.x), String(image.point.y), ...stubArgs], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) return `not run: peer exited ${r.status}: ${r.stderr.trim().split('\n').pop() ?? ''}`;
  return (JSON.parse(line) as { ms: number }).ms;
}

/** The rows for `graphs` on `images` (everything) and a click on each image. */
export async function measureFloor(
  graphs: readonly FloorGraph[],
  images: readonly { label: string; image: BenchImage }[],
  reps: number,
  out: string,
  peer: { python?: string; ultralytics?: string; why?: string },
): Promise<FloorRow[]> {
  const rows: FloorRow[] = [];
  if (!peer.python) note(`FastSAM floor: the ultralytics peer is not run: ${peer.why}`);
  for (const g of graphs) {
    for (const { label, image } of images) {
      for (const task of ['everything', 'click'] as const) {
        note(`FastSAM floor: ${g.name}, ${task}, ${label}`);
        const floor: number[] = [];
        const decode: number[] = [];
        const mine: number[] = [];
        const theirs: number[] = [];
        let records = 0;
        let peerNote = '';
        const loadBefore = loadavg()[0];
        for (let i = 0; i < reps; i++) {
          const f = await floorOnce(g.file, image, g.side);
          floor.push(f.ms);
          decode.push(f.decodeMs);
          const m = await samliteOnce(g.manifest, image, task, out);
          mine.push(m.ms);
          records = m.records;
          if (g.peer && peer.python && peer.ultralytics) {
            const p = peerOnce(peer.python, peer.ultralytics, g.file, image, task);
            if (typeof p === 'number') theirs.push(p);
            else peerNote = p;
          }
        }
        const floorMs = round1(median(floor));
        const samliteMs = round1(median(mine));
        const peerMs = theirs.length > 0 ? round1(median(theirs)) : peerNote || (g.peer ? 'not run' : 'not run: no ultralytics metadata in this graph');
        const target = task === 'click' ? 1.2 : g.target;
        const ratio = round2(samliteMs / floorMs);
        const decodeMs = round1(median(decode));
        rows.push({ model: g.name, task, image: label, floorMs, samliteMs, peerMs, records, decodeMs, ratio, target, met: ratio <= target, load: [round2(loadBefore), round2(loadavg()[0])] });
      }
    }
  }
  return rows;
}

/** The rows as a table on stdout. */
export function printFloor(rows: readonly FloorRow[]): void {
  console.log('\nFastSAM at the floor (cold model each run, median): bare onnxruntime load + one run | samlite | ultralytics on the same ONNX');
  console.log('| model | task | image | floor ms | samlite ms | of which decoding the image | peer ms | masks | samlite / floor | target | met | load |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(`| ${r.model} | ${r.task} | ${r.image} | ${r.floorMs} | ${r.samliteMs} | ${r.decodeMs} | ${r.peerMs} | ${r.records} | ${r.ratio} | <= ${r.target} | ${r.met ? 'yes' : 'NO'} | ${r.load.join('-')} |`);
  }
}
