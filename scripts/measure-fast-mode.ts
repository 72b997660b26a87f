/**
 * Fast segment-everything mode against the faithful one, measured: decoder runs, wall time,
 * speed-up, the share of faithful masks the fast mode recovers (a fast mask with IoU >= 0.9)
 * and the share of ground-truth shapes each mode finds, with both built-in models over
 * generated scenes: random occluding shapes and nested stacks (a shape inside a shape inside
 * a shape, inner colours from near-identical to far from the outer one, so the models'
 * finer and coarser candidates differ the way sub-part, part and whole do).
 *
 *   npx tsx scripts/measure-fast-mode.ts [--sizes 320x240,640x480,1024x768] [--seeds 1,2,3]
 *                                        [--grids 16,32] [--models builtin,builtin-efficientsam]
 *                                        [--kinds random,nested] [--crop-layers 0] [--min-region-area 0] [--verbose]
 *
 * The library half (scenes, comparison) is exported for tests and benchmarks.
 */
import { pathToFileURL } from 'node:url';
import { generateMasks, type EverythingResult, type GenerateMasksOptions } from '../src/everything/generator.js';
import { openFamilyAdapter } from '../src/families/index.js';
import type { FamilyAdapter, PromptFamilyName } from '../src/families/types.js';
import type { RgbImage } from '../src/image/types.js';
import { pixelIou } from '../src/masks/iou.js';
import type { MaskRecord } from '../src/masks/record.js';
import { rleToMask } from '../src/masks/rle.js';
import { colorDistance, type Rgb } from './fixtures/colors.js';
import type { Geometry } from './fixtures/geometry.js';
import { createRng, type Rng } from './fixtures/prng.js';
import { makeScene, type Scene, type ShapeSpec } from './fixtures/scene.js';

/** The built-in models, one per family contract, as files in the repository. */
export const BUILTIN_MODELS: readonly { readonly name: string; readonly family: PromptFamilyName; readonly base: string }[] = [
  { name: 'builtin', family: 'sam', base: 'builtin-sam' },
  { name: 'builtin-efficientsam', family: 'efficientsam', base: 'builtin-efficientsam' },
];

/** Open a built-in model straight from models/builtin (no store, no worker). */
export function openBuiltin(name: string): Promise<FamilyAdapter> {
  const m = BUILTIN_MODELS.find((b) => b.name === name);
  if (!m) throw new Error(`not a built-in model: ${name}`);
  return openFamilyAdapter({
    name: m.name,
    family: m.family,
    files: { encoder: `models/builtin/${m.base}-encoder.onnx`, decoder: `models/builtin/${m.base}-decoder.onnx` },
  });
}

/** Inner colour at about `distance` from `outer` in a random direction (clamped to the cube, so at most that far). */
function nearColor(rng: Rng, outer: Rgb, distance: number): Rgb {
  for (let attempt = 0; attempt < 100; attempt++) {
    const v = [rng.range(-1, 1), rng.range(-1, 1), rng.range(-1, 1)];
    const len = Math.hypot(...v) || 1;
    const c = outer.map((o, i) => Math.round(Math.min(255, Math.max(0, o + (v[i] / len) * distance)))) as unknown as Rgb;
    // Clamping can pull a colour almost onto the outer one; a pair under 10 apart would be
    // one region to any colour segmenter and no longer a nested object.
    if (colorDistance(c, outer) >= Math.min(10, distance * 0.8)) return c;
  }
  return outer.map((o) => (o > 127 ? o - distance : o + distance)) as unknown as Rgb;
}

/** Inner colour distances of nested shapes: merging at the models' medium, coarse, coarsest or no tolerance. */
const NEST_DISTANCES = [16, 36, 64, 120];

/** A shape inside the axis-aligned box [x, y, w, h], occupying `scale` of it, rect or ellipse. */
function shapeIn(rng: Rng, box: readonly [number, number, number, number], scale: number): { geometry: Geometry; inner: [number, number, number, number] } {
  const [x, y, w, h] = box;
  const sw = w * scale;
  const sh = h * scale;
  const cx = x + w / 2 + rng.range(-0.5, 0.5) * (w - sw);
  const cy = y + h / 2 + rng.range(-0.5, 0.5) * (h - sh);
  if (rng.next() < 0.5) {
    const g: Geometry = { kind: 'rect', x: Math.round(cx - sw / 2), y: Math.round(cy - sh / 2), width: Math.round(sw), height: Math.round(sh) };
    return { geometry: g, inner: [g.x, g.y, g.width, g.height] };
  }
  const rx = sw / 2;
  const ry = sh / 2;
  // The largest box inside an axis-aligned ellipse: half-sides r / sqrt(2).
  return { geometry: { kind: 'ellipse', cx, cy, rx, ry, angle: 0 }, inner: [cx - rx / Math.SQRT2, cy - ry / Math.SQRT2, rx * Math.SQRT2, ry * Math.SQRT2] };
}

/**
 * A scene of nested stacks: the image is cut into a grid of cells, each holding one to
 * three shapes each inside the last (an object, a part, a sub-part), inner colours at one of
 * {@link NEST_DISTANCES} from their container, plus two shapes drawn on top across cells.
 * Deterministic per seed; a layout that breaks the scene rules is redrawn.
 */
export function nestedScene(width: number, height: number, seed: number): Scene {
  const rng = createRng(seed * 7919 + 17);
  const cols = width >= 800 ? 5 : 4;
  const rows = width >= 800 ? 4 : 3;
  for (let attempt = 0; attempt < 50; attempt++) {
    const background: Rgb = [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)];
    const shapes: ShapeSpec[] = [];
    const cw = width / cols;
    const ch = height / rows;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const depth = rng.int(1, 3);
        let box: [number, number, number, number] = [c * cw + 2, r * ch + 2, cw - 4, ch - 4];
        let color: Rgb = [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)];
        for (let d = 0; d < depth; d++) {
          if (d > 0) color = nearColor(rng, color, rng.pick(NEST_DISTANCES));
          else if (colorDistance(color, background) < 40) color = nearColor(rng, background, 120);
          const s = shapeIn(rng, box, d === 0 ? rng.range(0.6, 0.92) : rng.range(0.35, 0.6));
          shapes.push({ ...s.geometry, color });
          box = s.inner;
        }
      }
    }
    for (let k = 0; k < 2; k++) {
      const rx = rng.range(0.06, 0.12) * width;
      const ry = rng.range(0.06, 0.12) * height;
      shapes.push({ kind: 'ellipse', cx: rng.range(0.15, 0.85) * width, cy: rng.range(0.15, 0.85) * height, rx, ry, angle: rng.range(0, 180), color: [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)] });
    }
    try {
      return makeScene({ width, height, seed, shapes, background });
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      // A shape split or hidden by an occluder: draw the layout again.
    }
  }
  throw new RangeError(`nestedScene: no valid layout for ${width}x${height} seed ${seed}`);
}

/** A scene of `kind` at a size: random occluding shapes (more on larger images) or nested stacks. */
export function measurementScene(kind: 'random' | 'nested', width: number, height: number, seed: number): Scene {
  if (kind === 'nested') return nestedScene(width, height, seed);
  const shapes = width >= 1000 ? 16 : width >= 600 ? 12 : 8;
  return makeScene({ width, height, seed, shapes, minSize: Math.round(Math.min(width, height) * 0.08), maxSize: Math.round(Math.min(width, height) * 0.4) });
}

/** How many of `reference`'s masks have a mask in `other` with IoU >= `threshold`. */
export function recoveredCount(reference: readonly MaskRecord[], other: readonly MaskRecord[], threshold = 0.9): number {
  const others = other.map((r) => rleToMask(r.rle).data);
  let n = 0;
  for (const r of reference) {
    const m = rleToMask(r.rle).data;
    if (others.some((o) => pixelIou(m, o) >= threshold)) n++;
  }
  return n;
}

/** Ground-truth regions of `scene` (shapes and background) matched by a record at IoU >= 0.9. */
export function foundRegions(scene: Scene, records: readonly MaskRecord[]): number {
  const masks = records.map((r) => rleToMask(r.rle).data);
  return [...scene.shapes, scene.background].filter((g) => masks.some((m) => pixelIou(m, g.mask.data) >= 0.9)).length;
}

/** One image, both modes. */
export interface ModeComparison {
  readonly faithful: EverythingResult;
  readonly fast: EverythingResult;
  readonly faithfulMs: number;
  readonly fastMs: number;
  /** Faithful masks with a fast mask at IoU >= 0.9. */
  readonly recovered: number;
}

/**
 * Run `image` through the faithful and the fast mode with the same other options and
 * compare: the call a benchmark or test needs. Faithful runs first; times are wall clock.
 */
export async function compareModes(adapter: FamilyAdapter, image: RgbImage, options: Omit<GenerateMasksOptions, 'mode'> = {}): Promise<ModeComparison> {
  let t = performance.now();
  const faithful = await generateMasks(adapter, image, { ...options, mode: 'faithful' });
  const faithfulMs = performance.now() - t;
  t = performance.now();
  const fast = await generateMasks(adapter, image, { ...options, mode: 'fast' });
  const fastMs = performance.now() - t;
  return { faithful, fast, faithfulMs, fastMs, recovered: recoveredCount(faithful.records, fast.records) };
}

interface Row {
  model: string;
  kind: string;
  size: string;
  grid: number;
  images: number;
  runs: [number, number];
  ms: [number, number];
  masks: [number, number];
  recovered: number;
  regions: number;
  found: [number, number];
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const pct = (a: number, b: number) => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)} %`);

async function main(): Promise<void> {
  const sizes = arg('sizes', '320x240,640x480,1024x768').split(',').map((s) => s.split('x').map(Number) as [number, number]);
  const seeds = arg('seeds', '1,2,3').split(',').map(Number);
  const grids = arg('grids', '16,32').split(',').map(Number);
  const models = arg('models', BUILTIN_MODELS.map((m) => m.name).join(',')).split(',');
  const kinds = arg('kinds', 'random,nested').split(',') as ('random' | 'nested')[];
  const verbose = process.argv.includes('--verbose');
  const cropLayers = Number(arg('crop-layers', '0'));
  const minRegionArea = Number(arg('min-region-area', '0'));
  const rows: Row[] = [];
  for (const model of models) {
    const adapter = await openBuiltin(model);
    try {
      // Load the sessions before anything is timed.
      await generateMasks(adapter, makeScene({ width: 64, height: 48, seed: 1 }).image, { pointsPerSide: 2 });
      for (const kind of kinds) {
        for (const [W, H] of sizes) {
          const scenes = seeds.map((seed) => measurementScene(kind, W, H, seed));
          for (const grid of grids) {
            const row: Row = { model, kind, size: `${W}x${H}`, grid, images: 0, runs: [0, 0], ms: [0, 0], masks: [0, 0], recovered: 0, regions: 0, found: [0, 0] };
            for (const scene of scenes) {
              const c = await compareModes(adapter, scene.image, { pointsPerSide: grid, cropLayers, minRegionArea });
              row.images++;
              row.runs[0] += c.faithful.stats.decoderRuns;
              row.runs[1] += c.fast.stats.decoderRuns;
              row.ms[0] += c.faithfulMs;
              row.ms[1] += c.fastMs;
              row.masks[0] += c.faithful.records.length;
              row.masks[1] += c.fast.records.length;
              row.recovered += c.recovered;
              row.regions += scene.shapes.length + 1;
              row.found[0] += foundRegions(scene, c.faithful.records);
              row.found[1] += foundRegions(scene, c.fast.records);
              if (verbose) {
                console.error(
                  `${model} ${kind} ${W}x${H} seed ${scene.seed} ${grid}x${grid}: runs ${c.faithful.stats.decoderRuns} -> ${c.fast.stats.decoderRuns}, ` +
                    `${c.faithfulMs.toFixed(0)} -> ${c.fastMs.toFixed(0)} ms, masks ${c.faithful.records.length} -> ${c.fast.records.length}, recovered ${c.recovered}`,
                );
              }
            }
            rows.push(row);
          }
        }
      }
    } finally {
      await adapter.dispose();
    }
  }

  console.log(`crop layers ${cropLayers}, min region area ${minRegionArea}; seeds ${seeds.join(',')} per row; times are wall clock on this machine (load ${(await import('node:os')).loadavg()[0].toFixed(1)}), only ratios mean much`);
  console.log('| model | scenes | size | grid | decoder runs faithful → fast | time faithful → fast | speed-up | masks faithful / fast | faithful masks recovered | shapes found faithful / fast |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(
      `| ${r.model} | ${r.kind} | ${r.size} | ${r.grid} | ${r.runs[0]} → ${r.runs[1]} (${(r.runs[0] / r.runs[1]).toFixed(1)}x fewer) | ` +
        `${(r.ms[0] / 1000).toFixed(1)} s → ${(r.ms[1] / 1000).toFixed(2)} s | ${(r.ms[0] / r.ms[1]).toFixed(1)}x | ${r.masks[0]} / ${r.masks[1]} | ` +
        `${pct(r.recovered, r.masks[0])} | ${pct(r.found[0], r.regions)} / ${pct(r.found[1], r.regions)} |`,
    );
  }
  for (const grid of grids) {
    const g = rows.filter((r) => r.grid === grid);
    const sum = (f: (r: Row) => number) => g.reduce((a, r) => a + f(r), 0);
    console.log(
      `all at ${grid}x${grid}: decoder runs ${sum((r) => r.runs[0])} → ${sum((r) => r.runs[1])}, time ${(sum((r) => r.ms[0]) / 1000).toFixed(1)} s → ${(sum((r) => r.ms[1]) / 1000).toFixed(1)} s ` +
        `(${(sum((r) => r.ms[0]) / sum((r) => r.ms[1])).toFixed(1)}x), recovered ${pct(sum((r) => r.recovered), sum((r) => r.masks[0]))} of ${sum((r) => r.masks[0])} faithful masks, ` +
        `shapes found ${pct(sum((r) => r.found[0]), sum((r) => r.regions))} faithful / ${pct(sum((r) => r.found[1]), sum((r) => r.regions))} fast`,
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
