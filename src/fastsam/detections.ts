/**
 * From a run's detections to the ones FastSAM keeps: best first, at most MAX_NMS into
 * class-agnostic box NMS, the first `maxDet` survivors, then FastSAM's own box rules
 * (edges near the input border snap to it; a box that is nearly the whole input becomes
 * the whole input). All in input pixels.
 */
import type { Xyxy } from '../everything/boxes.js';
import { boxIou } from '../everything/boxes.js';
import { nms } from '../everything/nms.js';
import { PROTO_CHANNELS, type RawDetections } from '../families/fastsam.js';
import type { Size } from '../families/types.js';
import { MAX_NMS, type FastSamSettings } from './settings.js';

/** Box edges closer than this to the input border are moved onto it (FastSAM's adjust_bboxes_to_image_border). */
export const BORDER_SNAP_PX = 20;

/** A box whose IoU with the whole input exceeds this becomes the whole input (FastSAM's full-image box rule). */
export const WHOLE_IMAGE_IOU = 0.9;

/** Detections kept, best first. */
export interface KeptDetections {
  /** x1, y1, x2, y2 per detection in input pixels, after the border rules. */
  readonly boxes: Xyxy[];
  readonly scores: number[];
  /** 32 coefficients per detection. */
  readonly coefficients: Float32Array;
}

/**
 * The detections FastSAM keeps from `raw` (already above the confidence threshold). The
 * border rules run before the masks are built and the snapped boxes crop them, as in the
 * FastSAM repository's predictor (current ultralytics applies them to reported boxes only).
 */
export function keepDetections(raw: RawDetections, settings: Pick<FastSamSettings, 'iou' | 'maxDet'>, input: Size): KeptDetections {
  const n = raw.scores.length;
  let capped = Array.from({ length: n }, (_, i) => i);
  // Only the best MAX_NMS enter NMS (stable: equal scores keep anchor order). Under the cap,
  // nms orders them itself, the same way.
  if (n > MAX_NMS) capped = capped.sort((a, b) => raw.scores[b] - raw.scores[a]).slice(0, MAX_NMS);
  const boxes = capped.map((i): Xyxy => [raw.boxes[4 * i], raw.boxes[4 * i + 1], raw.boxes[4 * i + 2], raw.boxes[4 * i + 3]]);
  const scores = capped.map((i) => raw.scores[i]);
  const kept = nms(boxes, scores, settings.iou).slice(0, settings.maxDet);
  const coefficients = new Float32Array(PROTO_CHANNELS * kept.length);
  kept.forEach((k, j) => {
    const i = capped[k];
    coefficients.set(raw.coefficients.subarray(PROTO_CHANNELS * i, PROTO_CHANNELS * (i + 1)), PROTO_CHANNELS * j);
  });
  const whole: Xyxy = [0, 0, input.width, input.height];
  return {
    boxes: kept.map((k) => {
      const box = snapToBorder(boxes[k], input);
      return boxIou(box, whole) > WHOLE_IMAGE_IOU ? [...whole] : box;
    }),
    scores: kept.map((k) => scores[k]),
    coefficients,
  };
}

/** `box` with each edge within BORDER_SNAP_PX of the input border moved onto it. */
export function snapToBorder(box: Readonly<Xyxy>, input: Size): Xyxy {
  const [x1, y1, x2, y2] = box;
  return [
    x1 < BORDER_SNAP_PX ? 0 : x1,
    y1 < BORDER_SNAP_PX ? 0 : y1,
    x2 > input.width - BORDER_SNAP_PX ? input.width : x2,
    y2 > input.height - BORDER_SNAP_PX ? input.height : y2,
  ];
}
