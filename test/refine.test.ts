/**
 * Iterative refinement (SamPredictor's `mask_input`): the SAM family's decoder gets the
 * kept mask's low-resolution logits back with the next click, and steps replay exactly.
 * The spy models echo their inputs (`echo_<input>`) and answer with row patterns, so the
 * tests see what onnxruntime received and which mask was fed back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spyForegroundRows, writeSpyModels } from '../scripts/onnx/spy-models.js';
import { InputError } from '../src/util/errors.js';
import { openFamilyAdapter, type RunObserver } from '../src/families/index.js';
import type { RgbImage } from '../src/image/types.js';
import type { MaskLogits } from '../src/masks/types.js';
import type { PromptStep } from '../src/prompts/types.js';
import { Segmenter } from '../src/segmenter/segmenter.js';

let dir: string;
let spies: Record<string, string>;
const image: RgbImage = { width: 60, height: 40, data: new Uint8Array(60 * 40 * 3).fill(90) };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'samlite-refine-'));
  spies = writeSpyModels(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every decoder run's echoed mask input, in order. */
function decoderRuns() {
  const runs: { hasMask: number; maskInput: Float32Array; labels: number[] }[] = [];
  const observer: RunObserver = (role, _feeds, outputs) => {
    if (role !== 'decoder') return;
    runs.push({
      hasMask: (outputs.echo_has_mask_input as Tensor).data[0] as number,
      maskInput: (outputs.echo_mask_input as Tensor).data as Float32Array,
      labels: Array.from((outputs.echo_point_labels as Tensor).data as Float32Array),
    });
  };
  return { runs, observer };
}

/** Foreground rows at the top of a 256x256 logit map (the spy's pattern). */
function foregroundRows(map: Float32Array | MaskLogits): number {
  const data = 'data' in map ? map.data : map;
  let rows = 0;
  while (rows < 256 && data[rows * 256] > 0) rows++;
  return rows;
}

const samSpy = (observer?: RunObserver) =>
  Segmenter.open({ name: 'spy-sam', family: 'sam', files: { encoder: spies['spy-mobilesam-encoder.onnx'], decoder: spies['spy-sam-decoder-4.onnx'] } }, { observer, embeddingCache: false });

describe('SAM decoder mask input', () => {
  it('returns low-resolution logits per mask and feeds one back with has_mask_input 1', async () => {
    const { runs, observer } = decoderRuns();
    const adapter = await openFamilyAdapter({ name: 'spy', family: 'sam', files: { encoder: spies['spy-mobilesam-encoder.onnx'], decoder: spies['spy-sam-decoder-4.onnx'] } }, { observer });
    expect(adapter.acceptsMaskInput).toBe(true);
    const emb = await adapter.encode(image);
    const first = await adapter.decode(emb, { points: [{ x: 5, y: 5 }] });
    expect(first.lowRes).toHaveLength(4);
    first.lowRes!.forEach((m, i) => {
      expect([m.width, m.height]).toEqual([256, 256]);
      expect(foregroundRows(m)).toBe(spyForegroundRows(i, 4, 256));
    });
    expect(runs[0].hasMask).toBe(0);
    expect(runs[0].maskInput.every((v) => v === 0)).toBe(true);

    await adapter.decode(emb, { points: [{ x: 5, y: 5 }, { x: 9, y: 9 }] }, { maskInput: first.lowRes![3] });
    expect(runs[1].hasMask).toBe(1);
    expect(Array.from(runs[1].maskInput)).toEqual(Array.from(first.lowRes![3].data));

    const wrong = await adapter.decode(emb, { points: [{ x: 5, y: 5 }] }, { maskInput: { width: 64, height: 64, data: new Float32Array(64 * 64) } }).catch((e) => e);
    expect(wrong).toBeInstanceOf(InputError);
    expect(wrong.message).toBe("mask input is 64x64; it must be a previous answer's 256x256 low-resolution logits");
    await adapter.dispose();
  });

  it('EfficientSAM has no mask input: it says so instead of feeding it', async () => {
    const adapter = await openFamilyAdapter({ name: 'spy-e', family: 'efficientsam', files: { encoder: spies['spy-efficientsam-encoder.onnx'], decoder: spies['spy-efficientsam-decoder.onnx'] } });
    expect(adapter.acceptsMaskInput).toBe(false);
    const emb = await adapter.encode(image);
    const out = await adapter.decode(emb, { points: [{ x: 5, y: 5 }] });
    expect(out.lowRes).toBeUndefined();
    const err = await adapter.decode(emb, { points: [{ x: 5, y: 5 }] }, { maskInput: { width: 256, height: 256, data: new Float32Array(65536) } }).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe('spy-e (efficientsam) cannot refine an answer: its decoder has no mask input');
    await adapter.dispose();
  });
});

describe('Segmenter.segmentSteps', () => {
  const p = (x: number, y: number) => ({ x, y });
  const steps: PromptStep[] = [
    { prompt: { points: [p(5, 5)] } },
    { prompt: { points: [p(5, 5), p(20, 10)] }, maskIndex: 3 },
    { prompt: { points: [p(5, 5), p(20, 10)], negPoints: [p(50, 30)] } },
  ];

  it('feeds each step the kept mask of the step before (the family pick, or the one the person chose)', async () => {
    const { runs, observer } = decoderRuns();
    const seg = await samSpy(observer);
    expect(seg.refines).toBe(true);
    const result = await seg.segmentSteps(image, steps);
    // One decoder run per step; a chosen mask costs no extra run.
    expect(runs.map((r) => r.labels)).toEqual([[1, -1], [1, 1, -1], [1, 1, 0, -1]]);
    expect(runs.map((r) => r.hasMask)).toEqual([0, 1, 1]);
    // Step 1: one click, the family's pick is candidate 2 (highest spy IoU among 1..3).
    expect(foregroundRows(runs[1].maskInput)).toBe(spyForegroundRows(2, 4, 256));
    // Step 2: the person kept mask 3.
    expect(foregroundRows(runs[2].maskInput)).toBe(spyForegroundRows(3, 4, 256));
    // The last step's answer: several clicks, so the single-mask output (0), at full size.
    expect(result.best.index).toBe(0);
    expect([result.best.mask.width, result.best.mask.height]).toEqual([60, 40]);
    await seg.close();
  });

  it('replays to the same mask as the same calls made by hand', async () => {
    const seg = await samSpy();
    const a = await seg.segment(image, steps[0].prompt);
    const b = await seg.segment(image, steps[1].prompt, { maskInput: a.best.lowRes, maskIndex: 3 });
    const c = await seg.segment(image, steps[2].prompt, { maskInput: b.best.lowRes });
    const replay = await seg.segmentSteps(image, steps);
    expect(Array.from(replay.best.mask.data)).toEqual(Array.from(c.best.mask.data));
    expect(replay.best.predictedIou).toBe(c.best.predictedIou);
    await seg.close();
  });

  it('a model that does not refine answers the last step alone', async () => {
    const runs: string[] = [];
    const seg = await Segmenter.open(
      { name: 'spy-e', family: 'efficientsam', files: { encoder: spies['spy-efficientsam-encoder.onnx'], decoder: spies['spy-efficientsam-decoder.onnx'] } },
      { observer: (role) => runs.push(role) },
    );
    expect(seg.refines).toBe(false);
    const probe = runs.length;
    await seg.segmentSteps(image, [{ prompt: { points: [p(5, 5)] } }, { prompt: { points: [p(5, 5), p(9, 9)] } }]);
    expect(runs.slice(probe)).toEqual(['encoder', 'decoder']);
    await seg.close();
  });

  it('a mask index that is not a candidate is an InputError naming the candidates', async () => {
    const seg = await samSpy();
    const err = await seg.segment(image, { points: [p(5, 5)] }, { maskIndex: 0 }).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe('mask index 0 is not a candidate of spy-sam for this prompt (candidates: 1, 2, 3)');
    await seg.close();
  });
});
