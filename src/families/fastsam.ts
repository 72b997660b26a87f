/**
 * The FastSAM family: one ONNX file, a YOLOv8-seg network whose single run gives every
 * detection of the image with its mask coefficients, plus the mask prototypes. This module
 * holds the two published contracts as data, checks a file against them at load, and turns
 * a run's outputs into one shape whatever the export: the detections above the confidence
 * threshold and the prototypes. Everything after that is in src/fastsam/.
 *
 * The ultralytics contract is checked on FastSAM-s graphs rebuilt and exported by the
 * exporters themselves (the FastSAM conformance kit); Qualcomm's is read from its public
 * export code (quic/ai-hub-models, fastsam_s), not from a downloaded file.
 */
import * as ort from 'onnxruntime-node';
import { ModelContractError } from '../util/errors.js';
import type { TensorSpec } from './contracts.js';
import type { OpenOptions } from './open-sessions.js';
import { ModelSession, checkRunShape, formatDims, tensorMismatch } from './session.js';
import type { Size } from './types.js';
import { PROTO_CHANNELS } from './fastsam-layout.js';

export { PROTO_CHANNELS } from './fastsam-layout.js';

/** The published exports FastSAM comes in. */
export type FastSamExport = 'ultralytics' | 'qualcomm';

/** What each output of an export holds. */
export type FastSamOutputRole = 'detections' | 'boxes' | 'scores' | 'coefficients' | 'protos';

/** One export's ONNX contract; `null` dims may be symbolic (or fixed to any size). */
export interface FastSamContract {
  readonly export: FastSamExport;
  /** How the export is named in messages. */
  readonly label: string;
  readonly input: TensorSpec;
  readonly outputs: readonly (TensorSpec & { readonly role: FastSamOutputRole })[];
}

/**
 * `yolo export model=FastSAM-s.pt format=onnx imgsz=1024`: `images` [1, 3, S, S] RGB 0..1
 * letterboxed; `output0` [1, 37, N] with rows cx, cy, w, h (input pixels), score (after
 * sigmoid, one class) and 32 mask coefficients; `output1` [1, 32, S/4, S/4] prototypes.
 * A `dynamic=True` export leaves batch, sides, N and the prototype sides symbolic.
 */
export const FASTSAM_ULTRALYTICS_CONTRACT: FastSamContract = {
  export: 'ultralytics',
  label: 'ultralytics export',
  input: { name: 'images', type: 'float32', dims: [1, 3, null, null] },
  outputs: [
    { role: 'detections', name: 'output0', type: 'float32', dims: [1, 4 + 1 + PROTO_CHANNELS, null] },
    { role: 'protos', name: 'output1', type: 'float32', dims: [1, PROTO_CHANNELS, null, null] },
  ],
};

/**
 * Qualcomm AI Hub's FastSam-S/-X, as its export code builds them (ai-hub-models 52c080d2:
 * UltralyticsSingleClassSegmentor and its patched Segment head): `image` [1, 3, 640, 640]
 * RGB 0..1; `boxes` [1, N, 4] as x1, y1, x2, y2 in input pixels (the head's decoded boxes),
 * `scores` [1, N] after the sigmoid (0..1), `mask_coeffs` [1, N, 32], `mask_protos`
 * [1, 32, 160, 160] channel-first: the export asks AI Hub for channel-last outputs only for
 * other runtimes than ONNX. Such a compilation's [1, 160, 160, 32] is accepted too.
 */
export const FASTSAM_QUALCOMM_CONTRACT: FastSamContract = {
  export: 'qualcomm',
  label: 'Qualcomm AI Hub export',
  input: { name: 'image', type: 'float32', dims: [1, 3, 640, 640] },
  outputs: [
    { role: 'boxes', name: 'boxes', type: 'float32', dims: [1, null, 4] },
    { role: 'scores', name: 'scores', type: 'float32', dims: [1, null] },
    { role: 'coefficients', name: 'mask_coeffs', type: 'float32', dims: [1, null, PROTO_CHANNELS] },
    { role: 'protos', name: 'mask_protos', type: 'float32', dims: [1, null, null, null] },
  ],
};

/** Both contracts; a file is matched to one by its input's name. */
export const FASTSAM_CONTRACTS: readonly FastSamContract[] = [FASTSAM_ULTRALYTICS_CONTRACT, FASTSAM_QUALCOMM_CONTRACT];

/** The detections of one run whose score passed the threshold, in anchor order. */
export interface RawDetections {
  /** x1, y1, x2, y2 per detection, in input pixels. */
  readonly boxes: Float32Array;
  readonly scores: Float32Array;
  /** 32 mask coefficients per detection. */
  readonly coefficients: Float32Array;
  /** Prototypes, channel-first [32, height, width]. */
  readonly protos: Float32Array;
  readonly protoSize: Size;
}

/** A FastSAM file opened and checked against its export's contract. */
export interface FastSamModel {
  readonly path: string;
  readonly contract: FastSamContract;
  /** The input size the file fixes, or undefined when its sides are symbolic. */
  readonly fixedInput: Size | undefined;
  /**
   * Whether ultralytics' predictor would feed this file the minimum rectangle rather than the
   * whole square: it does for a file whose first output has a symbolic batch axis (a
   * `dynamic=True` export; AutoBackend's `dynamic`), here only when the sides are symbolic too.
   */
  readonly minimumRectangle: boolean;
  /** Run on a letterboxed input [3, H, W] and keep the detections scoring above `conf`. */
  detect(planes: Float32Array, input: Size, conf: number): Promise<RawDetections>;
  release(): Promise<void>;
}

function fail(path: string, what: string): never {
  throw new ModelContractError(`${path}: does not follow the fastsam contract: ${what}`);
}

const describeInput = (c: FastSamContract) => `${c.input.name} ${formatDims(c.input.dims)} (${c.label})`;

/**
 * A hint for an `output0` whose row count is not 37: 4 box rows + classes + 32
 * coefficients is a YOLO-seg model with that many classes; FastSAM has one.
 */
function rowsHint(rows: number | string | undefined): string {
  if (typeof rows !== 'number') return '';
  const classes = rows - 4 - PROTO_CHANNELS;
  return classes > 1 ? `: a YOLO segmentation model with ${classes} classes? FastSAM has 1 class (37 rows)` : '';
}

/** Match `session` to a contract and check every tensor; throws a one-line ModelContractError. */
function checkFastSamSession(session: ModelSession): { contract: FastSamContract; fixedInput: Size | undefined; minimumRectangle: boolean } {
  const path = session.path;
  const names = (list: readonly { name: string }[]) => list.map((t) => t.name).join(', ');
  const wanted = FASTSAM_CONTRACTS.map(describeInput).join(' or ');
  if (session.inputs.length !== 1) {
    fail(path, `it has ${session.inputs.length} inputs (${names(session.inputs)}), expected one: ${wanted}`);
  }
  const input = session.inputs[0];
  const contract = FASTSAM_CONTRACTS.find((c) => c.input.name === input.name);
  if (!contract) fail(path, `its input is ${input.name} ${formatDims(input.dims)}, expected ${wanted}`);
  const inputProblem = tensorMismatch(contract.input, input);
  if (inputProblem) fail(path, `${inputProblem} (${contract.label})`);
  const outputs = contract.outputs.map((spec) => {
    const actual = session.outputs.find((o) => o.name === spec.name);
    if (!actual) {
      const hint = contract.export === 'ultralytics' && session.outputs.length === 1 ? ': a YOLO detection model without masks?' : '';
      fail(path, `missing output ${spec.name} of the ${contract.label} (its outputs: ${names(session.outputs)})${hint}`);
    }
    return { spec, actual };
  });
  for (const { spec, actual } of outputs) {
    const problem = tensorMismatch(spec, actual);
    if (problem) fail(path, `output ${problem}${spec.role === 'detections' ? rowsHint(actual.dims[1]) : ''}`);
    if (spec.role === 'protos' && actual.dims.length === 4) {
      const [, c, , last] = actual.dims;
      if (typeof c === 'number' && c !== PROTO_CHANNELS && typeof last === 'number' && last !== PROTO_CHANNELS) {
        fail(path, `output ${spec.name} has shape ${formatDims(actual.dims)}, expected ${PROTO_CHANNELS} prototype channels first or last`);
      }
    }
  }
  const [, , h, w] = input.dims;
  const fixedInput = typeof h === 'number' && typeof w === 'number' ? { width: w, height: h } : undefined;
  const minimumRectangle = contract.export === 'ultralytics' && !fixedInput && typeof session.outputs[0]?.dims[0] === 'string';
  return { contract, fixedInput, minimumRectangle };
}

/** Open `path` as a FastSAM model and check it against the contracts (fails at load, not mid-batch). */
export async function openFastSamModel(path: string, options: OpenOptions = {}): Promise<FastSamModel> {
  const session = await ModelSession.open(path, 'model', options, options.observer);
  let checked: ReturnType<typeof checkFastSamSession>;
  try {
    checked = checkFastSamSession(session);
  } catch (err) {
    await session.release();
    throw err;
  }
  const { contract, fixedInput, minimumRectangle } = checked;
  const spec = (role: FastSamOutputRole) => contract.outputs.find((o) => o.role === role)!;
  return {
    path,
    contract,
    fixedInput,
    minimumRectangle,
    async detect(planes, input, conf) {
      const outputs = await session.run({ [contract.input.name]: new ort.Tensor('float32', planes, [1, 3, input.height, input.width]) });
      const get = (role: FastSamOutputRole) => {
        const s = spec(role);
        const t = outputs[s.name];
        checkRunShape(session, s, t.dims as number[]);
        return t;
      };
      const protos = readProtos(session, get('protos'));
      return contract.export === 'ultralytics'
        ? { ...readUltralytics(get('detections'), conf), ...protos }
        : { ...readQualcomm(session, get('boxes'), get('scores'), get('coefficients'), conf), ...protos };
    },
    release: () => session.release(),
  };
}

/** The prototypes as channel-first planes, whichever side the channels are on. */
function readProtos(session: ModelSession, t: ort.Tensor): { protos: Float32Array; protoSize: Size } {
  const [, a, b, c] = t.dims as number[];
  const data = t.data as Float32Array;
  if (a === PROTO_CHANNELS) return { protos: data, protoSize: { width: c, height: b } };
  if (c !== PROTO_CHANNELS) {
    throw new ModelContractError(`${session.path}: the model returned prototypes of shape ${formatDims(t.dims)}, expected ${PROTO_CHANNELS} channels first or last`);
  }
  // [1, H, W, 32] -> [32, H, W]
  const plane = a * b;
  const out = new Float32Array(PROTO_CHANNELS * plane);
  for (let p = 0; p < plane; p++) for (let k = 0; k < PROTO_CHANNELS; k++) out[k * plane + p] = data[p * PROTO_CHANNELS + k];
  return { protos: out, protoSize: { width: b, height: a } };
}

/** The detections of a run without the prototypes. */
type Detections = Omit<RawDetections, 'protos' | 'protoSize'>;

/**
 * The anchors of `n` whose score is above `conf`, in anchor order, read through an
 * export's layout: anchor i's score, its box (x1, y1, x2, y2) and its coefficient k.
 */
function gather(
  n: number,
  conf: number,
  scoreAt: (i: number) => number,
  boxAt: (i: number) => ArrayLike<number>,
  coefficientAt: (i: number, k: number) => number,
): Detections {
  const keep: number[] = [];
  // torch compares the float32 scores with the threshold cast to float32 (0.4 -> 0.40000000596).
  const cut = Math.fround(conf);
  for (let i = 0; i < n; i++) if (scoreAt(i) > cut) keep.push(i);
  const boxes = new Float32Array(4 * keep.length);
  const scores = new Float32Array(keep.length);
  const coefficients = new Float32Array(PROTO_CHANNELS * keep.length);
  keep.forEach((i, j) => {
    boxes.set(boxAt(i), 4 * j);
    scores[j] = scoreAt(i);
    for (let k = 0; k < PROTO_CHANNELS; k++) coefficients[PROTO_CHANNELS * j + k] = coefficientAt(i, k);
  });
  return { boxes, scores, coefficients };
}

/** output0 [1, 37, N]: one row per field (cx, cy, w, h, score, coefficients), one column per anchor. */
function readUltralytics(t: ort.Tensor, conf: number): Detections {
  const n = t.dims[2];
  const d = t.data as Float32Array;
  const box = (i: number) => {
    const cx = d[i];
    const cy = d[n + i];
    const hw = d[2 * n + i] / 2;
    const hh = d[3 * n + i] / 2;
    return [cx - hw, cy - hh, cx + hw, cy + hh];
  };
  return gather(n, conf, (i) => d[4 * n + i], box, (i, k) => d[(5 + k) * n + i]);
}

/** Qualcomm's boxes [1, N, 4] (x1y1x2y2), scores [1, N], mask_coeffs [1, N, 32]. */
function readQualcomm(session: ModelSession, boxT: ort.Tensor, scoreT: ort.Tensor, coefT: ort.Tensor, conf: number): Detections {
  const n = scoreT.dims[1];
  if (boxT.dims[1] !== n || coefT.dims[1] !== n) {
    throw new ModelContractError(
      `${session.path}: the model returned ${boxT.dims[1]} boxes, ${n} scores and ${coefT.dims[1]} coefficient rows; they must match`,
    );
  }
  const b = boxT.data as Float32Array;
  const s = scoreT.data as Float32Array;
  const c = coefT.data as Float32Array;
  return gather(n, conf, (i) => s[i], (i) => b.subarray(4 * i, 4 * i + 4), (i, k) => c[PROTO_CHANNELS * i + k]);
}
