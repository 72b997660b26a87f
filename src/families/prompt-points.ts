/**
 * A prompt as the SAM-style decoders take it: point coordinates scaled into the decoder's
 * frame, with labels 1 foreground, 0 background, 2 and 3 a box's corners. The families differ
 * only in the frame and in the order their exporters' clients list the parts, so each names
 * its order (a part left out of the order is one its rules refuse before this runs).
 */
import type { Prompt } from '../prompts/types.js';

/** One part of a prompt, in the order a family's client feeds it. */
export type PromptPart = 'points' | 'negPoints' | 'box';

/** `prompt`'s parts in `order`, x scaled by `sx` and y by `sy`, as flat coordinates and labels. */
export function scaledPromptPoints(prompt: Prompt, sx: number, sy: number, order: readonly PromptPart[]): { coords: number[]; labels: number[] } {
  const coords: number[] = [];
  const labels: number[] = [];
  for (const part of order) {
    if (part === 'box') {
      if (!prompt.box) continue;
      coords.push(prompt.box.x1 * sx, prompt.box.y1 * sy, prompt.box.x2 * sx, prompt.box.y2 * sy);
      labels.push(2, 3);
      continue;
    }
    const label = part === 'points' ? 1 : 0;
    for (const p of prompt[part] ?? []) {
      coords.push(p.x * sx, p.y * sy);
      labels.push(label);
    }
  }
  return { coords, labels };
}
