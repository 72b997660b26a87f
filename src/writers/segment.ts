import type { RgbImage } from '../image/types.js';
import { maskToCrop } from '../masks/crop.js';
import { maskOutline } from '../masks/outline.js';
import { maskToRle, toCocoRle, type CocoRle, type Rle } from '../masks/rle.js';
import type { BinaryMask, BoxXYWH } from '../masks/types.js';
import type { Prompt, PromptStep } from '../prompts/types.js';
import {
  blendCrop,
  canvasFrom,
  defaultOutlineWidth,
  fillDisc,
  fillSquare,
  strokeRect,
  type Rgb,
} from './draw.js';
import { writeOutputFile, type WriteOptions } from './files.js';
import { maskStats } from './mask-stats.js';
import { segmentOutputPath, type OutputTarget, type SegmentFormat } from './naming.js';
import { writePng, type RawPixels } from './png.js';

/** One mask of `samlite segment`, as the pipeline hands it to the writers. */
export interface SegmentMask {
  /** 0-based position of the prompt set among the image's prompt sets (used in file names). */
  readonly promptIndex: number;
  /** The prompt set's `id` from a prompts file, copied to the record. */
  readonly promptId?: string | number;
  /** The prompt (an interactive prompt's every click). */
  readonly prompt: Prompt;
  /** An interactive prompt's steps, written into the record instead of `prompt`'s clicks. */
  readonly steps?: readonly PromptStep[];
  /** The model's mask the person kept instead of the family's choice. */
  readonly maskIndex?: number;
  /** From a detection file: the box's category, copied to the record. */
  readonly category?: { readonly id: number; readonly name: string };
  /** From a detection file: the detection's id and score, copied to the record. */
  readonly detectionId?: string | number;
  readonly detectionScore?: number;
  /** With `--multimask`: 0-based rank among the model's candidates. Absent otherwise. */
  readonly candidate?: number;
  /** The mask at full image resolution. Read only for the PNG formats when `rle` is given. */
  readonly mask: BinaryMask;
  /** The mask's RLE when the caller has it (a PromptMask's); otherwise computed from `mask`. */
  readonly rle?: Rle;
  readonly predictedIou: number;
}

/** A prompt in the record, in the prompts-file shape so it can be fed back unchanged. */
export interface PromptJson {
  points?: [number, number][];
  neg_points?: [number, number][];
  /** Corners [x1, y1, x2, y2], as given (not XYWH). */
  box?: [number, number, number, number];
  /** The kept mask, when not the family's choice. */
  mask_index?: number;
  /** An interactive prompt: what each click added (then no points, neg_points or box). */
  steps?: PromptJson[];
}

/** The `json` output of `samlite segment`: one record per mask. */
export interface SegmentRecord {
  /** The input image as shown to the user (the CLI passes the path as given). */
  image: string;
  width: number;
  height: number;
  prompt_index: number;
  prompt_id?: string | number;
  /** From a detection file: the box's category id and name, its detection id and score. */
  category_id?: number;
  category?: string;
  detection_id?: string | number;
  detection_score?: number;
  candidate?: number;
  prompt: PromptJson;
  /** [x, y, w, h], COCO convention (w = x_max - x_min + 1). */
  bbox: BoxXYWH;
  area: number;
  predicted_iou: number;
  /** COCO compressed RLE over the full image; decodes with pycocotools unchanged. */
  segmentation: CocoRle;
}

/** The stdout JSON line for one written mask: the record plus the paths written, by format. */
export interface SegmentOutputLine extends SegmentRecord {
  files: Partial<Record<SegmentFormat, string>>;
}

export interface SegmentWriteOptions extends WriteOptions {
  /** The `image` field of the record; default the target's input path. */
  readonly imageName?: string;
  /** Outline width of the overlay in pixels; default grows with the image size. */
  readonly outlineWidth?: number;
}

/** Fill colour of the mask in the `segment` overlay (SAM's demo blue). */
export const SEGMENT_MASK_COLOUR: Rgb = [30, 144, 255];
/** Opacity of the mask fill in the `segment` overlay. */
export const SEGMENT_MASK_ALPHA = 0.5;
/** Foreground points: green discs. */
export const POSITIVE_POINT_COLOUR: Rgb = [0, 200, 0];
/** Background points: red squares, a different shape so colour is not the only cue. */
export const NEGATIVE_POINT_COLOUR: Rgb = [230, 30, 30];
/** The prompt box: a yellow frame. */
export const BOX_COLOUR: Rgb = [255, 215, 0];
const MARKER_RIM: Rgb = [255, 255, 255];

/** The prompt in the record's shape (the prompts-file shape). */
export function promptToJson(prompt: Prompt): PromptJson {
  const out: PromptJson = {};
  if (prompt.points?.length) out.points = prompt.points.map((p) => [p.x, p.y]);
  if (prompt.negPoints?.length) out.neg_points = prompt.negPoints.map((p) => [p.x, p.y]);
  if (prompt.box) out.box = [prompt.box.x1, prompt.box.y1, prompt.box.x2, prompt.box.y2];
  return out;
}

/**
 * An interactive prompt's steps in the prompts-file shape: what each click added to the one
 * before, and the mask kept where the person chose one.
 */
export function stepsToJson(steps: readonly PromptStep[]): PromptJson[] {
  return steps.map((step, i) => {
    const before = i > 0 ? steps[i - 1].prompt : {};
    const { prompt } = step;
    const box = prompt.box && prompt.box !== before.box ? { box: prompt.box } : {};
    const added = promptToJson({
      points: prompt.points?.slice(before.points?.length ?? 0),
      negPoints: prompt.negPoints?.slice(before.negPoints?.length ?? 0),
      ...box,
    });
    return step.maskIndex === undefined ? added : { ...added, mask_index: step.maskIndex };
  });
}

/** The prompt set's record field: its steps, or its clicks and kept mask. */
function promptSetJson(m: SegmentMask): PromptJson {
  if (m.steps) return { steps: stepsToJson(m.steps) };
  const json = promptToJson(m.prompt);
  return m.maskIndex === undefined ? json : { ...json, mask_index: m.maskIndex };
}

/** The mask's RLE: the one it carries, else made from its bytes. */
function rleOf(m: SegmentMask): Rle {
  return m.rle ?? maskToRle(m.mask);
}

/**
 * Build the JSON record of one segment mask; `image` is the input path written in it. `rle`
 * is the mask's RLE when the caller already has it (default: `m.rle`, else computed from the
 * mask). The size comes from the RLE, so a mask given as RLE is never made into bytes here.
 */
export function segmentRecord(image: string, m: SegmentMask, rle: Rle = rleOf(m)): SegmentRecord {
  const { bbox, area } = maskStats(rle);
  return {
    image,
    width: rle.size[1],
    height: rle.size[0],
    prompt_index: m.promptIndex,
    ...(m.promptId !== undefined ? { prompt_id: m.promptId } : {}),
    ...(m.category !== undefined ? { category_id: m.category.id, category: m.category.name } : {}),
    ...(m.detectionId !== undefined ? { detection_id: m.detectionId } : {}),
    ...(m.detectionScore !== undefined ? { detection_score: m.detectionScore } : {}),
    ...(m.candidate !== undefined ? { candidate: m.candidate } : {}),
    prompt: promptSetJson(m),
    bbox,
    area,
    predicted_iou: m.predictedIou,
    segmentation: toCocoRle(rle),
  };
}

/** The `mask` output's pixels: one channel, 255 on the mask and 0 elsewhere. */
export function maskPixels(mask: BinaryMask): RawPixels {
  const data = new Uint8Array(mask.width * mask.height);
  for (let i = 0; i < data.length; i++) data[i] = mask.data[i] !== 0 ? 255 : 0;
  return { width: mask.width, height: mask.height, channels: 1, data };
}

/**
 * The `cutout` output's pixels: RGBA, alpha 255 on the mask and 0 elsewhere. Colour under
 * transparent pixels is zeroed: it is invisible anyway, and zeros compress better and do
 * not carry the rest of the photo along in the file.
 */
export function cutoutPixels(image: RgbImage, mask: BinaryMask): RawPixels {
  checkSameSize(image, mask);
  const n = mask.width * mask.height;
  const data = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    if (mask.data[i] === 0) continue;
    data[i * 4] = image.data[i * 3];
    data[i * 4 + 1] = image.data[i * 3 + 1];
    data[i * 4 + 2] = image.data[i * 3 + 2];
    data[i * 4 + 3] = 255;
  }
  return { width: mask.width, height: mask.height, channels: 4, data };
}

/**
 * The `overlay` output: the image with the mask blended in {@link SEGMENT_MASK_COLOUR} at
 * {@link SEGMENT_MASK_ALPHA}, its inner outline in the same colour, opaque, then the prompt
 * on top — the box as a yellow frame, foreground points as green discs and background
 * points as red squares, both with a white rim so they show on any background. Marker
 * sizes grow with the image.
 */
export function renderSegmentOverlay(
  image: RgbImage,
  mask: BinaryMask,
  prompt: Prompt = {},
  options: { outlineWidth?: number } = {},
): RgbImage {
  checkSameSize(image, mask);
  const canvas = canvasFrom(image);
  const line = options.outlineWidth ?? defaultOutlineWidth(image.width, image.height);
  const crop = maskToCrop(mask);
  if (crop) {
    blendCrop(canvas, crop, SEGMENT_MASK_COLOUR, SEGMENT_MASK_ALPHA);
    blendCrop(canvas, crop, SEGMENT_MASK_COLOUR, 1, maskOutline(crop, line));
  }
  const radius = Math.max(4, Math.round(Math.max(image.width, image.height) / 120));
  const rim = Math.max(1, Math.round(radius / 4));
  if (prompt.box) strokeRect(canvas, prompt.box.x1, prompt.box.y1, prompt.box.x2, prompt.box.y2, line + 1, BOX_COLOUR);
  for (const p of prompt.negPoints ?? []) {
    fillSquare(canvas, Math.round(p.x), Math.round(p.y), radius, MARKER_RIM);
    fillSquare(canvas, Math.round(p.x), Math.round(p.y), radius - rim, NEGATIVE_POINT_COLOUR);
  }
  for (const p of prompt.points ?? []) {
    fillDisc(canvas, p.x, p.y, radius, MARKER_RIM);
    fillDisc(canvas, p.x, p.y, radius - rim, POSITIVE_POINT_COLOUR);
  }
  return canvas;
}

/**
 * Write the chosen `formats` for one segment mask, named by {@link segmentOutputPath}, and
 * return the files written, the record for the stdout JSON line and the mask's RLE (so a
 * caller adding it to a dataset does not scan the mask again). Each file is written
 * atomically; without `overwrite` an existing output is an error.
 */
export async function writeSegmentOutputs(
  image: RgbImage,
  m: SegmentMask,
  target: OutputTarget,
  formats: readonly SegmentFormat[],
  options: SegmentWriteOptions = {},
): Promise<{ files: string[]; record: SegmentOutputLine; rle: Rle }> {
  const rle = rleOf(m);
  checkSameSize(image, { width: rle.size[1], height: rle.size[0] });
  const record = segmentRecord(options.imageName ?? target.input, m, rle);
  const paths: Partial<Record<SegmentFormat, string>> = {};
  const files: string[] = [];
  for (const format of new Set(formats)) {
    const path = segmentOutputPath(target, format, m.promptIndex, m.candidate);
    if (format === 'mask') await writePng(path, maskPixels(m.mask), options);
    else if (format === 'cutout') await writePng(path, cutoutPixels(image, m.mask), options);
    else if (format === 'overlay') {
      const overlay = renderSegmentOverlay(image, m.mask, m.prompt, options);
      await writePng(path, { ...overlay, channels: 3 }, options);
    } else await writeOutputFile(path, `${JSON.stringify(record)}\n`, options);
    paths[format] = path;
    files.push(path);
  }
  return { files, record: { ...record, files: paths }, rle };
}

function checkSameSize(image: { width: number; height: number }, mask: { width: number; height: number }): void {
  if (image.width !== mask.width || image.height !== mask.height) {
    throw new RangeError(`mask is ${mask.width}x${mask.height} but the image is ${image.width}x${image.height}`);
  }
}
