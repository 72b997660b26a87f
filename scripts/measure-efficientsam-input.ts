/**
 * What preparing an EfficientSAM encoder input costs, by the rule the graph uses (torch
 * bilinear, no antialiasing, straight into float planes: what samlite does) against the
 * path before it (Pillow's antialiased bilinear to 8-bit pixels, then planes), and how far
 * the two inputs are apart.
 *
 *   npx tsx scripts/measure-efficientsam-input.ts [image...] [--reps n]
 *
 * Default images: ../shared/photos/truck.jpg when present, and a synthetic 12 MP photo.
 * Medians over alternating repetitions, on the calling thread.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stretchToPlanes } from '../src/image/bilinear.js';
import { loadImage } from '../src/image/load.js';
import { resizeRgb } from '../src/image/resize.js';
import type { RgbImage } from '../src/image/types.js';

const ROOT = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const repsAt = args.indexOf('--reps');
const REPS = repsAt >= 0 ? Number(args[repsAt + 1]) : 9;
const SIDE = 1024;

/** Before: Pillow's filter to bytes, then the 0..1 planes. */
async function pillowPath(image: RgbImage): Promise<Float32Array> {
  const src = await resizeRgb(image, SIDE, SIDE);
  const plane = SIDE * SIDE;
  const out = new Float32Array(3 * plane);
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    out[i] = src.data[p] / 255;
    out[plane + i] = src.data[p + 1] / 255;
    out[2 * plane + i] = src.data[p + 2] / 255;
  }
  return out;
}

function synthetic(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      data[p] = (x * 255) / width;
      data[p + 1] = (y * 255) / height;
      data[p + 2] = ((x ^ y) & 64) * 3;
    }
  }
  return { width, height, data };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const named = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--reps');
const images: { label: string; image: RgbImage }[] = [];
const truck = join(ROOT, '..', 'shared', 'photos', 'truck.jpg');
for (const path of named.length > 0 ? named : existsSync(truck) ? [truck] : []) {
  const image = await loadImage(path);
  images.push({ label: `${path} (${image.width}x${image.height})`, image });
}
if (named.length === 0) images.push({ label: 'synthetic 4240x2832 (12 MP)', image: synthetic(4240, 2832) });

console.log('| image | graph rule (ms) | Pillow path (ms) | max difference of the inputs |');
console.log('| --- | --- | --- | --- |');
for (const { label, image } of images) {
  const ours: number[] = [];
  const before: number[] = [];
  let a: Float32Array = new Float32Array(0);
  let b: Float32Array = new Float32Array(0);
  for (let r = 0; r < REPS; r++) {
    let t = performance.now();
    a = stretchToPlanes(image, SIDE, SIDE, 1 / 255);
    ours.push(performance.now() - t);
    t = performance.now();
    b = await pillowPath(image);
    before.push(performance.now() - t);
  }
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  console.log(`| ${label} | ${median(ours).toFixed(1)} | ${median(before).toFixed(1)} | ${diff.toFixed(3)} |`);
}
