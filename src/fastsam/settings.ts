/**
 * FastSAM's detection settings: the confidence threshold, box NMS, the number of
 * detections kept and the input size. The defaults are FastSAM's own CLI defaults
 * (Inference.py), which differ from ultralytics' predict defaults (conf 0.25, iou 0.7,
 * imgsz 640).
 */
import { UsageError } from '../util/errors.js';

/** The settings, resolved. */
export interface FastSamSettings {
  /** Keep detections whose score is strictly above this. Default 0.4. */
  readonly conf: number;
  /** Box IoU above which NMS drops the lower-scored detection. Default 0.9. */
  readonly iou: number;
  /** Detections kept after NMS, best first. Default 300. */
  readonly maxDet: number;
  /**
   * Side of the square input for a file that leaves its input size symbolic. Undefined
   * here means "not asked for": the manifest's `imgsz`, else {@link DEFAULT_IMGSZ}. A file
   * with a fixed size runs at that size, and asking for another is an error.
   */
  readonly imgsz: number | undefined;
}

/** What callers may pass: any subset. */
export type FastSamSettingsInput = Partial<FastSamSettings>;

/** FastSAM's defaults (its Inference.py and README). */
export const FASTSAM_DEFAULTS: Readonly<FastSamSettings> = Object.freeze({ conf: 0.4, iou: 0.9, maxDet: 300, imgsz: undefined });

/** Input side used when neither the file, the caller nor the manifest fixes one. */
export const DEFAULT_IMGSZ = 1024;

/** Every side of a YOLOv8-seg input is a multiple of its largest stride. */
const IMGSZ_STRIDE = 32;
const IMGSZ_MIN = 32;
const IMGSZ_MAX = 4096;

/** ultralytics' cap on candidates entering NMS (max_nms); more detections than this cannot come out. */
export const MAX_NMS = 30000;

/** Why `value` is not a usable input side, or undefined when it is. */
export function imgszProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < IMGSZ_MIN || value > IMGSZ_MAX || value % IMGSZ_STRIDE !== 0) {
    return `must be a multiple of ${IMGSZ_STRIDE} from ${IMGSZ_MIN} to ${IMGSZ_MAX} (got ${JSON.stringify(value) ?? String(value)})`;
  }
  return undefined;
}

/**
 * Accepted ranges of the numeric settings, inclusive; the CLI's flags take the same ranges
 * (src/cli/ranges.ts). imgsz has its stride rule besides (see {@link imgszProblem}).
 */
export const FASTSAM_LIMITS = Object.freeze({
  conf: { min: 0, max: 1 },
  iou: { min: 0, max: 1 },
  maxDet: { min: 1, max: MAX_NMS },
});

const L = FASTSAM_LIMITS;

/** The range of each setting, in words, for messages and help. */
export const FASTSAM_RANGES = {
  conf: `a number from ${L.conf.min} to ${L.conf.max}`,
  iou: `a box IoU from ${L.iou.min} to ${L.iou.max}`,
  maxDet: `a whole number from ${L.maxDet.min} to ${L.maxDet.max}`,
  imgsz: `a multiple of ${IMGSZ_STRIDE} from ${IMGSZ_MIN} to ${IMGSZ_MAX}`,
} as const;

function fail(name: keyof FastSamSettings, got: unknown): never {
  throw new UsageError(`fastsam option ${name} must be ${FASTSAM_RANGES[name]} (got ${JSON.stringify(got) ?? String(got)})`);
}

/** Fill in the defaults and check every setting, throwing a UsageError that names it and its range. */
export function resolveFastSamSettings(input: FastSamSettingsInput = {}): FastSamSettings {
  const known = Object.keys(FASTSAM_RANGES);
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) throw new UsageError(`unknown fastsam option ${key} (known: ${known.join(', ')})`);
  }
  const o = { ...FASTSAM_DEFAULTS, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) };
  const unit = (name: 'conf' | 'iou', v: unknown) => (typeof v === 'number' && v >= L[name].min && v <= L[name].max ? v : fail(name, v));
  const maxDet = o.maxDet;
  if (typeof maxDet !== 'number' || !Number.isInteger(maxDet) || maxDet < L.maxDet.min || maxDet > L.maxDet.max) fail('maxDet', maxDet);
  if (o.imgsz !== undefined && imgszProblem(o.imgsz)) fail('imgsz', o.imgsz);
  return { conf: unit('conf', o.conf), iou: unit('iou', o.iou), maxDet, imgsz: o.imgsz };
}
