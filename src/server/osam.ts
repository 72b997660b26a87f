/**
 * osam's HTTP API (`POST /api/generate`), request and response as osam's server and types
 * define them, so osam's clients work against samlite unchanged:
 *
 *   request  {model, image?: base64 image file, image_embedding?: {original_height,
 *            original_width, embedding: [256][64][64] floats, extra_features: []},
 *            prompt?: {points: [[x, y]], point_labels: [1|0|2|3], ...}, annotations?}
 *   response {model, image_embedding, annotations: [{bounding_box: {xmin, ymin, xmax, ymax},
 *            text: null, score: null, mask: base64 PNG cropped to the box}]}
 *
 * Errors as FastAPI gives them: 400 {"detail": "Model 'x' not found."} for osam's
 * ValueErrors, 422 {"detail": [{loc, msg, type}]} for a request its types refuse.
 */
import { encodeMaskPng } from '../image/encode.js';
import type { ImageEmbedding } from '../families/types.js';
import { maskToCrop } from '../masks/crop.js';
import type { BinaryMask } from '../masks/types.js';
import type { Box, Point, Prompt } from '../prompts/types.js';
import { findCatalogEntry } from '../store/registry.js';

/** osam's model names and the catalog models they are (osam: `name` alone means `name:latest`). */
export const OSAM_MODELS: Readonly<Record<string, string>> = {
  'efficientsam:10m': 'efficientsam-ti',
  'efficientsam:latest': 'efficientsam-s',
  'sam:100m': 'sam-vit-b',
  'sam2:tiny': 'sam2.1-tiny',
  'sam2:small': 'sam2.1-small',
  'sam2:latest': 'sam2.1-base-plus',
  'sam2:large': 'sam2.1-large',
};

/** An answer in FastAPI's shape: the status and the JSON body. */
export class OsamError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(typeof (body as { detail?: unknown }).detail === 'string' ? (body as { detail: string }).detail : 'invalid request');
  }
}

/** osam's ValueError answer: 400 with the message as `detail`. */
function valueError(message: string): OsamError {
  return new OsamError(400, { detail: message });
}

/** A validation failure as FastAPI reports pydantic's: 422 with one entry. */
function invalid(loc: (string | number)[], msg: string): OsamError {
  return new OsamError(422, { detail: [{ type: 'value_error', loc: ['body', ...loc], msg, input: null }] });
}

/** Python's repr of a string, as osam's messages quote model names. */
function pyRepr(text: string): string {
  return text.includes("'") && !text.includes('"') ? `"${text}"` : `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * The osam name's canonical form (`efficientsam` → `efficientsam:latest`) and the samlite
 * model it is: an osam name of a catalog model, or any samlite model name as it is. An
 * unknown name is osam's 400 "Model 'x' not found.".
 */
export function osamModel(name: string, known: (samliteName: string) => boolean = (n) => findCatalogEntry(n) !== undefined): { osamName: string; samlite: string } {
  const osamName = name.includes(':') ? name : `${name}:latest`;
  const mapped = OSAM_MODELS[osamName];
  if (mapped !== undefined && known(mapped)) return { osamName, samlite: mapped };
  if (!name.includes(':') && known(name)) return { osamName: name, samlite: name };
  throw valueError(`Model ${pyRepr(name)} not found.`);
}

/** A generate request, checked the way osam's pydantic types check it. */
export interface OsamRequest {
  readonly model: string;
  /** The image file's bytes (the base64 `image`). */
  readonly image?: Uint8Array;
  readonly embedding?: { readonly width: number; readonly height: number; readonly data: Float32Array };
  /** Undefined: osam prompts with the image's centre. */
  readonly prompt?: Prompt;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parse a generate request; a shape osam's types refuse is a 422, a prompt osam refuses a 400. */
export function parseOsamRequest(body: unknown): OsamRequest {
  if (!isObject(body)) throw invalid([], 'Input should be a valid dictionary or object to extract fields from');
  const { model, image, image_embedding: embedding, prompt } = body;
  if (typeof model !== 'string') throw invalid(['model'], model === undefined ? 'Field required' : 'Input should be a valid string');
  let bytes: Uint8Array | undefined;
  if (image !== undefined && image !== null) {
    if (typeof image !== 'string') throw invalid(['image'], 'expected a base64 string of an image file');
    bytes = Buffer.from(image, 'base64');
    if (bytes.length === 0) throw invalid(['image'], 'empty image');
  }
  return {
    model,
    ...(bytes ? { image: bytes } : {}),
    ...(embedding !== undefined && embedding !== null ? { embedding: parseEmbedding(embedding) } : {}),
    ...(prompt !== undefined && prompt !== null ? { prompt: parsePrompt(prompt) } : {}),
  };
}

function parseEmbedding(value: unknown): NonNullable<OsamRequest['embedding']> {
  if (!isObject(value)) throw invalid(['image_embedding'], 'Input should be a valid dictionary');
  const { original_height: height, original_width: width, embedding, extra_features: extra } = value;
  for (const [key, v] of [['original_height', height], ['original_width', width]] as const) {
    if (!Number.isInteger(v) || (v as number) < 1) throw invalid(['image_embedding', key], 'Input should be a valid positive integer');
  }
  if (Array.isArray(extra) && extra.length > 0) throw valueError('image_embedding.extra_features are not supported by this server');
  if (!Array.isArray(embedding)) throw invalid(['image_embedding', 'embedding'], 'Input should be a valid list');
  // [256][64][64] nested lists, flattened channel-first like the encoder's output.
  const data = new Float32Array(256 * 64 * 64);
  let n = 0;
  const fail = () => invalid(['image_embedding', 'embedding'], 'embedding must be a [256][64][64] list of numbers');
  if (embedding.length !== 256) throw fail();
  for (const plane of embedding) {
    if (!Array.isArray(plane) || plane.length !== 64) throw fail();
    for (const row of plane) {
      if (!Array.isArray(row) || row.length !== 64) throw fail();
      for (const v of row) {
        if (typeof v !== 'number') throw fail();
        data[n++] = v;
      }
    }
  }
  return { width: width as number, height: height as number, data };
}

/** osam's prompt: points with labels 1 foreground, 0 background, 2/3 box corners, -1 ignored. */
function parsePrompt(value: unknown): Prompt | undefined {
  if (!isObject(value)) throw invalid(['prompt'], 'Input should be a valid dictionary');
  const { points, point_labels: labels, texts } = value;
  if (points === undefined || points === null || labels === undefined || labels === null) {
    if (points == null && labels == null && texts == null) throw invalid(['prompt'], 'Value error, texts must be provided when points and point_labels are not provided');
    if (points == null && labels == null) throw valueError('Prompt must contain points and point_labels: text prompts are not supported by this server');
    throw invalid(['prompt'], 'Value error, points and point_labels must have the same number of rows');
  }
  if (!Array.isArray(points) || !points.every((p) => Array.isArray(p) && p.length === 2 && p.every((c) => typeof c === 'number' && Number.isFinite(c)))) {
    throw invalid(['prompt', 'points'], 'Value error, points must have 2 columns');
  }
  if (!Array.isArray(labels) || !labels.every((l) => Number.isInteger(l))) throw invalid(['prompt', 'point_labels'], 'Value error, point_labels must be 1-dimensional');
  if (!labels.every((l) => [0, 1, 2, 3, -1].includes(l as number))) throw invalid(['prompt', 'point_labels'], 'Value error, point_labels must contain only 0, 1, 2, or 3');
  if (points.length !== labels.length) throw invalid(['prompt'], 'Value error, points and point_labels must have the same number of rows');
  const fg: Point[] = [];
  const bg: Point[] = [];
  let corner1: Point | undefined;
  let corner2: Point | undefined;
  points.forEach(([x, y]: number[], i: number) => {
    const p = { x, y };
    const label = labels[i] as number;
    if (label === 1) fg.push(p);
    else if (label === 0) bg.push(p);
    else if (label === 2) corner1 = p;
    else if (label === 3) corner2 = p;
  });
  if ((corner1 === undefined) !== (corner2 === undefined)) throw valueError('a box needs both corners: one point labelled 2 (top-left) and one labelled 3 (bottom-right)');
  const box: Box | undefined = corner1 && corner2 ? { x1: corner1.x, y1: corner1.y, x2: corner2.x, y2: corner2.y } : undefined;
  return { points: fg, negPoints: bg, ...(box ? { box } : {}) };
}

/** osam's default prompt when none is given: one foreground click at the image's centre. */
export function centrePrompt(size: { width: number; height: number }): Prompt {
  return { points: [{ x: size.width / 2, y: size.height / 2 }] };
}

/**
 * One annotation as osam builds it: imgviz's box (y2/x2 one past the last mask pixel),
 * capped at the image's last row and column so the crop (`[ymin, ymax]` inclusive, as osam
 * slices it) has the shape osam's Annotation type checks; the crop as a 0/255 PNG.
 */
export async function osamAnnotation(mask: BinaryMask): Promise<{ bounding_box: { xmin: number; ymin: number; xmax: number; ymax: number }; text: null; score: null; mask: string }> {
  const { width: w, height: h, data } = mask;
  const tight = maskToCrop(mask);
  // An empty mask: imgviz leaves the box at zeros, and the crop is the top-left pixel.
  const box = tight
    ? { xmin: tight.x, ymin: tight.y, xmax: Math.min(tight.x + tight.width, w - 1), ymax: Math.min(tight.y + tight.height, h - 1) }
    : { xmin: 0, ymin: 0, xmax: 0, ymax: 0 };
  const cw = box.xmax - box.xmin + 1;
  const ch = box.ymax - box.ymin + 1;
  const crop = new Uint8Array(cw * ch);
  for (let y = 0; y < ch; y++) crop.set(data.subarray((box.ymin + y) * w + box.xmin, (box.ymin + y) * w + box.xmin + cw), y * cw);
  const png = await encodeMaskPng({ width: cw, height: ch, data: crop });
  return { bounding_box: box, text: null, score: null, mask: png.toString('base64') };
}

/**
 * The response's `image_embedding` as JSON text: osam serialises the [256, 64, 64] array
 * as nested lists (and the extra features, here none, as a list). Written by hand: a
 * million numbers through JSON.stringify's nested arrays costs several times more.
 */
export function osamEmbeddingJson(embedding: ImageEmbedding): string {
  const { data } = embedding;
  const planes: string[] = [];
  for (let c = 0; c < 256; c++) {
    const rows: string[] = [];
    for (let y = 0; y < 64; y++) rows.push(`[${Array.from(data.subarray(c * 4096 + y * 64, c * 4096 + y * 64 + 64)).join(',')}]`);
    planes.push(`[${rows.join(',')}]`);
  }
  return `{"original_height":${embedding.image.height},"original_width":${embedding.image.width},"embedding":[${planes.join(',')}],"extra_features":[]}`;
}
