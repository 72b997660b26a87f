/**
 * Inference in a worker thread gives what the main thread gives, byte for byte, through
 * the same adapters; errors cross the thread boundary as the same class and message; a
 * dead worker is an error, not a hang; and the event loop keeps turning during a run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../scripts/fixtures/index.js';
import { SPY_IOU, writeSpyModels } from '../scripts/onnx/spy-models.js';
import { ModelContractError } from '../src/util/errors.js';
import { openFamilyAdapter, type RunObserver } from '../src/families/index.js';
import { ModelSession, type SessionOptions, type TensorMap } from '../src/families/session.js';
import type { PromptFamilyName } from '../src/families/types.js';
import type { EverythingResult } from '../src/everything/generator.js';
import { loadImage } from '../src/image/load.js';
import type { LoadedImage } from '../src/image/types.js';
import { createSessionHost } from '../src/inference/host.js';
import { InferenceWorkerError, WorkerSessionHost } from '../src/inference/worker-host.js';
import { Segmenter, type ModelToOpen } from '../src/segmenter/segmenter.js';
import { resolveModel } from '../src/store/resolve.js';
import { buildSlowSamEncoder } from './helpers/slow-encoder.js';

const WORKER: SessionOptions = { inference: 'worker' };
let dir: string;
let spies: Record<string, string>;
let landscape: LoadedImage;
let portrait: LoadedImage;
let builtin: ModelToOpen;
let builtinEfficientSam: ModelToOpen;
let builtinSam2: ModelToOpen;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'samlite-inference-'));
  spies = writeSpyModels(dir);
  [landscape, portrait] = await Promise.all(['landscape.png', 'portrait.png'].map((f) => loadImage(fixturePath(f))));
  [builtin, builtinEfficientSam, builtinSam2] = await Promise.all([resolveModel('builtin'), resolveModel('builtin-efficientsam'), resolveModel('builtin-sam2')]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('worker mode gives the same results as main mode', () => {
  it.each([
    ['builtin', () => builtin, () => landscape, 12],
    ['builtin-efficientsam', () => builtinEfficientSam, () => portrait, 8],
    // Three embedding tensors cross to the worker and are held there.
    ['builtin-sam2', () => builtinSam2, () => landscape, 8],
  ] as const)('%s: segment and everything', async (_name, model, img, grid) => {
    const image = img();
    const results = await Promise.all(
      (['main', 'worker'] as const).map(async (inference) => {
        const seg = await Segmenter.open(model(), { inference, embeddingCache: false });
        try {
          const click = await seg.segment(image, { points: [{ x: 100, y: 120 }] }, { multimask: true });
          const box = await seg.segment(image, { box: { x1: 20, y1: 30, x2: 200, y2: 180 } });
          const { records, stats } = (await seg.everything(image, { pointsPerSide: grid })) as EverythingResult;
          return { click, box, records, runs: stats.decoderRuns };
        } finally {
          await seg.close();
        }
      }),
    );
    const [main, worker] = results;
    expect(main.records.length).toBeGreaterThan(0);
    expect(worker.runs).toBe(main.runs);
    // toEqual compares typed arrays element by element: the masks are identical bytes.
    expect(worker.click).toEqual(main.click);
    expect(worker.box).toEqual(main.box);
    expect(worker.records).toEqual(main.records);
  });
});

describe('spy-model adapters in worker mode', () => {
  const open = (family: PromptFamilyName, encoder: string, decoder: string, observer?: RunObserver) =>
    openFamilyAdapter({ name: `spy-${family}`, family, files: { encoder: spies[encoder], decoder: spies[decoder] } }, { ...WORKER, observer });
  const values = (t: ort.Tensor) => Array.from(t.data as Float32Array | BigInt64Array, Number);

  it('EfficientSAM: the observer sees the feeds and the echoed outputs; int64 sizes cross intact', async () => {
    const seen: Record<string, { feeds: TensorMap; outputs: TensorMap }> = {};
    const adapter = await open('efficientsam', 'spy-efficientsam-encoder.onnx', 'spy-efficientsam-decoder.onnx', (role, feeds, outputs) => {
      seen[role] = { feeds: { ...feeds }, outputs: { ...outputs } };
    });
    try {
      const emb = await adapter.encode(landscape);
      expect(seen.encoder.outputs.echo_batched_images.dims).toEqual([1, 3, landscape.height, landscape.width]);
      expect(seen.encoder.outputs.echo_batched_images.data).toEqual(seen.encoder.feeds.batched_images.data);
      const out = await adapter.decode(emb, { points: [{ x: 100, y: 50 }], box: { x1: 10, y1: 20, x2: 200, y2: 150 } });
      const echo = seen.decoder.outputs;
      expect(values(echo.echo_batched_point_coords)).toEqual([100, 50, 10, 20, 200, 150]);
      expect(values(echo.echo_batched_point_labels)).toEqual([1, 2, 3]);
      expect(echo.echo_orig_im_size.type).toBe('int64');
      expect(values(echo.echo_orig_im_size)).toEqual([landscape.height, landscape.width]);
      // The embedding crossed once and was reused from the worker's copy: still exact.
      expect(echo.echo_image_embeddings.data).toEqual(emb.data);
      expect(out.iou).toEqual(SPY_IOU.efficientsam.map((v) => expect.closeTo(v, 6)));
      expect(out.best).toBe(1);
    } finally {
      await adapter.dispose();
    }
  });

  it('SAM: points in the 1024 frame, padding point, the family choice rule', async () => {
    const seen: Record<string, TensorMap> = {};
    const adapter = await open('sam', 'spy-mobilesam-encoder.onnx', 'spy-sam-decoder-4.onnx', (role, _f, outputs) => (seen[role] = { ...outputs }));
    try {
      const emb = await adapter.encode(portrait);
      expect(seen.encoder.echo_input_image.dims).toEqual([1024, 768, 3]);
      const click = await adapter.decode(emb, { points: [{ x: 100, y: 50 }] });
      expect(values(seen.decoder.echo_point_labels)).toEqual([1, -1]);
      expect(values(seen.decoder.echo_orig_im_size)).toEqual([portrait.height, portrait.width]);
      expect([click.best, click.candidates]).toEqual([2, [1, 2, 3]]);
      const box = await adapter.decode(emb, { box: { x1: 10, y1: 20, x2: 110, y2: 120 } });
      expect(values(seen.decoder.echo_point_labels)).toEqual([2, 3]);
      expect(box.best).toBe(0);
    } finally {
      await adapter.dispose();
    }
  });
});

describe('errors cross the thread boundary unchanged', () => {
  /** The error `attempt` rejects with, in each mode. */
  async function inBothModes(attempt: (options: SessionOptions) => Promise<unknown>): Promise<Error[]> {
    return Promise.all((['main', 'worker'] as const).map((inference) => attempt({ inference }).then(() => new Error('no error'), (e: Error) => e)));
  }
  const openSpy = (family: PromptFamilyName, encoder: string, decoder: string) => (options: SessionOptions) =>
    openFamilyAdapter({ name: 'spy', family, files: { encoder: spies[encoder], decoder: spies[decoder] } }, options);

  it.each([
    ['a decoder that breaks the contract at load', openSpy('sam', 'spy-mobilesam-encoder.onnx', 'broken-sam-decoder-2-masks.onnx')],
    [
      'an encoder that breaks the contract at first use',
      (o: SessionOptions) =>
        openSpy('sam', 'broken-mobilesam-encoder-32.onnx', 'spy-sam-decoder-4.onnx')(o).then(async (a) => {
          try {
            await a.encode({ width: 8, height: 8, data: new Uint8Array(192) });
          } finally {
            await a.dispose();
          }
        }),
    ],
    [
      'a file that is not ONNX',
      (o: SessionOptions) => {
        const junk = join(dir, 'junk.onnx');
        writeFileSync(junk, 'not a model');
        return openFamilyAdapter({ name: 'junk', family: 'sam', files: { encoder: junk, decoder: junk } }, o);
      },
    ],
    [
      'a run onnxruntime rejects (wrong rank)',
      async (o: SessionOptions) => {
        const session = await ModelSession.open(spies['spy-mobilesam-encoder.onnx'], 'encoder', o);
        try {
          await session.run({ input_image: new ort.Tensor('float32', new Float32Array(6), [2, 3]) });
        } finally {
          await session.release();
        }
      },
    ],
  ])('%s', async (_what, attempt) => {
    const [main, worker] = await inBothModes(attempt);
    expect(main).toBeInstanceOf(ModelContractError);
    expect(worker).toBeInstanceOf(ModelContractError);
    expect(worker.message).toBe(main.message);
    expect(worker.message).not.toContain('\n');
  });

  it('a worker that dies fails the pending call and every later one with InferenceWorkerError', async () => {
    const host = createSessionHost(WORKER, 'spy-model') as WorkerSessionHost;
    const session = await ModelSession.open(spies['spy-sam-decoder-1.onnx'], 'decoder', WORKER, undefined, host);
    const crash = (await host.simulateCrash().then(() => new Error('no error'), (e: Error) => e)) as Error;
    expect(crash).toBeInstanceOf(InferenceWorkerError);
    expect(crash.message).toBe('the inference worker for spy-model stopped unexpectedly (exit code 70)');
    const later = await session.run({}).catch((e: Error) => e);
    expect(later).toBeInstanceOf(InferenceWorkerError);
    await expect(host.open(spies['spy-sam-decoder-1.onnx'])).rejects.toBeInstanceOf(InferenceWorkerError);
    await host.close(); // resolves: nothing left to wait for
  });
});

describe('the event loop during a run', () => {
  /**
   * Turns of the event loop (a chain of setImmediate callbacks, no clock involved) that
   * ran while one encoder run was in flight.
   */
  async function turnsDuringRun(inference: 'main' | 'worker'): Promise<number> {
    const path = join(dir, 'slow-encoder.onnx');
    writeFileSync(path, buildSlowSamEncoder(12));
    const session = await ModelSession.open(path, 'encoder', { inference });
    try {
      const feeds = { input_image: new ort.Tensor('float32', new Float32Array(8 * 8 * 3), [8, 8, 3]) };
      let settled = false;
      const run = session.run(feeds).finally(() => (settled = true));
      let turns = 0;
      while (!settled) {
        await new Promise((resolve) => setImmediate(resolve));
        if (!settled) turns++;
      }
      await run;
      return turns;
    } finally {
      await session.release();
    }
  }

  it('keeps turning in worker mode; on the main thread the native run holds it', async () => {
    // Main thread: the run happens inside one setImmediate callback and the promise settles
    // in it, so the loop turns at most once before it (the turn the run starts in).
    expect(await turnsDuringRun('main')).toBeLessThanOrEqual(1);
    expect(await turnsDuringRun('worker')).toBeGreaterThanOrEqual(3);
  });
});
