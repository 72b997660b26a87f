/**
 * What one FastSAM run leaves for the masks: the kept detections in image pixels and the
 * prototypes that show the image (the letterbox padding cut off). `segment` answers every
 * prompt on an image from this, so it is what the embedding caches hold for FastSAM, packed
 * into one float32 array.
 */
import type { ImageEmbedding, Size } from '../families/types.js';
import type { RawDetections } from '../families/fastsam.js';
import { PROTO_CHANNELS } from '../families/fastsam-layout.js';
import type { KeptDetections } from './detections.js';
import { boxToImage, protoWindow, type Letterbox } from './letterbox.js';

/** The detections and prototypes of one image. */
export interface FastSamAnalysis {
  readonly image: Size;
  /** x1, y1, x2, y2 per detection in image pixels (float32, clipped to the image), best first. */
  readonly boxes: Float32Array;
  readonly scores: Float32Array;
  /** 32 coefficients per detection. */
  readonly coefficients: Float32Array;
  /** Prototypes over the part of the grid that shows the image, channel-first [32, h, w]. */
  readonly protos: Float32Array;
  readonly protoSize: Size;
}

/** Number of detections in `a`. */
export function detectionCount(a: FastSamAnalysis): number {
  return a.scores.length;
}

/** The analysis of one run: boxes back to image pixels, prototypes cut to the image. */
export function analysisOf(kept: KeptDetections, raw: Pick<RawDetections, 'protos' | 'protoSize'>, box: Letterbox): FastSamAnalysis {
  const n = kept.scores.length;
  const boxes = new Float32Array(4 * n);
  kept.boxes.forEach(([x1, y1, x2, y2], i) => boxes.set(boxToImage(box, x1, y1, x2, y2), 4 * i));
  const win = protoWindow(box, raw.protoSize);
  const width = win.x1 - win.x0;
  const height = win.y1 - win.y0;
  const full = raw.protoSize;
  const protos = new Float32Array(PROTO_CHANNELS * width * height);
  for (let k = 0; k < PROTO_CHANNELS; k++) {
    for (let y = 0; y < height; y++) {
      const from = k * full.width * full.height + (win.y0 + y) * full.width + win.x0;
      protos.set(raw.protos.subarray(from, from + width), (k * height + y) * width);
    }
  }
  return { image: box.image, boxes, scores: Float32Array.from(kept.scores), coefficients: kept.coefficients, protos, protoSize: { width, height } };
}

const HEADER = 3;

/**
 * Bumped whenever the letterbox, the detection rules (keepDetections) or the packing below
 * change, so analyses cached on disk by an earlier samlite are not served for the new ones
 * (the prompt families' inputRevision, for FastSAM). Part of the pipeline's cache identity.
 */
export const FASTSAM_ANALYSIS: { readonly revision: number } = { revision: 2 };

/**
 * `a` as an ImageEmbedding for the caches: data = [n, proto width, proto height, boxes,
 * scores, coefficients, prototypes], dims = [data length].
 */
export function packAnalysis(a: FastSamAnalysis, modelKey: string): ImageEmbedding {
  const n = detectionCount(a);
  const data = new Float32Array(HEADER + n * (4 + 1 + PROTO_CHANNELS) + a.protos.length);
  data.set([n, a.protoSize.width, a.protoSize.height]);
  let at = HEADER;
  for (const part of [a.boxes, a.scores, a.coefficients, a.protos]) {
    data.set(part, at);
    at += part.length;
  }
  return { family: 'fastsam', modelKey, image: { ...a.image }, data, dims: [data.length] };
}

/** The analysis packed by {@link packAnalysis}; throws when `e` is not one. */
export function unpackAnalysis(e: ImageEmbedding): FastSamAnalysis {
  const [n, width, height] = e.data;
  const expected = HEADER + n * (4 + 1 + PROTO_CHANNELS) + PROTO_CHANNELS * width * height;
  if (e.family !== 'fastsam' || e.dims.length !== 1 || !Number.isInteger(n) || e.data.length !== expected) {
    throw new Error(`not a FastSAM analysis (family ${e.family}, ${e.data.length} values)`);
  }
  let at = HEADER;
  const take = (count: number) => e.data.subarray(at, (at += count));
  return {
    image: { ...e.image },
    boxes: take(4 * n),
    scores: take(n),
    coefficients: take(PROTO_CHANNELS * n),
    protos: take(PROTO_CHANNELS * width * height),
    protoSize: { width, height },
  };
}
