/**
 * Where samlite spends time on top of the model: each JS-side step of `segment` and of
 * `everything`'s per-candidate stages, timed on its own (median of several runs).
 *
 *   npx tsx bench/profile.ts [image]      default ../shared/photos/truck.jpg (1800x1200)
 *
 * It imports internal modules (the steps are not all public), so it is a development tool
 * that follows the code, not part of the package. Needs the benchmark models
 * (built on first use, a few seconds) for noise-mask figures.
 */
import { existsSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureBenchModels } from '../scripts/bench-models/index.js';
import { makeScene } from '../scripts/fixtures/scene.js';
import { embeddingKey } from '../src/cache/embedding-cache.js';
import { boundsAbove } from '../src/everything/boxes.js';
import { storeLowRes } from '../src/everything/lowres.js';
import { efficientSamEncoderInput } from '../src/families/efficientsam.js';
import { samEncoderInput } from '../src/families/sam.js';
import { encodePng } from '../src/image/encode.js';
import { loadImage } from '../src/image/load.js';
import { resizeRgb } from '../src/image/resize.js';
import type { RgbImage } from '../src/image/types.js';
import { upsampledMaskStats, upsampleLogitWindow, windowMaskToRle } from '../src/masks/resize.js';
import { toCocoRle } from '../src/masks/rle.js';
import { logitsToMask } from '../src/masks/threshold.js';
import { Segmenter } from '../src/segmenter/segmenter.js';
import { chooseModel } from '../src/store/index.js';
import { maskPixels, segmentRecord, writeSegmentOutputs } from '../src/writers/segment.js';
import { resizeLongestSide } from '../src/families/contracts.js';
import { median } from './lib/util.js';

const ROOT = resolve(import.meta.dirname, '..');
const photoPath = process.argv[2] ?? resolve(ROOT, '..', 'shared', 'photos', 'truck.jpg');
const rows: [string, string, string][] = [];

async function time(label: string, runs: number, f: () => unknown, note = ''): Promise<number> {
  await f();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    t.push(performance.now() - t0);
  }
  const m = median(t);
  rows.push([label, m >= 100 ? m.toFixed(0) : m.toFixed(2), note]);
  return m;
}

const tmp = mkdtempSync(join(tmpdir(), 'samlite-profile-'));
try {
  const load0 = loadavg()[0];
  const image: RgbImage = existsSync(photoPath) ? await loadImage(photoPath) : makeScene({ width: 1800, height: 1200, seed: 11 }).image;
  const { width: W, height: H } = image;
  const label = `${W}x${H}`;

  // --- segment: before the encoder ---
  if (existsSync(photoPath)) await time(`loadImage (decode file, ${label})`, 5, () => loadImage(photoPath));
  await time(`resizeRgb ${label} -> 1024x1024 (Pillow-exact, EfficientSAM pre-stretch)`, 5, () => resizeRgb(image, 1024, 1024));
  await time(`EfficientSAM encoder input (resize + planar 0..1 floats)`, 5, () => efficientSamEncoderInput(image));
  const frame = resizeLongestSide(W, H);
  await time(`resizeRgb ${label} -> ${frame.width}x${frame.height} (SAM ResizeLongestSide)`, 5, () => resizeRgb(image, frame.width, frame.height));
  await time(`MobileSAM encoder input (resize + HWC floats)`, 5, () => samEncoderInput(image, 'hwc-resized-1024'));
  await time(`embedding cache key (sha256 of the pixels)`, 5, () => embeddingKey('model', image));

  // --- segment: after the decoder, at full resolution ---
  const full = new Float32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) full[y * W + x] = Math.hypot(x - W / 2, y - H / 2) < H / 3 ? 8 : -8;
  const mask = logitsToMask(full, W, H);
  await time(`logitsToMask (${label} logits -> mask)`, 5, () => logitsToMask(full, W, H));
  await time(`segment JSON record (RLE, bbox, COCO string; built for every format)`, 5, () => segmentRecord('x.jpg', { promptIndex: 0, prompt: { points: [{ x: 1, y: 1 }] }, mask, predictedIou: 0.9 }));
  await time(`mask PNG: pixels + encode`, 5, () => encodePng(maskPixels(mask)));
  await time(`writeSegmentOutputs ['mask'] (all of the above + atomic write)`, 5, () =>
    writeSegmentOutputs(image, { promptIndex: 0, prompt: { points: [{ x: 1, y: 1 }] }, mask, predictedIou: 0.9 }, { input: join(tmp, 'x.jpg'), outDir: tmp }, ['mask'], { overwrite: true }),
  );
  await time(`writeSegmentOutputs ['overlay']`, 3, () =>
    writeSegmentOutputs(image, { promptIndex: 0, prompt: { points: [{ x: 1, y: 1 }] }, mask, predictedIou: 0.9 }, { input: join(tmp, 'x.jpg'), outDir: tmp }, ['overlay'], { overwrite: true }),
  );

  // --- everything: per-candidate stages, real masks (built-in model) vs noise (bench model) ---
  const render = { width: 256, height: Math.round((256 * H) / W) };
  const logitsOf = async (spec: string, points: { x: number; y: number }[]) => {
    const seg = await Segmenter.open(chooseModel(spec).model, { embeddingCache: false });
    try {
      const emb = await seg.embed(image);
      const out: Float32Array[] = [];
      for (const p of points) {
        const d = await seg.adapter.decode(emb, { points: [p] }, { renderSize: render });
        for (const m of d.candidates) out.push(Float32Array.from(d.logits[m]));
      }
      return out;
    } finally {
      await seg.close();
    }
  };
  const points = [0.2, 0.5, 0.8].flatMap((fy) => [0.2, 0.5, 0.8].map((fx) => ({ x: Math.round(W * fx), y: Math.round(H * fy) })));
  const [info] = ensureBenchModels({ pairs: (await import('../scripts/bench-models/index.js')).BENCH_PAIRS.slice(0, 1) });
  const sets = { 'real masks (builtin-efficientsam)': await logitsOf('builtin-efficientsam', points), 'noise (bench-efficientsam-ti)': await logitsOf(info.manifest, points) };
  for (const [name, logits] of Object.entries(sets)) {
    const per = (f: (l: Float32Array) => unknown) => {
      for (const l of logits) f(l);
    };
    for (const [ow, oh] of [[W, H], [4000, 3000]]) {
      const ms = await time(`upsampledMaskStats ${render.width}x${render.height} -> ${ow}x${oh}, ${name}`, 5, () => per((l) => upsampledMaskStats(l, render.width, render.height, ow, oh, 0, 1)));
      rows[rows.length - 1][1] = (ms / logits.length).toFixed(2);
      rows[rows.length - 1][2] = 'per candidate (the stability filter)';
    }
    const ms = await time(`boundsAbove + storeLowRes, ${name}`, 5, () =>
      per((l) => {
        const b = boundsAbove(l, render.width, render.height, 0);
        storeLowRes(l, render, b ?? [0, 0, 0, 0], !b);
      }),
    );
    rows[rows.length - 1][1] = (ms / logits.length).toFixed(2);
    rows[rows.length - 1][2] = 'per candidate passing the filters';
    const stored = logits.map((l) => {
      const b = boundsAbove(l, render.width, render.height, 0);
      return storeLowRes(l, render, b ?? [0, 0, 0, 0], !b);
    });
    for (const [ow, oh] of [[W, H], [4000, 3000]]) {
      const r = await time(`render survivor to RLE at ${ow}x${oh}, ${name}`, 3, () => {
        for (const s of stored) toCocoRle(windowMaskToRle(upsampleLogitWindow(s, ow, oh), ow, oh, 0, 0));
      });
      rows[rows.length - 1][1] = (r / stored.length).toFixed(2);
      rows[rows.length - 1][2] = 'per surviving mask (+ COCO string)';
    }
  }

  const load1 = loadavg()[0];
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(`samlite profile on ${existsSync(photoPath) ? photoPath : 'a generated 1800x1200 scene'} (${label}); load ${load0.toFixed(2)} -> ${load1.toFixed(2)}\n`);
  console.log(`${'step'.padEnd(width)}   ${'ms'.padStart(8)}   note`);
  for (const [l, v, n] of rows) console.log(`${l.padEnd(width)}   ${v.padStart(8)}   ${n}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
