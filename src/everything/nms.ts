/**
 * Greedy box non-maximum suppression with torchvision's semantics: visit boxes by
 * decreasing score, keep a box unless an already kept box overlaps it with IoU strictly
 * greater than the threshold. torchvision leaves the order of equal scores to its sort;
 * here ties go to the lower index, so results do not depend on the sort implementation.
 */
import { boxIou, type Xyxy } from './boxes.js';

/**
 * Indices of the kept boxes, highest score first (ties: lower index first), the order the
 * reference's `batched_nms` hands on to the next stage. A NaN score sorts last. `iou`
 * measures two boxes (default {@link boxIou}; FastSAM passes torch's float32 arithmetic).
 */
export function nms(
  boxes: readonly Readonly<Xyxy>[],
  scores: readonly number[],
  iouThreshold: number,
  iou: (a: Readonly<Xyxy>, b: Readonly<Xyxy>) => number = boxIou,
): number[] {
  if (boxes.length !== scores.length) throw new Error(`nms: ${boxes.length} boxes but ${scores.length} scores`);
  const key = scores.map((s) => (Number.isNaN(s) ? -Infinity : s));
  const order = boxes.map((_, i) => i);
  // Array.prototype.sort is stable, so equal scores keep index order.
  order.sort((a, b) => (key[a] === key[b] ? 0 : key[b] > key[a] ? 1 : -1));
  // Checking each box against the kept ones only is the same greedy pass as suppressing
  // forward from each kept box, but costs boxes x kept instead of boxes^2: kept is small.
  const keep: number[] = [];
  for (const i of order) {
    const bi = boxes[i];
    let suppressed = false;
    for (const k of keep) {
      if (iou(boxes[k], bi) > iouThreshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) keep.push(i);
  }
  return keep;
}
