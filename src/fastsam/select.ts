/**
 * FastSAM's prompts: no second network runs; a prompt selects among the masks the one pass
 * found (FastSAM's FastSAMPrompt).
 *
 * - A box picks the mask with the highest box IoU: pixels of the mask inside the box over
 *   (box area + mask area - those pixels), the box rounded to whole pixels.
 * - Points merge masks, FastSAM-repository style: the masks involved are visited largest
 *   first; a mask holding a foreground point (or the box's pick) is added to the answer,
 *   and a mask holding a background point has its pixels removed from it. A smaller mask
 *   visited later can add back what a larger one removed. A background click therefore
 *   removes whole masks: unlike SAM, it cannot split one.
 */
import type { BinaryMask } from '../masks/types.js';
import { MULTIMASK_CANDIDATES, type PromptMask, type SegmentResult } from '../pipeline.js';
import type { Point, Prompt } from '../prompts/types.js';
import { detectionCount } from './analysis.js';
import type { DetectionMask, DetectionMasks } from './masks.js';

/** Whether mask `m` has the pixel under `p` (coordinates floored to the pixel). */
function holds(m: DetectionMask, p: Point): boolean {
  const x = Math.floor(p.x) - m.window.x;
  const y = Math.floor(p.y) - m.window.y;
  return x >= 0 && y >= 0 && x < m.window.width && y < m.window.height && m.window.data[x * m.window.height + y] === 1;
}

/** The full-size mask of the windows in `parts`, in order: each adds (1) or removes (0) its pixels. */
function compose(width: number, height: number, parts: readonly { mask: DetectionMask; add: boolean; remove: boolean }[]): BinaryMask {
  const data = new Uint8Array(width * height);
  for (const { mask, add, remove } of parts) {
    const { x: wx, y: wy, width: ww, height: wh, data: bits } = mask.window;
    for (let x = 0; x < ww; x++) {
      for (let y = 0; y < wh; y++) {
        if (bits[x * wh + y] !== 1) continue;
        const o = (wy + y) * width + wx + x;
        if (add) data[o] = 1;
        if (remove) data[o] = 0;
      }
    }
  }
  return { width, height, data };
}

/** Answer `prompt` by selecting among the detections of `masks` (see the module comment). */
export function selectMasks(masks: DetectionMasks, prompt: Prompt, multimask: boolean): SegmentResult {
  const { image, scores } = masks.analysis;
  const n = detectionCount(masks.analysis);
  const rendered = new Map<number, DetectionMask>();
  const render = (i: number) => {
    let m = rendered.get(i);
    if (!m) rendered.set(i, (m = masks.render(i)));
    return m;
  };
  const single = (i: number): PromptMask => ({ index: i, mask: compose(image.width, image.height, [{ mask: render(i), add: true, remove: false }]), predictedIou: scores[i] });

  // Box: IoU of each mask with the box, best first (ties: the higher-scored detection).
  let ranked: { i: number; iou: number }[] = [];
  if (prompt.box) {
    const clamp = (v: number, hi: number) => Math.min(Math.max(Math.round(v), 0), hi);
    const x1 = clamp(prompt.box.x1, image.width);
    const y1 = clamp(prompt.box.y1, image.height);
    const x2 = clamp(prompt.box.x2, image.width);
    const y2 = clamp(prompt.box.y2, image.height);
    const boxArea = (x2 - x1) * (y2 - y1);
    for (let i = 0; i < n; i++) {
      const b = masks.boxPixels(i);
      if (b.c1 <= x1 || b.c0 >= x2 || b.r1 <= y1 || b.r0 >= y2) continue; // nothing inside: IoU 0
      const m = render(i);
      let inside = 0;
      const { x: wx, y: wy, width: ww, height: wh, data } = m.window;
      for (let x = Math.max(x1, wx); x < Math.min(x2, wx + ww); x++) {
        const col = (x - wx) * wh;
        for (let y = Math.max(y1, wy); y < Math.min(y2, wy + wh); y++) inside += data[col + y - wy];
      }
      const iou = inside / (boxArea + m.area - inside);
      if (iou > 0) ranked.push({ i, iou });
    }
    ranked.sort((a, b) => b.iou - a.iou || a.i - b.i);
  }
  const boxPick = ranked[0]?.i;
  const positives = prompt.points ?? [];
  const negatives = prompt.negPoints ?? [];

  if (positives.length === 0 && negatives.length === 0) {
    const best = boxPick === undefined ? emptyAnswer(image.width, image.height) : single(boxPick);
    if (!multimask) return { best, masks: [best] };
    return { best, masks: [best, ...ranked.slice(1, MULTIMASK_CANDIDATES).map((r) => single(r.i))] };
  }

  // Points (and the box's pick): the masks involved, largest first (ties: higher score first).
  const involved: { i: number; mask: DetectionMask; add: boolean; remove: boolean }[] = [];
  const inBox = (i: number, p: Point) => {
    const b = masks.boxPixels(i);
    return p.x >= b.c0 && p.x < b.c1 && p.y >= b.r0 && p.y < b.r1;
  };
  for (let i = 0; i < n; i++) {
    const add = i === boxPick || positives.some((p) => inBox(i, p) && holds(render(i), p));
    const remove = negatives.some((p) => inBox(i, p) && holds(render(i), p));
    if (add || remove) involved.push({ i, mask: render(i), add, remove });
  }
  involved.sort((a, b) => b.mask.area - a.mask.area || a.i - b.i);
  const added = involved.filter((m) => m.add);
  if (added.length === 0) {
    const best = emptyAnswer(image.width, image.height);
    return { best, masks: [best] };
  }
  // The merged mask reports the best-scored detection it was built from.
  const lead = Math.min(...added.map((m) => m.i));
  const best: PromptMask = { index: lead, mask: compose(image.width, image.height, involved), predictedIou: scores[lead] };
  if (!multimask) return { best, masks: [best] };
  // Candidates: each added mask no background point touches, on its own, by score; none
  // when the answer is a single mask.
  if (involved.length === 1) return { best, masks: [best] };
  // Each is built only until enough are found: a click on nested objects can involve many
  // detections, and every candidate is a full-size mask.
  const others: PromptMask[] = [];
  const byScore = added
    .filter((m) => !m.remove)
    .map((m) => m.i)
    .sort((a, b) => a - b);
  for (const i of byScore) {
    if (others.length === MULTIMASK_CANDIDATES - 1) break;
    const candidate = single(i);
    if (!sameMask(candidate.mask, best.mask)) others.push(candidate);
  }
  return { best, masks: [best, ...others] };
}

function sameMask(a: BinaryMask, b: BinaryMask): boolean {
  return a.data.length === b.data.length && a.data.every((v, i) => v === b.data[i]);
}

/** The answer when no mask fits the prompt: an empty mask, index -1, score 0. */
function emptyAnswer(width: number, height: number): PromptMask {
  return { index: -1, mask: { width, height, data: new Uint8Array(width * height) }, predictedIou: 0 };
}
