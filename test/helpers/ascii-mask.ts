import type { BinaryMask } from '../../src/masks/types.js';

/** A mask drawn as text, one string per row: `#` foreground, anything else background. */
export function mask(rows: string[]): BinaryMask {
  const height = rows.length;
  const width = rows[0].length;
  const data = new Uint8Array(width * height);
  rows.forEach((r, y) => [...r].forEach((c, x) => (data[y * width + x] = c === '#' ? 1 : 0)));
  return { width, height, data };
}
