/**
 * How far samlite's segment-everything departs from the reference algorithm, measured.
 *
 * The reference scores every candidate on the decoder's full-resolution logits. samlite
 * asks the decoder for a small render (longest side 256) and measures each candidate on
 * the bilinear upsampling of that render (`scoreResolution: 'full'`, the default) or on the
 * render itself (`'low'`, SAM's ONNX variant). This script decodes the same grid points
 * both ways through the built-in models on generated scenes and compares, per candidate:
 * stability score, filter decision at 0.95, NMS box, and the final mask; then runs the
 * whole generator both ways and compares the record sets.
 *
 *   npx tsx scripts/measure-everything-variants.ts [--sizes 640x480,1280x960] [--seeds 1,2,3] [--grid 16]
 */
import { existsSync } from 'node:fs';
import { generateMasks, type EverythingResult } from '../src/everything/generator.js';
import { boundsAbove, boxFromLogits, boxIou, scaleInclusiveBox, type Xyxy } from '../src/everything/boxes.js';
import { buildPointGrid, scaleGrid } from '../src/everything/grid.js';
import { storeLowRes } from '../src/everything/lowres.js';
import { stabilityScore } from '../src/everything/stability.js';
import { renderSizeFor } from '../src/everything/generator.js';
import { openFamilyAdapter } from '../src/families/index.js';
import type { FamilyAdapter, PromptFamilyName } from '../src/families/types.js';
import { upsampleLogitWindow, upsampledMaskStats, windowMaskToRle } from '../src/masks/resize.js';
import { rleToMask } from '../src/masks/rle.js';
import { makeScene } from './fixtures/scene.js';
import { pixelIou } from '../src/masks/iou.js';

const MODELS: { name: string; family: PromptFamilyName; base: string }[] = [
  { name: 'builtin', family: 'sam', base: 'builtin-sam' },
  { name: 'builtin-efficientsam', family: 'efficientsam', base: 'builtin-efficientsam' },
];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const sizes = arg('sizes', '640x480,1280x960').split(',').map((s) => s.split('x').map(Number) as [number, number]);
const seeds = arg('seeds', '1,2,3').split(',').map(Number);
const grid = Number(arg('grid', '16'));
const THRESH = 0.95;

class Stat {
  private values: number[] = [];
  add(v: number): void {
    if (Number.isFinite(v)) this.values.push(v);
  }
  get n(): number {
    return this.values.length;
  }
  summary(digits = 4): string {
    if (this.values.length === 0) return 'n/a';
    const v = [...this.values].sort((a, b) => a - b);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const q = (p: number) => v[Math.min(v.length - 1, Math.floor(p * v.length))];
    return `mean ${mean.toFixed(digits)}, median ${q(0.5).toFixed(digits)}, p95 ${q(0.95).toFixed(digits)}, max ${v[v.length - 1].toFixed(digits)} (n=${v.length})`;
  }
  lowSummary(digits = 4): string {
    if (this.values.length === 0) return 'n/a';
    const v = [...this.values].sort((a, b) => a - b);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    return `mean ${mean.toFixed(digits)}, p5 ${v[Math.floor(0.05 * v.length)].toFixed(digits)}, min ${v[0].toFixed(digits)} (n=${v.length})`;
  }
}

const maskIou = pixelIou;

async function perCandidate(adapter: FamilyAdapter, model: string) {
  const dUp = new Stat();
  const dLow = new Stat();
  const boxUp = new Stat();
  const boxLow = new Stat();
  const maskUp = new Stat();
  let flipsUp = 0;
  let flipsLow = 0;
  let total = 0;
  let decFull = 0;
  let decLow = 0;
  for (const [W, H] of sizes) {
    for (const seed of seeds) {
      const scene = makeScene({ width: W, height: H, seed });
      const emb = await adapter.encode(scene.image);
      const render = renderSizeFor(W, H, 256);
      const points = scaleGrid(buildPointGrid(grid), W, H);
      for (let k = 0; k < points.length; k += 2) {
        const prompt = { points: [{ x: points[k], y: points[k + 1] }] };
        let t = performance.now();
        const full = await adapter.decode(emb, prompt);
        decFull += performance.now() - t;
        t = performance.now();
        const low = await adapter.decode(emb, prompt, { renderSize: render });
        decLow += performance.now() - t;
        for (const c of full.candidates) {
          if (!(full.iou[c] > 0.88)) continue; // the reference scores only what passes the IoU filter
          total++;
          const sRef = stabilityScore(full.logits[c]);
          const st = upsampledMaskStats(low.logits[c], render.width, render.height, W, H, 0, 1);
          const sUp = st.aboveLow === 0 ? 0 : st.aboveHigh / st.aboveLow;
          const sLow = stabilityScore(low.logits[c]);
          dUp.add(Math.abs(sUp - sRef));
          dLow.add(Math.abs(sLow - sRef));
          if (sUp >= THRESH !== sRef >= THRESH) flipsUp++;
          if (sLow >= THRESH !== sRef >= THRESH) flipsLow++;
          const bRef = boxFromLogits(full.logits[c], W, H);
          const lb = boundsAbove(low.logits[c], render.width, render.height);
          const bLow: Xyxy = lb ? scaleInclusiveBox(lb, render, { width: W, height: H }) : [0, 0, 0, 0];
          boxUp.add(boxIou(bRef, st.box ?? [0, 0, 0, 0]));
          boxLow.add(boxIou(bRef, bLow));
          if (lb) {
            const win = upsampleLogitWindow(storeLowRes(low.logits[c], render, lb, false), W, H);
            const mine = rleToMask(windowMaskToRle(win, W, H)).data;
            const ref = Uint8Array.from(full.logits[c], (v) => (v > 0 ? 1 : 0));
            maskUp.add(maskIou(mine, ref));
          }
        }
      }
    }
  }
  console.log(`\n### ${model}: per candidate (${total} candidates with predicted IoU > 0.88; sizes ${sizes.map((s) => s.join('x')).join(', ')}; seeds ${seeds.join(', ')}; ${grid}x${grid})`);
  console.log(`| measure | upsampled render (default) | render (scoreResolution low) |`);
  console.log(`| --- | --- | --- |`);
  console.log(`| abs. stability difference to full resolution | ${dUp.summary()} | ${dLow.summary()} |`);
  console.log(`| stability >= 0.95 decided differently | ${flipsUp} of ${total} (${((100 * flipsUp) / total).toFixed(2)}%) | ${flipsLow} of ${total} (${((100 * flipsLow) / total).toFixed(2)}%) |`);
  console.log(`| NMS box IoU with the full-resolution box | ${boxUp.lowSummary()} | ${boxLow.lowSummary()} |`);
  console.log(`| final mask IoU with the full-resolution mask | ${maskUp.lowSummary()} | (same masks) |`);
  console.log(`decoder ms per run: full-resolution render ${(decFull / (total ? sizes.length * seeds.length * grid * grid : 1)).toFixed(1)}, 256 render ${(decLow / (sizes.length * seeds.length * grid * grid)).toFixed(1)}`);
}

function compareRuns(a: EverythingResult, b: EverythingResult, W: number, H: number) {
  const ma = a.records.map((r) => rleToMask(r.rle).data);
  const mb = b.records.map((r) => rleToMask(r.rle).data);
  const used = new Set<number>();
  const ious: number[] = [];
  for (const x of ma) {
    let best = -1;
    let bestIou = 0;
    mb.forEach((y, j) => {
      if (used.has(j)) return;
      const v = maskIou(x, y);
      if (v > bestIou) {
        bestIou = v;
        best = j;
      }
    });
    if (best >= 0 && bestIou >= 0.9) {
      used.add(best);
      ious.push(bestIou);
    }
  }
  void W;
  void H;
  return { matched: ious.length, onlyA: ma.length - ious.length, onlyB: mb.length - ious.length, meanIou: ious.reduce((s, v) => s + v, 0) / Math.max(1, ious.length) };
}

async function endToEnd(adapter: FamilyAdapter, model: string) {
  console.log(`\n### ${model}: whole runs (${grid}x${grid}), reference behaviour (lowResSize 'full') vs samlite`);
  console.log('| scene | reference records | default records (matched, only ref, only default, mean IoU) | scoreResolution low (matched, only ref, only low) | time ref / default / low (ms) | peak logits ref / default (MB) |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const [W, H] of sizes) {
    for (const seed of seeds) {
      const scene = makeScene({ width: W, height: H, seed });
      const ref = await generateMasks(adapter, scene.image, { pointsPerSide: grid, lowResSize: 'full' });
      const def = await generateMasks(adapter, scene.image, { pointsPerSide: grid });
      const low = await generateMasks(adapter, scene.image, { pointsPerSide: grid, scoreResolution: 'low' });
      const cd = compareRuns(ref, def, W, H);
      const cl = compareRuns(ref, low, W, H);
      const mb = (r: EverythingResult) => (r.stats.peakLogitBytes / 1048576).toFixed(1);
      console.log(
        `| ${W}x${H} seed ${seed} | ${ref.records.length} | ${def.records.length} (${cd.matched}, ${cd.onlyA}, ${cd.onlyB}, ${cd.meanIou.toFixed(4)}) | ${low.records.length} (${cl.matched}, ${cl.onlyA}, ${cl.onlyB}) | ${ref.stats.timings.totalMs.toFixed(0)} / ${def.stats.timings.totalMs.toFixed(0)} / ${low.stats.timings.totalMs.toFixed(0)} | ${mb(ref)} / ${mb(def)} |`,
      );
    }
  }
}

for (const m of MODELS) {
  const files = { encoder: `models/builtin/${m.base}-encoder.onnx`, decoder: `models/builtin/${m.base}-decoder.onnx` };
  if (!existsSync(files.encoder) || !existsSync(files.decoder)) {
    console.log(`${m.name}: model files missing, skipped`);
    continue;
  }
  const adapter = await openFamilyAdapter({ name: m.name, family: m.family, files });
  await perCandidate(adapter, m.name);
  await endToEnd(adapter, m.name);
  await adapter.dispose();
}
