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
import { Segmenter } from '../src/segmenter.js';
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

const LAYOUTS: { name: string; family: FamilyName; k: number; best: { click: number; box: number } }[] = [
  // EfficientSAM: 3 unsorted masks, the highest predicted IoU wins whatever the prompt.
  { name: 'efficientsam', family: 'efficientsam', k: 3, best: { click: 1, box: 1 } },
  // MobileSAM's multi-mask export: a click takes the best of 1..3, a box mask 0.
  { name: 'mobilesam', family: 'sam', k: 4, best: { click: 2, box: 0 } },
  // SAM ViT-B's single-mask export: one mask, chosen inside the graph.
  { name: 'sam-vit-b', family: 'sam', k: 1, best: { click: 0, box: 0 } },
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
      const rows = spyForegroundRows(click.best.index, layout.k, img.height);
      expect(click.best.mask.data.subarray(0, rows * img.width).every((v) => v === 1)).toBe(true);
      expect(click.best.mask.data.subarray(rows * img.width).every((v) => v === 0)).toBe(true);
      expect(click.masks.length).toBe(layout.k === 4 ? 3 : layout.k);
      const box = await seg.segment(img, { box: { x1: 5, y1: 5, x2: 50, y2: 40 } });
      expect(box.best.index).toBe(layout.best.box);
    }
    await seg.close();
  });

  it('runs segment-everything', async () => {
    const seg = await Segmenter.open(model(layout));
    const { records, stats } = (await seg.everything(image(160, 120), { pointsPerSide: 4 })) as EverythingResult;
    // Every grid point gets the same row-pattern masks: one survives NMS per passing index.
    const iou = layout.k === 3 ? SPY_IOU.efficientsam : layout.k === 4 ? SPY_IOU.sam4.slice(1) : SPY_IOU.sam1;
    expect(records).toHaveLength(iou.filter((v) => v > 0.88).length);
    expect(stats.counts.candidates).toBe(16 * (layout.k === 4 ? 3 : layout.k));
    await seg.close();
  });

  it('is accepted by the CLI through a manifest (models info, segment)', async () => {
    const m = model(layout);
    const manifest = join(dir, `${m.name}.json`);
    writeFileSync(manifest, JSON.stringify({ name: m.name, family: m.family, files: { encoder: { path: m.files.encoder }, decoder: { path: m.files.decoder } } }));
    const env = { SAMLITE_HOME: join(dir, 'store') };
    const info = await runSamlite(['models', 'info', manifest, '--json'], { cwd: dir, env });
    expect(info.code).toBe(0);
    expect(info.stdout).toContain(layout.name === 'efficientsam' ? 'onnx::Shape_1830' : 'low_res_masks');
    const out = join(dir, `out-${layout.name}`);
    const run = await runSamlite(['segment', fixturePath('landscape.png'), '--point', '10,10', '--model', manifest, '--out', out, '--no-cache', '--json'], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim()).width).toBe(320);
  });
});
