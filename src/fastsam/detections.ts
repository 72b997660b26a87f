/**
 * From a run's detections to the ones FastSAM keeps, as current ultralytics'
 * non_max_suppression does for one class: best first, at most MAX_NMS into box NMS, the
 * first `maxDet` survivors. In input pixels, in float32 as its tensors are.
 *
 * ultralytics' FastSAMPredictor then snaps box edges within 20 px to the image border and
 * turns a box with IoU > 0.9 against the whole image into the whole image, but only on the
 * boxes it reports, after the masks are made: the masks are cut with the boxes as NMS left
 * them. samlite reports no detection boxes (a record's bbox is its mask's), so that rule
 * changes nothing it writes and is not applied.
 */
import type { Xyxy } from '../everything/boxes.js';
import { nms } from '../everything/nms.js';
import { PROTO_CHANNELS, type RawDetections } from '../families/fastsam.js';
import { MAX_NMS, type FastSamSettings } from './settings.js';

/** Detections kept, best first. */
export interface KeptDetections {
  /** x1, y1, x2, y2 per detection in input pixels. */
  readonly boxes: Xyxy[];
  readonly scores: number[];
  /** 32 coefficients per detection. */
  readonly coefficients: Float32Array;
}

const f = Math.fround;

/**
 * Box IoU in float32, operation by operation as ultralytics' TorchNMS computes it on
 * float32 tensors: areas (x2 - x1)(y2 - y1), overlap sides clamped at 0, inter / (area a +
 * area b - inter). Near the threshold the last bit decides which box survives.
 */
export function float32BoxIou(a: Readonly<Xyxy>, b: Readonly<Xyxy>): number {
  const w = Math.max(0, f(Math.min(a[2], b[2]) - Math.max(a[0], b[0])));
  const h = Math.max(0, f(Math.min(a[3], b[3]) - Math.max(a[1], b[1])));
  const inter = f(w * h);
  const areaA = f(f(a[2] - a[0]) * f(a[3] - a[1]));
  const areaB = f(f(b[2] - b[0]) * f(b[3] - b[1]));
  return f(inter / f(f(areaA + areaB) - inter));
}

/**
 * The detections FastSAM keeps from `raw` (already above the confidence threshold): NMS
 * drops a box whose float32 IoU with a better one exceeds `iou` as float32 (torch compares a
 * float32 tensor with the threshold cast to float32).
 */
export function keepDetections(raw: RawDetections, settings: Pick<FastSamSettings, 'iou' | 'maxDet'>): KeptDetections {
  const n = raw.scores.length;
  let capped = Array.from({ length: n }, (_, i) => i);
  // Only the best MAX_NMS enter NMS (stable: equal scores keep anchor order). Under the cap,
  // nms orders them itself, the same way.
  if (n > MAX_NMS) capped = capped.sort((a, b) => raw.scores[b] - raw.scores[a]).slice(0, MAX_NMS);
  const boxes = capped.map((i): Xyxy => [raw.boxes[4 * i], raw.boxes[4 * i + 1], raw.boxes[4 * i + 2], raw.boxes[4 * i + 3]]);
  const scores = capped.map((i) => raw.scores[i]);
  const kept = nms(boxes, scores, f(settings.iou), float32BoxIou).slice(0, settings.maxDet);
  const coefficients = new Float32Array(PROTO_CHANNELS * kept.length);
  kept.forEach((k, j) => {
    const i = capped[k];
    coefficients.set(raw.coefficients.subarray(PROTO_CHANNELS * i, PROTO_CHANNELS * (i + 1)), PROTO_CHANNELS * j);
  });
  return { boxes: kept.map((k) => boxes[k]), scores: kept.map((k) => scores[k]), coefficients };
}
