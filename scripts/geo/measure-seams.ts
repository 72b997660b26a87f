/**
 * Seam-merge agreement, measured: on generated scenes with shapes across the seams and at
 * the corners of the tiles, segment each raster whole (one tile) and tiled, and count
 *
 * - agreement: the whole-image run's objects that the tiled run has whole (IoU >= 0.9);
 * - shapes: the scene's shapes (and background) the tiled run has whole (IoU >= 0.9);
 * - spurious: tiled objects matching neither a whole-image object nor a shape (IoU < 0.5);
 * - objects: how many each run gave, and the run without the seam merge (every tile mask
 *   its own object: pieces and duplicates), for contrast.
 *
 *   npx tsx scripts/geo/measure-seams.ts [--models builtin,builtin-fastsam] [--seeds 10]
 *        [--size 1100x800] [--tile 512] [--overlap 64] [--fast]
 *
 * A development measurement for docs/_incoming/geo.md; npm test checks one scene.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runGeoEverything, type GeoRunSettings } from '../../src/geo/run.js';
import { planTiles } from '../../src/geo/tiling.js';
import { Segmenter } from '../../src/segmenter/segmenter.js';
import { chooseModel } from '../../src/store/resolve.js';
import { pixelIou } from '../../src/masks/iou.js';
import { geoTagsFor, geoTagsToWrite, mapToPixel, type GeoTransform } from '../../src/geo/georef.js';
import { TiledTiffWriter } from '../../src/geo/tiff-writer.js';
import { seamScene } from '../fixtures/seam-scene.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'builtin,builtin-efficientsam,builtin-fastsam' },
    seeds: { type: 'string', default: '10' },
    size: { type: 'string', default: '1100x800' },
    tile: { type: 'string', default: '512' },
    overlap: { type: 'string', default: '64' },
    fast: { type: 'boolean', default: false },
    'min-size': { type: 'string', default: '80' },
    'max-size': { type: 'string', default: '260' },
    grid: { type: 'string' },
  },
});
const [W, H] = values.size!.split('x').map(Number);
const tile = Number(values.tile);
const overlap = Number(values.overlap);
const T: GeoTransform = [500000, 0.5, 0, 5200000, 0, -0.5];
const dir = mkdtempSync(join(tmpdir(), 'samlite-seams-'));

/** Even-odd fill at pixel centres of rings given in map coordinates. */
function fill(rings: number[][][]): Uint8Array {
  const out = new Uint8Array(W * H);
  const px = rings.map((r) => r.map(([x, y]) => mapToPixel(T, x, y)));
  for (let y = 0; y < H; y++) {
    const cy = y + 0.5;
    const xs: number[] = [];
    for (const ring of px) {
      for (let i = 0; i < ring.length - 1; i++) {
        const [ax, ay] = ring[i];
        const [bx, by] = ring[i + 1];
        if (ay <= cy !== by <= cy) xs.push(ax + ((cy - ay) * (bx - ax)) / (by - ay));
      }
    }
    xs.sort((a, b) => a - b);
    for (let i = 0; i + 1 < xs.length; i += 2) for (let x = Math.max(0, Math.ceil(xs[i] - 0.5)); x < W && x + 0.5 < xs[i + 1]; x++) out[y * W + x] ^= 1;
  }
  return out;
}

function objects(path: string): Uint8Array[] {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { features: { geometry: { coordinates: number[][][][] } | null }[] };
  return doc.features.map((f) => fill((f.geometry?.coordinates ?? []).flat()));
}

async function run(segmenter: Segmenter, model: string, raster: string, out: string, tiled: boolean, noMerge: boolean): Promise<Uint8Array[]> {
  // FastSAM has no prompt grid: the grid options are not its to take.
  const grid = segmenter.pipeline.family !== 'fastsam';
  const settings: GeoRunSettings = {
    ...(tiled ? { tile, overlap } : {}),
    maxPixels: Infinity,
    stretch: { kind: 'auto' },
    formats: ['geojson'],
    geojsonCrs: 'raster',
    polygonTolerance: 0.3,
    everything: grid ? { ...(values.fast ? { mode: 'fast' as const } : {}), ...(values.grid ? { pointsPerSide: Number(values.grid) } : {}) } : {},
    minArea: null,
    maxArea: null,
    // No merge: a band IoU no pair reaches, and containment no mask reaches.
    ...(noMerge ? { seam: { iou: 2, containment: 2 } } : {}),
    skipExisting: false,
    overwrite: true,
    concurrency: 1,
    outDir: out,
  };
  const quiet = { info() {}, warn() {}, failed: (i: string, m: string) => console.error(i, m), tilesPlanned() {}, tileDone() {}, rasterDone() {} };
  await runGeoEverything([{ path: raster, display: raster, target: { input: raster, outDir: out } }], settings, { name: model }, async () => segmenter, quiet);
  return objects(join(out, 'scene.geojson'));
}

const best = (m: Uint8Array, among: readonly Uint8Array[]) => Math.max(0, ...among.map((o) => pixelIou(m, o)));

for (const model of values.models!.split(',')) {
  const choice = chooseModel(model);
  const segmenter = await Segmenter.open(choice.model, { embeddingCache: false });
  // Keep the session open across runs: runGeoEverything closes what openSegmenter returns.
  const keep = Object.create(segmenter, { close: { value: async () => {} } }) as Segmenter;
  const totals = { whole: 0, agreed: 0, shapes: 0, shapesWhole: 0, spurious: 0, tiled: 0, unmerged: 0, unmergedAgreed: 0, tiles: 0, ms: 0 };
  for (let seed = 1; seed <= Number(values.seeds); seed++) {
    const plan = planTiles(W, H, tile, overlap);
    const scene = seamScene(plan, seed, { minSize: Number(values['min-size']), maxSize: Number(values['max-size']) });
    const raster = join(dir, 'scene.tif');
    const writer = await TiledTiffWriter.create(raster, { width: W, height: H, samples: 3, sampleType: 'uint8', tileSize: 256, photometric: 'rgb', tags: geoTagsToWrite(geoTagsFor(T, 32633)) });
    for (let ty = 0; ty < writer.tilesDown; ty++) {
      for (let tx = 0; tx < writer.tilesAcross; tx++) {
        const t = new Uint8Array(256 * 256 * 3);
        for (let y = 0; y < 256 && ty * 256 + y < H; y++) {
          const x0 = tx * 256;
          const w = Math.min(256, W - x0);
          t.set(scene.image.data.subarray(((ty * 256 + y) * W + x0) * 3, ((ty * 256 + y) * W + x0 + w) * 3), y * 256 * 3);
        }
        await writer.writeTile(tx, ty, t);
      }
    }
    await writer.close();
    const whole = await run(keep, model, raster, join(dir, 'whole'), false, false);
    const started = Date.now();
    const tiled = await run(keep, model, raster, join(dir, 'tiled'), true, false);
    totals.ms += Date.now() - started;
    totals.tiles += plan.rows * plan.cols;
    const unmerged = await run(keep, model, raster, join(dir, 'unmerged'), true, true);
    const regions = [scene.background, ...scene.shapes].map((r) => r.mask.data);
    totals.whole += whole.length;
    totals.agreed += whole.filter((m) => best(m, tiled) >= 0.9).length;
    totals.unmergedAgreed += whole.filter((m) => best(m, unmerged) >= 0.9).length;
    totals.shapes += regions.length;
    totals.shapesWhole += regions.filter((m) => best(m, tiled) >= 0.9).length;
    totals.spurious += tiled.filter((m) => best(m, whole) < 0.5 && best(m, regions) < 0.5).length;
    totals.tiled += tiled.length;
    totals.unmerged += unmerged.length;
    process.stderr.write(`${model} seed ${seed}: whole ${whole.length}, tiled ${tiled.length}, unmerged ${unmerged.length}\n`);
  }
  await segmenter.close();
  const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)} %`;
  console.log(
    JSON.stringify({
      model,
      mode: model.includes('fastsam') ? 'one pass' : `${values.fast ? 'fast' : 'faithful'}${values.grid ? `, grid ${values.grid}` : ''}`,
      scenes: Number(values.seeds),
      size: `${W}x${H}`,
      tile,
      overlap,
      agreement: `${totals.agreed}/${totals.whole} (${pct(totals.agreed, totals.whole)})`,
      shapesWhole: `${totals.shapesWhole}/${totals.shapes} (${pct(totals.shapesWhole, totals.shapes)})`,
      spurious: totals.spurious,
      objects: { shapes: totals.shapes, whole: totals.whole, tiled: totals.tiled, withoutMerge: totals.unmerged },
      agreementWithoutMerge: `${totals.unmergedAgreed}/${totals.whole} (${pct(totals.unmergedAgreed, totals.whole)})`,
      tilesPerSecond: +((totals.tiles * 1000) / totals.ms).toFixed(2),
    }),
  );
}
rmSync(dir, { recursive: true, force: true });
