/**
 * Times the built-in models straight through onnxruntime-node (no samlite pipeline), for
 * the speed table in docs/builtin-models.md.
 *
 *   npx tsx scripts/onnx/bench-builtin.ts [threads]
 *
 * Reports wall and process CPU time (min and median). Other work on a shared machine
 * inflates wall time, and with two threads the CPU time as well, because ONNX Runtime's
 * pool spins; with one thread, CPU time stays close to the true cost.
 */
import * as ort from 'onnxruntime-node';
import {
  buildEfficientSamDecoder,
  buildEfficientSamEncoder,
  buildSamDecoder,
  buildSamEncoder,
} from './builtin-segmenter.js';
import { SeededRandom } from './nn.js';

const threads = Number(process.argv[2] ?? 2);
const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: threads };

function summary(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  return `min ${s[0].toFixed(2)} med ${s[Math.floor(s.length / 2)].toFixed(2)} ms`;
}

async function time(label: string, runs: number, f: () => Promise<unknown>): Promise<void> {
  await f(); // warm-up: first runs allocate
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    await f();
    wall.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  console.log(`${label.padEnd(44)} wall ${summary(wall)} | cpu ${summary(cpu)}`);
}

const [samEncoder, samDecoder, esamEncoder, esamDecoder] = await Promise.all(
  [buildSamEncoder(), buildSamDecoder(), buildEfficientSamEncoder(), buildEfficientSamDecoder()].map((b) =>
    ort.InferenceSession.create(b, options),
  ),
);

// Scenes in the SAM frame (1024x768, HWC 0..255): flat shapes, texture, and a serpentine
// maze whose one long corridor is the slow case for label propagation.
const [w, h] = [1024, 768];
const scenes: Record<string, Float32Array> = {};
{
  const img = new Float32Array(w * h * 3).fill(128);
  for (let y = 100; y < 400; y++) for (let x = 100; x < 600; x++) img.set([200, 10, 10], (y * w + x) * 3);
  scenes.flat = img;
}
{
  const rng = new SeededRandom(2);
  const img = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = 128 + 60 * Math.sin(x / 37) * Math.cos(y / 23) + (rng.next() - 0.5) * 12;
      img.set([v, v * 0.8, 255 - v], (y * w + x) * 3);
    }
  }
  scenes.texture = img;
}
{
  const img = new Float32Array(w * h * 3).fill(255);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [row, col] = [Math.floor(y / 8), Math.floor(x / 8)];
      const gap = Math.floor(row / 2) % 2 === 0 ? col === 127 : col === 0;
      if (row % 2 === 1 && !gap) img.set([0, 0, 0], (y * w + x) * 3);
    }
  }
  scenes.serpentine = img;
}
for (const [name, img] of Object.entries(scenes)) {
  const input = new ort.Tensor('float32', img, [h, w, 3]);
  await time(`SAM encoder 1024x768 ${name}`, 5, () => samEncoder.run({ input_image: input }));
}
const square = new ort.Tensor('float32', new Float32Array(3 * 1024 * 1024).fill(0.5), [1, 3, 1024, 1024]);
await time('EfficientSAM encoder 1024x1024', 5, () => esamEncoder.run({ batched_images: square }));

const embedding = (await samEncoder.run({ input_image: new ort.Tensor('float32', scenes.texture, [h, w, 3]) }))
  .image_embeddings;
const samFeeds = (size: [number, number], coords: number[], labels: number[]) => ({
  image_embeddings: embedding,
  point_coords: new ort.Tensor('float32', Float32Array.from(coords), [1, labels.length, 2]),
  point_labels: new ort.Tensor('float32', Float32Array.from(labels), [1, labels.length]),
  mask_input: new ort.Tensor('float32', new Float32Array(256 * 256), [1, 1, 256, 256]),
  has_mask_input: new ort.Tensor('float32', new Float32Array([0]), [1]),
  orig_im_size: new ort.Tensor('float32', Float32Array.from(size), [2]),
});
for (const size of [
  [192, 256],
  [700, 1000],
] as [number, number][]) {
  const point = samFeeds(size, [300, 200, 0, 0], [1, -1]);
  await time(`SAM decoder ${size[1]}x${size[0]}, one point`, 40, () => samDecoder.run(point));
  const box = samFeeds(size, [300, 200, 100, 100, 500, 400], [1, 2, 3]);
  await time(`SAM decoder ${size[1]}x${size[0]}, point + box`, 20, () => samDecoder.run(box));
  const esam = {
    image_embeddings: embedding,
    batched_point_coords: new ort.Tensor('float32', new Float32Array([100, 80]), [1, 1, 1, 2]),
    batched_point_labels: new ort.Tensor('float32', new Float32Array([1]), [1, 1, 1]),
    orig_im_size: new ort.Tensor('int64', BigInt64Array.from(size.map(BigInt)), [2]),
  };
  await time(`EfficientSAM decoder ${size[1]}x${size[0]}, one point`, 40, () => esamDecoder.run(esam));
}
