import { InputError } from '../util/errors.js';
import type { Size } from '../families/types.js';
import type { Point, Prompt } from './types.js';

function outside(p: Point, size: Size): boolean {
  return !(p.x >= 0 && p.y >= 0 && p.x < size.width && p.y < size.height);
}

/**
 * Check a prompt against the displayed image size: every point and both box corners must
 * lie inside [0, width) x [0, height). Throws an InputError saying which one is off.
 */
export function checkPromptInImage(prompt: Prompt, size: Size): void {
  const where = `the ${size.width}x${size.height} image`;
  for (const [list, kind] of [
    [prompt.points ?? [], 'point'],
    [prompt.negPoints ?? [], 'background point'],
  ] as const) {
    for (const p of list) {
      if (outside(p, size)) throw new InputError(`${kind} (${p.x}, ${p.y}) is outside ${where}`);
    }
  }
  const b = prompt.box;
  if (b && (outside({ x: b.x1, y: b.y1 }, size) || b.x2 > size.width || b.y2 > size.height)) {
    throw new InputError(`box (${b.x1}, ${b.y1}, ${b.x2}, ${b.y2}) is outside ${where}`);
  }
}
