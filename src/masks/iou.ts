import type { BinaryMask } from './types.js';

/**
 * Intersection over union of two same-size masks (non-zero = foreground); 1 when both are
 * empty. How samlite scores a mask against ground truth or another mask.
 */
export function maskIou(a: BinaryMask, b: BinaryMask): number {
  if (a.width !== b.width || a.height !== b.height) {
    throw new RangeError(`masks differ in size: ${a.width}x${a.height} and ${b.width}x${b.height}`);
  }
  return pixelIou(a.data, b.data);
}

/** {@link maskIou} on bare pixel arrays of equal length. */
export function pixelIou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] !== 0;
    const y = b[i] !== 0;
    if (x && y) inter++;
    if (x || y) union++;
  }
  return union === 0 ? 1 : inter / union;
}
