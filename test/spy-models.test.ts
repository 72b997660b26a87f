/**
 * The spy and broken models the adapter tests load: they must follow the contracts (names,
 * dtypes, ranks, output order), echo their inputs, and render the documented row pattern.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SPY_EFFICIENTSAM_LOW_RES_OUTPUT,
  SPY_IOU,
  SPY_LOGIT,
  spyForegroundRows,
  spyModelCatalog,
  writeSpyModels,
} from '../scripts/onnx/spy-models.js';
import { REAL_GRAPHS } from '../scripts/onnx/real-graphs.js';

let dir: string;
let paths: Record<string, string>;
const open = (file: string) => ort.InferenceSession.create(paths[file]);
const meta = (list: readonly ort.InferenceSession.ValueMetadata[]) =>
  Object.fromEntries(list.map((m) => [m.name, m.isTensor ? { type: m.type, shape: m.shape } : null]));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'samlite-spy-'));
  paths = writeSpyModels(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Checks mask i of a [.., k, H, W] logits tensor against the documented row pattern. */
function expectRowPattern(t: ort.Tensor, k: number): void {
  const [h, w] = t.dims.slice(-2) as number[];
  const data = t.data as Float32Array;
  for (let i = 0; i < k; i++) {
    const rows = spyForegroundRows(i, k, h);
    for (let r = 0; r < h; r++) {
      const expected = r < rows ? SPY_LOGIT : -SPY_LOGIT;
      expect(data[i * h * w + r * w], `mask ${i} row ${r}`).toBe(expected);
      expect(data[i * h * w + r * w + w - 1]).toBe(expected);
    }
  }
}

describe('spy models', () => {
  it('writes every catalogued file', () => {
    expect(Object.keys(paths).sort()).toEqual(Object.keys(spyModelCatalog()).sort());
  });

  it('foreground row counts grow with the index and reveal orientation', () => {
    expect([0, 1, 2, 3].map((i) => spyForegroundRows(i, 4, 100))).toEqual([20, 40, 60, 80]);
    expect([0, 1, 2].map((i) => spyForegroundRows(i, 3, 7))).toEqual([2, 3, 5]);
    expect(spyForegroundRows(0, 1, 5)).toBe(2);
  });

  it('encoders follow their contracts and echo their input', async () => {
    const cases = [
      { file: 'spy-efficientsam-encoder.onnx', real: 'efficientsam-encoder', dims: [1, 3, 5, 7], extra: ['echo_stretched'] },
      { file: 'spy-mobilesam-encoder.onnx', real: 'mobilesam-encoder', dims: [6, 4, 3], extra: [] },
      { file: 'spy-sam-vit-b-encoder.onnx', real: 'sam-vit-b-encoder', dims: [1, 3, 1024, 1024], extra: [] },
    ] as const;
    for (const c of cases) {
      const s = await open(c.file);
      const real = REAL_GRAPHS[c.real];
      const input = real.inputs[0].name;
      expect(s.inputNames).toEqual([input]);
      expect(s.outputNames).toEqual(['image_embeddings', `echo_${input}`, ...c.extra]);
      expect(meta(s.inputMetadata)[input]).toEqual({ type: 'float32', shape: real.inputs[0].dims });
      expect(meta(s.outputMetadata).image_embeddings).toEqual({ type: 'float32', shape: real.outputs[0].dims });
      const dims: number[] = [...c.dims];
      const n = dims.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, (_, i) => (i % 10) / 10);
      const out = await s.run({ [input]: new ort.Tensor('float32', data, dims) });
      expect(out[`echo_${input}`].dims).toEqual(dims);
      const echo = out[`echo_${input}`].data as Float32Array;
      // Byte comparison: deep-equality on 3M elements is slow.
      expect(Buffer.compare(Buffer.from(echo.buffer, echo.byteOffset, echo.byteLength), Buffer.from(data.buffer))).toBe(0);
      const mean = data.reduce((a, b) => a + b, 0) / n;
      const emb = out.image_embeddings.data as Float32Array;
      expect(out.image_embeddings.dims).toEqual([1, 256, 64, 64]);
      expect(emb[0]).toBeCloseTo(mean, 5);
      expect(emb[emb.length - 1]).toBe(emb[0]);
      await s.release();
    }
  });

  it('the EfficientSAM decoder follows the contract, echoes, and renders H x W', async () => {
    const s = await open('spy-efficientsam-decoder.onnx');
    expect(s.inputNames).toEqual(['image_embeddings', 'batched_point_coords', 'batched_point_labels', 'orig_im_size']);
    expect(s.outputNames.slice(0, 3)).toEqual(['output_masks', 'iou_predictions', SPY_EFFICIENTSAM_LOW_RES_OUTPUT]);
    expect(SPY_EFFICIENTSAM_LOW_RES_OUTPUT).toBe('onnx::Shape_1830');
    expect(meta(s.inputMetadata).orig_im_size).toEqual({ type: 'int64', shape: [2] });
    const coords = new Float32Array([3, 4, 10, 20]);
    const labels = new Float32Array([2, 3]);
    const out = await s.run({
      image_embeddings: new ort.Tensor('float32', new Float32Array(256 * 64 * 64).fill(0.25), [1, 256, 64, 64]),
      batched_point_coords: new ort.Tensor('float32', coords, [1, 1, 2, 2]),
      batched_point_labels: new ort.Tensor('float32', labels, [1, 1, 2]),
      orig_im_size: new ort.Tensor('int64', new BigInt64Array([30n, 50n]), [2]),
    });
    expect(out.output_masks.dims).toEqual([1, 1, 3, 30, 50]);
    expectRowPattern(out.output_masks, 3);
    expect(out[SPY_EFFICIENTSAM_LOW_RES_OUTPUT].dims).toEqual([1, 3, 256, 256]);
    expectRowPattern(out[SPY_EFFICIENTSAM_LOW_RES_OUTPUT], 3);
    expect(Array.from(out.iou_predictions.data as Float32Array)).toEqual(SPY_IOU.efficientsam.map(Math.fround));
    expect(out.echo_batched_point_coords.data).toEqual(coords);
    expect(out.echo_batched_point_labels.data).toEqual(labels);
    expect(out.echo_orig_im_size.data).toEqual(new BigInt64Array([30n, 50n]));
    expect((out.echo_image_embeddings.data as Float32Array)[123]).toBe(0.25);
  });

  it.each([
    { file: 'spy-sam-decoder-4.onnx', k: 4, iou: SPY_IOU.sam4 },
    { file: 'spy-sam-decoder-1.onnx', k: 1, iou: SPY_IOU.sam1 },
  ])('the SAM decoder with $k mask(s) follows the contract, echoes, and renders H x W', async ({ file, k, iou }) => {
    const s = await open(file);
    expect(s.inputNames).toEqual(['image_embeddings', 'point_coords', 'point_labels', 'mask_input', 'has_mask_input', 'orig_im_size']);
    expect(s.outputNames.slice(0, 3)).toEqual(['masks', 'iou_predictions', 'low_res_masks']);
    expect(meta(s.inputMetadata).orig_im_size).toEqual({ type: 'float32', shape: [2] });
    const real = REAL_GRAPHS[k === 1 ? 'sam-vit-b-decoder' : 'mobilesam-decoder'];
    expect(meta(s.outputMetadata).low_res_masks).toEqual({ type: 'float32', shape: real.outputs[2].dims });
    const coords = new Float32Array([100, 200, 0, 0]);
    const labels = new Float32Array([1, -1]);
    const out = await s.run({
      image_embeddings: new ort.Tensor('float32', new Float32Array(256 * 64 * 64), [1, 256, 64, 64]),
      point_coords: new ort.Tensor('float32', coords, [1, 2, 2]),
      point_labels: new ort.Tensor('float32', labels, [1, 2]),
      mask_input: new ort.Tensor('float32', new Float32Array(256 * 256), [1, 1, 256, 256]),
      has_mask_input: new ort.Tensor('float32', new Float32Array([0]), [1]),
      orig_im_size: new ort.Tensor('float32', new Float32Array([41, 17]), [2]),
    });
    expect(out.masks.dims).toEqual([1, k, 41, 17]);
    expectRowPattern(out.masks, k);
    expectRowPattern(out.low_res_masks, k);
    expect(Array.from(out.iou_predictions.data as Float32Array)).toEqual(iou.map(Math.fround));
    expect(out.echo_point_coords.data).toEqual(coords);
    expect(out.echo_point_labels.data).toEqual(labels);
    expect(out.echo_orig_im_size.data).toEqual(new Float32Array([41, 17]));
    expect(out.echo_has_mask_input.data).toEqual(new Float32Array([0]));
    expect(out.echo_mask_input.dims).toEqual([1, 1, 256, 256]);
  });

  it('broken models load, and each breaks exactly its contract fact', async () => {
    const esam = await open('broken-efficientsam-decoder-float-size.onnx');
    expect(meta(esam.inputMetadata).orig_im_size).toEqual({ type: 'float32', shape: [2] });
    const noHas = await open('broken-sam-decoder-no-has-mask-input.onnx');
    expect(noHas.inputNames).toEqual(['image_embeddings', 'point_coords', 'point_labels', 'mask_input', 'orig_im_size']);
    const two = await open('broken-sam-decoder-2-masks.onnx');
    expect(meta(two.outputMetadata).masks).toEqual({ type: 'float32', shape: [1, 2, 'H', 'W'] });
    expect(meta(two.outputMetadata).iou_predictions).toEqual({ type: 'float32', shape: [1, 2] });
    for (const file of ['broken-mobilesam-encoder-32.onnx', 'broken-sam-vit-b-encoder-32.onnx']) {
      const enc = await open(file);
      expect(meta(enc.outputMetadata).image_embeddings).toEqual({ type: 'float32', shape: [1, 256, 32, 32] });
    }
    // Declared as the real file (symbolic H, W), so only a run shows the wrong size.
    const esamEnc = await open('broken-efficientsam-encoder-32.onnx');
    expect(meta(esamEnc.outputMetadata).image_embeddings).toEqual({ type: 'float32', shape: REAL_GRAPHS['efficientsam-encoder'].outputs[0].dims });
    const ran = await esamEnc.run({ batched_images: new ort.Tensor('float32', new Float32Array(12), [1, 3, 2, 2]) });
    expect(ran.image_embeddings.dims).toEqual([1, 256, 32, 32]);
    const symbolic = await open('spy-sam-decoder-1-symbolic.onnx');
    expect(meta(symbolic.outputMetadata).iou_predictions).toEqual({ type: 'float32', shape: ['Unsqueezeiou_predictions_dim_0', 'num_masks'] });
  });

  it.each(Object.keys(REAL_GRAPHS) as (keyof typeof REAL_GRAPHS)[])(
    'mirror-%s.onnx has exactly the real file\'s inputs and outputs',
    async (name) => {
      const s = await open(`mirror-${name}.onnx`);
      const sig = (list: readonly ort.InferenceSession.ValueMetadata[]) =>
        list.map((m) => (m.isTensor ? { name: m.name, type: m.type, dims: m.shape } : { name: m.name }));
      expect({ inputs: sig(s.inputMetadata), outputs: sig(s.outputMetadata) }).toEqual(REAL_GRAPHS[name]);
      await s.release();
    },
  );
});
