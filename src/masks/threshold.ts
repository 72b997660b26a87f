import type { Rle } from './rle.js';
import type { BinaryMask } from './types.js';

/** Binarise logits: foreground where logit > `threshold` (0 in both families' contracts). */
export function logitsToMask(logits: Float32Array, width: number, height: number, threshold = 0): BinaryMask {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = logits[i] > threshold ? 1 : 0;
  return { width, height, data };
}

/**
 * Columns `logitsToRle` reads together. RLE runs down columns, logits are stored by rows:
 * a block's rows are read whole, so the pass stays sequential in memory at any width.
 * Measured (CPU time) on the MobileSAM stand-in's 1800x1200 logits, 170 k runs: 7 ms,
 * against 11 ms for `logitsToMask` then `maskToRle`.
 */
const BLOCK = 64;

/**
 * Exactly `maskToRle(logitsToMask(logits, width, height, threshold))`, in one pass over the
 * logits and without the mask: a block of columns is read row by row, noting the rows where
 * each column changes value, and the changes are then written out column after column.
 */
export function logitsToRle(logits: Float32Array, width: number, height: number, threshold = 0): Rle {
  const w = width;
  const h = height;
  // Room for every run the block can add is made before the block is written out.
  let counts = new Uint32Array(1024);
  let n = 0;
  const block = Math.min(BLOCK, w);
  // Per column of the block: the rows where it changes value, counted from background at its top.
  const changes = new Int32Array(block * h);
  const changeCount = new Int32Array(block);
  const value = new Uint8Array(block);
  // The run still open: where it started (column-major index) and its value.
  let runStart = 0;
  let open = 0;
  for (let x0 = 0; x0 < w; x0 += block) {
    const bw = Math.min(block, w - x0);
    changeCount.fill(0);
    value.fill(0);
    for (let y = 0; y < h; y++) {
      let i = y * w + x0;
      for (let c = 0; c < bw; c++, i++) {
        const v = logits[i] > threshold ? 1 : 0;
        if (v !== value[c]) {
          changes[c * h + changeCount[c]++] = y;
          value[c] = v;
        }
      }
    }
    let added = bw;
    for (let c = 0; c < bw; c++) added += changeCount[c];
    if (n + added + 1 > counts.length) {
      const bigger = new Uint32Array(Math.max(counts.length * 2, n + added + 1));
      bigger.set(counts.subarray(0, n));
      counts = bigger;
    }
    for (let c = 0; c < bw; c++) {
      const top = (x0 + c) * h;
      const first = c * h;
      const count = changeCount[c];
      let k = 0;
      if (open === 1) {
        // A foreground run reaches the column's top: it goes on when the column starts
        // foreground (its first change at row 0 is no change at all), else it ends here.
        if (count > 0 && changes[first] === 0) k = 1;
        else {
          counts[n++] = top - runStart;
          runStart = top;
          open = 0;
        }
      }
      for (; k < count; k++) {
        const at = top + changes[first + k];
        counts[n++] = at - runStart;
        runStart = at;
        open ^= 1;
      }
    }
  }
  counts[n++] = w * h - runStart;
  return { size: [h, w], counts: counts.slice(0, n) };
}
