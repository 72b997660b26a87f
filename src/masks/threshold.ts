import type { BinaryMask } from './types.js';

/** Binarise logits: foreground where logit > `threshold` (0 in both families' contracts). */
export function logitsToMask(logits: Float32Array, width: number, height: number, threshold = 0): BinaryMask {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = logits[i] > threshold ? 1 : 0;
  return { width, height, data };
}
