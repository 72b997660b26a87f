/**
 * The published exports' metadata, as onnxruntime reports it for the real files (every
 * symbolic dim, the exporter-named third output, mask counts left symbolic), reproduced by
 * the mirror models: samlite must load and run each layout through the whole pipeline.
 * The rebuilt real graphs themselves are checked by `npm run conformance`
 * (docs/conformance.md); these keep a regression from reaching CI without torch.
 */
import type { EverythingResult } from '../src/everything/generator.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPY_IOU, spyForegroundRows, writeSpyModels } from '../scripts/onnx/spy-models.js';
import type { FamilyName } from '../src/families/types.js';
import type { RgbImage } from '../src/image/types.js';
import { Segmenter } from '../src/segmenter/segmenter.js';
import { fixturePath } from '../scripts/fixtures/index.js';
import { assertBuilt, runSamlite } from './helpers/run-cli.js';

let dir: string;
let files: Record<string, string>;

beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'samlite-mirrors-'));
  files = writeSpyModels(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LAYOUTS: { name: string; family: FamilyName; k: number; best: { click: number; box: number }; iou: readonly number[]; infoShows: string }[] = [
  // EfficientSAM: 3 unsorted masks, the highest predicted IoU wins whatever the prompt.
  { name: 'efficientsam', family: 'efficientsam', k: 3, best: { click: 1, box: 1 }, iou: SPY_IOU.efficientsam, infoShows: 'onnx::Shape_1830' },
  // MobileSAM's multi-mask export: a click takes the best of 1..3, a box mask 0.
  { name: 'mobilesam', family: 'sam', k: 4, best: { click: 2, box: 0 }, iou: SPY_IOU.sam4.slice(1), infoShows: 'low_res_masks' },
  // SAM ViT-B's single-mask export: one mask, chosen inside the graph.
  { name: 'sam-vit-b', family: 'sam', k: 1, best: { click: 0, box: 0 }, iou: SPY_IOU.sam1, infoShows: 'low_res_masks' },
  // SAM 2.1 as osam ships it: all 4 tokens; a click takes the best of 1..3, a box the stable token 0.
  { name: 'sam2', family: 'sam2', k: 4, best: { click: 2, box: 0 }, iou: SPY_IOU.sam2.slice(1), infoShows: 'high_res_features1' },
  // samexporter's SAM 2.1: only the multi-mask tokens, at 256x256; the best of them answers.
  { name: 'sam2-samexporter', family: 'sam2', k: 3, best: { click: 1, box: 1 }, iou: SPY_IOU.sam2Samexporter, infoShows: 'high_res_feats_0' },
];

function image(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 256;
  return { width, height, data };
}

const model = (layout: (typeof LAYOUTS)[number]) => ({
  name: `mirror-${layout.name}`,
  family: layout.family,
  files: { encoder: files[`mirror-${layout.name}-encoder.onnx`], decoder: files[`mirror-${layout.name}-decoder.onnx`] },
});

describe.each(LAYOUTS)('the real $name layout', (layout) => {
  it('segments clicks and boxes at full and grid render sizes, with every candidate', async () => {
    const seg = await Segmenter.open(model(layout));
    // 1200x900 renders through the decoder's mask grid; 90x60 at full size.
    for (const img of [image(1200, 900), image(90, 60)]) {
      const click = await seg.segment(img, { points: [{ x: 10, y: 10 }] }, { multimask: true });
      expect(click.best.index).toBe(layout.best.click);
      expect(click.best.mask.width).toBe(img.width);
      expect(click.best.mask.height).toBe(img.height);
      // A render at a 256-row grid puts the spy's edge on the grid's rows: within a row of
      // the full-size pattern's edge when 256 does not divide into k + 1 bands (SAM 2's 4).
      const rows = spyForegroundRows(click.best.index, layout.k, img.height);
      const data = click.best.mask.data;
      const filled = data.findIndex((v) => v === 0) / img.width;
      expect(Number.isInteger(filled)).toBe(true);
      expect(Math.abs(filled - rows)).toBeLessThanOrEqual(1);
      expect(data.subarray(0, filled * img.width).every((v) => v === 1)).toBe(true);
      expect(data.subarray(filled * img.width).every((v) => v === 0)).toBe(true);
      expect(click.masks.length).toBe(layout.k === 4 ? 3 : layout.k);
      const box = await seg.segment(img, { box: { x1: 5, y1: 5, x2: 50, y2: 40 } });
      expect(box.best.index).toBe(layout.best.box);
    }
    await seg.close();
  });

  it('runs segment-everything', async () => {
    const seg = await Segmenter.open(model(layout));
    const { records, stats } = (await seg.everything(image(160, 120), { pointsPerSide: 4 })) as EverythingResult;
    // Every grid point gets the same row-pattern masks: NMS keeps at most one per index that
    // passes the predicted-IoU filter (the decoders' scores are float32: 0.8 passes 0.8).
    const passing = layout.iou.filter((v) => Math.fround(v) > stats.options.predIouThresh).length;
    expect(stats.counts.afterPredIou).toBe(16 * passing);
    expect(records.length).toBeGreaterThan(0);
    expect(records.length).toBeLessThanOrEqual(passing);
    expect(stats.counts.candidates).toBe(16 * layout.iou.length);
    await seg.close();
  });

  it('is accepted by the CLI through a manifest (models info, segment)', async () => {
    const m = model(layout);
    const manifest = join(dir, `${m.name}.json`);
    writeFileSync(manifest, JSON.stringify({ name: m.name, family: m.family, files: { encoder: { path: m.files.encoder }, decoder: { path: m.files.decoder } } }));
    const env = { SAMLITE_HOME: join(dir, 'store') };
    const info = await runSamlite(['models', 'info', manifest, '--json'], { cwd: dir, env });
    expect(info.code).toBe(0);
    expect(info.stdout).toContain(layout.infoShows);
    const out = join(dir, `out-${layout.name}`);
    const run = await runSamlite(['segment', fixturePath('landscape.png'), '--point', '10,10', '--model', manifest, '--out', out, '--no-cache', '--json'], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim()).width).toBe(320);
  });
});
