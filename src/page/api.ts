/**
 * The page's calls to its samlite server. The token travels as the cookie the printed URL
 * set, so these are plain same-origin requests.
 */

/** One step of the current object: what one click added, and the kept candidate. */
export interface StepJson {
  points?: [number, number][];
  neg_points?: [number, number][];
  box?: [number, number, number, number];
  mask_index?: number;
}

/** A prompt set as the prompts file writes it. */
export type PromptJson = { steps: StepJson[] } | (StepJson & { steps?: undefined });

/** COCO compressed RLE. */
export interface CocoRle {
  size: [number, number];
  counts: string;
}

/** One mask of an answer: the CLI's record plus the model's index of the mask. */
export interface MaskAnswer {
  width: number;
  height: number;
  mask_index: number;
  predicted_iou: number;
  area: number;
  bbox: [number, number, number, number];
  segmentation: CocoRle;
}

/** What the served model can do. */
export interface ModelLimits {
  name: string;
  family: string;
  backgroundPoints: boolean;
  maxPoints: number | null;
  refines: boolean;
  selects: boolean;
}

export interface SessionObject {
  category: string;
  prompt: PromptJson;
}

/** A request that failed: its status and the server's one-line message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = { error: text };
  }
  if (!res.ok) throw new ApiError(res.status, (value as { error?: string }).error ?? `HTTP ${res.status}`);
  return value as T;
}

/** Where the image of a request comes from: a served name, or uploaded bytes. */
export type ImageRef = { image: string } | { image_data: string; image_name: string };

export const api = {
  models: () => call<{ serving: ModelLimits }>('/api/models'),
  images: () => call<{ folder: string | null; images: string[] }>('/api/images'),
  session: () => call<{ file: string | null; categories: { id: number; name: string }[]; images: Record<string, SessionObject[]> }>('/api/session'),
  prepare: (image: ImageRef) => call<{ ms: number }>('/api/prepare', image),
  segment: (image: ImageRef, prompt: PromptJson, previewSide: number, multimask: boolean) =>
    call<{ width: number; height: number; best: number; masks: MaskAnswer[] }>('/api/segment', { ...image, prompt, preview_side: previewSide, multimask }),
  everything: (image: ImageRef) => call<{ annotations: { segmentation: CocoRle; bbox: [number, number, number, number]; point_coords: [number, number][] }[] }>('/api/everything', image),
  save: (image: string, objects: SessionObject[], categories: string[]) => call<{ files: string[]; problems: string[] }>('/api/save', { image, objects, categories }),
};
