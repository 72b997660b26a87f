/**
 * FastSAM's prompts: no second network runs; a prompt selects among the masks the one pass
 * found, as current ultralytics' FastSAMPredictor.prompt does (over the non-empty masks, in
 * score order; coordinates truncated to whole pixels):
 *
 * - A box selects the mask with the highest box IoU: its pixels inside the box over (box
 *   area + mask area - those pixels), in float32; ties and an all-zero row go to the first
 *   (best-scored) mask, as torch.argmax does.
 * - Points select per mask, in order: a mask holding a point is selected if the point is
 *   foreground, deselected if it is background. With background points only, every mask
 *   starts selected. samlite's prompt keeps foreground and background points apart, so they
 *   are visited foreground first: a background click removes every mask that holds it.
 * - The box's pick and the points' selection are joined (OR).
 *
 * ultralytics returns the selected masks; samlite's answer is their union, reported with
 * the best-scored of them. A background click cannot split a mask: it drops whole masks.
 */
import { MULTIMASK_CANDIDATES, lazyPromptMask, type PromptMask, type SegmentResult } from '../segmenter/pipeline.js';
import type { Point, Prompt } from '../prompts/types.js';
import { detectionCount } from './analysis.js';
import type { DetectionMask, DetectionMasks } from './masks.js';

/** torch's int32 cast of a coordinate: truncation toward zero. */
const whole = (v: number) => Math.trunc(v);

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
  const live = (i: number) => render(i).area > 0;
  const selected = new Set<number>();

  // Box: argmax of float32 IoU over the non-empty masks; masks whose box misses it score 0.
  let ranked: { i: number; iou: number }[] = [];
  if (prompt.box) {
    const x1 = whole(prompt.box.x1);
    const y1 = whole(prompt.box.y1);
    const x2 = whole(prompt.box.x2);
    const y2 = whole(prompt.box.y2);
    const boxArea = (y2 - y1) * (x2 - x1);
    let first = -1;
    for (let i = 0; i < n; i++) {
      const b = masks.boxPixels(i);
      const overlaps = !(b.c1 <= x1 || b.c0 >= x2 || b.r1 <= y1 || b.r0 >= y2);
      if (first < 0 && live(i)) first = i;
      if (!overlaps || !live(i)) continue;
      const m = render(i);
      let inside = 0;
      const { x: wx, y: wy, width: ww, height: wh, data } = m.window;
      for (let x = Math.max(x1, wx); x < Math.min(x2, wx + ww); x++) {
        const col = (x - wx) * wh;
        for (let y = Math.max(y1, wy); y < Math.min(y2, wy + wh); y++) inside += data[col + y - wy];
      }
      const iou = Math.fround(inside / (boxArea + m.area - inside));
      if (iou > 0) ranked.push({ i, iou });
    }
    ranked.sort((a, b) => b.iou - a.iou || a.i - b.i);
    const pick = ranked[0]?.i ?? first;
    if (pick >= 0) selected.add(pick);
  }

  // Points: foreground then background, each setting the masks that hold it.
  const positives = prompt.points ?? [];
  const negatives = prompt.negPoints ?? [];
  if (positives.length > 0 || negatives.length > 0) {
    const pointSelected = new Set<number>();
    if (positives.length === 0) for (let i = 0; i < n; i++) if (live(i)) pointSelected.add(i);
    const visit = (p: Point, label: boolean) => {
      const x = whole(p.x);
      const y = whole(p.y);
      // The pixel alone decides: no mask is rendered to test it.
      for (let i = 0; i < n; i++) {
        if (!masks.holds(i, x, y)) continue;
        if (label) pointSelected.add(i);
        else pointSelected.delete(i);
      }
    };
    for (const p of positives) visit(p, true);
    for (const p of negatives) visit(p, false);
    for (const i of pointSelected) selected.add(i);
  }

  const chosen = [...selected].sort((a, b) => a - b);
  if (chosen.length === 0) {
    const best = emptyAnswer(image.width, image.height);
    return { best, masks: [best] };
  }
  // The union is painted straight into the full-size mask, row by row, when first read.
  const answer = (list: readonly number[]): PromptMask =>
    lazyPromptMask(
      { index: list[0], predictedIou: scores[list[0]] },
      {
        mask: () => {
          const data = new Uint8Array(image.width * image.height);
          for (const i of list) masks.paint(i, data);
          return { width: image.width, height: image.height, data };
        },
      },
    );
  const best = answer(chosen);
  if (!multimask) return { best, masks: [best] };
  // Candidates: with several masks selected, each on its own by score (but not one that is
  // the whole answer: a mask holding all the others); with one, the box's next best by IoU.
  const bestArea = best.mask.data.reduce((n, v) => n + v, 0);
  const others = chosen.length > 1 ? chosen.filter((i) => render(i).area !== bestArea) : ranked.slice(1).map((r) => r.i);
  return { best, masks: [best, ...others.slice(0, MULTIMASK_CANDIDATES - 1).map((i) => answer([i]))] };
}

/** The answer when no mask fits the prompt: an empty mask, index -1, score 0. */
function emptyAnswer(width: number, height: number): PromptMask {
  return lazyPromptMask({ index: -1, predictedIou: 0 }, { mask: () => ({ width, height, data: new Uint8Array(width * height) }) });
}
