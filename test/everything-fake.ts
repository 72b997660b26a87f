/**
 * Test doubles for segment-everything: a FamilyAdapter over flat-coloured images (the
 * region under a point is its 4-connected same-colour region), a scripted adapter, and
 * a small scene generator with ground truth.
 */
import { resizeLongestSide } from '../src/families/contracts.js';
import type { DecodedMasks, FamilyAdapter, ImageEmbedding, Size } from '../src/families/types.js';
import type { RgbImage } from '../src/image/types.js';
import type { Point, Prompt } from '../src/prompts/types.js';
import type { BinaryMask } from '../src/masks/types.js';

/** One candidate a fake returns: its predicted IoU and logits as a function of frame pixels. */
export interface FakeCandidate {
  readonly iou: number;
  /** Logit at continuous pixel position (x, y) of the encoded image (or crop). */
  readonly logit: (x: number, y: number) => number;
  /**
   * Same key, same logits (per embedding and render size): lets the fake render each
   * region once instead of once per grid point. The generator must not mutate logits.
   */
  readonly key?: string;
}

/** Everything a fake decode knows: the encoded image, the click, its region. */
export interface FakeContext {
  readonly image: RgbImage;
  readonly point: Point;
  /** Region label of every pixel of `image` (4-connected flat colour). */
  readonly labels: Int32Array;
  /** Label under the point. */
  readonly label: number;
  readonly regionArea: number;
}

/**
 * A FamilyAdapter whose "decoder" renders candidates from `respond` at the requested
 * renderSize, sampling at render-pixel centres as a bilinear resize (align_corners=False)
 * would. Returns 4 masks like SAM's multi-mask export: mask 0 is a decoy (the whole frame,
 * predicted IoU 0.99) that segment-everything must not use, candidates are 1..3.
 */
export class FakeAdapter implements FamilyAdapter {
  readonly family = 'sam' as const;
  readonly modelName = 'fake';
  readonly acceptsMaskInput = false;
  /** Every renderSize the generator asked for (undefined: none given). */
  readonly renderRequests: (Size | undefined)[] = [];
  readonly encoded: Size[] = [];
  decodeCalls = 0;
  /** Every decoder result, in call order. */
  readonly decoded: DecodedMasks[] = [];
  private readonly images = new WeakMap<ImageEmbedding, { image: RgbImage; labels: Int32Array; areas: number[]; cache: Map<string, Float32Array> }>();

  constructor(private readonly respond: (ctx: FakeContext) => FakeCandidate[]) {}

  checkPrompt(_prompt: Prompt): void {}

  /** SAM's grid (the resized longest-side-1024 frame); segment-everything never asks. */
  maskGrid(image: Size): Size {
    return resizeLongestSide(image.width, image.height);
  }

  async encode(image: RgbImage): Promise<ImageEmbedding> {
    this.encoded.push({ width: image.width, height: image.height });
    const { labels, areas } = labelFlatRegions(image);
    const emb: ImageEmbedding = {
      family: 'sam',
      modelKey: 'fake',
      image: { width: image.width, height: image.height },
      data: new Float32Array(0),
      dims: [1, 256, 64, 64],
    };
    this.images.set(emb, { image, labels, areas, cache: new Map() });
    return emb;
  }

  async decode(embedding: ImageEmbedding, prompt: Prompt, options: { renderSize?: Size } = {}): Promise<DecodedMasks> {
    this.decodeCalls++;
    this.renderRequests.push(options.renderSize);
    const state = this.images.get(embedding);
    if (!state) throw new Error('fake: unknown embedding');
    const point = prompt.points?.[0];
    if (!point || (prompt.points?.length ?? 0) !== 1) throw new Error('fake: expected one point');
    const { image, labels, areas, cache } = state;
    const px = Math.min(image.width - 1, Math.max(0, Math.floor(point.x)));
    const py = Math.min(image.height - 1, Math.max(0, Math.floor(point.y)));
    const label = labels[py * image.width + px];
    const cands = this.respond({ image, point, labels, label, regionArea: areas[label] });
    const size = options.renderSize ?? embedding.image;
    const sx = image.width / size.width;
    const sy = image.height / size.height;
    const render = (c: FakeCandidate) => {
      const key = c.key === undefined ? undefined : `${c.key}@${size.width}x${size.height}`;
      const hit = key === undefined ? undefined : cache.get(key);
      if (hit) return hit;
      const out = new Float32Array(size.width * size.height);
      for (let j = 0; j < size.height; j++) {
        const y = (j + 0.5) * sy - 0.5;
        for (let i = 0; i < size.width; i++) out[j * size.width + i] = c.logit((i + 0.5) * sx - 0.5, y);
      }
      if (key !== undefined) cache.set(key, out);
      return out;
    };
    const decoy = new Float32Array(size.width * size.height).fill(5);
    const out: DecodedMasks = {
      size,
      logits: [decoy, ...cands.map(render)],
      iou: [0.99, ...cands.map((c) => c.iou)],
      best: 1,
      candidates: cands.map((_, i) => i + 1),
    };
    this.decoded.push(out);
    return out;
  }

  async dispose(): Promise<void> {}
}

/** 4-connected components of equal colour; returns labels and each label's area. */
export function labelFlatRegions(image: RgbImage): { labels: Int32Array; areas: number[] } {
  const { width: w, height: h, data } = image;
  const labels = new Int32Array(w * h).fill(-1);
  const areas: number[] = [];
  const stack: number[] = [];
  for (let s = 0; s < w * h; s++) {
    if (labels[s] >= 0) continue;
    const id = areas.length;
    let area = 0;
    labels[s] = id;
    stack.push(s);
    while (stack.length) {
      const p = stack.pop()!;
      area++;
      const x = p % w;
      const y = (p - x) / w;
      const tryPush = (q: number) => {
        if (labels[q] < 0 && data[q * 3] === data[p * 3] && data[q * 3 + 1] === data[p * 3 + 1] && data[q * 3 + 2] === data[p * 3 + 2]) {
          labels[q] = id;
          stack.push(q);
        }
      };
      if (x > 0) tryPush(p - 1);
      if (x < w - 1) tryPush(p + 1);
      if (y > 0) tryPush(p - w);
      if (y < h - 1) tryPush(p + w);
    }
    areas.push(area);
  }
  return { labels, areas };
}

/**
 * Logits of "pixel belongs to `label`", bilinear over the pixel grid and scaled to +-k: a
 * smooth-edged region like a real decoder's, positive exactly on the region's pixels.
 */
export function regionLogit(ctx: FakeContext, label: number, k = 8): (x: number, y: number) => number {
  const { width: w, height: h } = ctx.image;
  const at = (x: number, y: number) => (ctx.labels[y * w + x] === label ? 1 : 0);
  return (x, y) => {
    const cx = Math.min(w - 1, Math.max(0, x));
    const cy = Math.min(h - 1, Math.max(0, y));
    const x0 = Math.floor(cx);
    const y0 = Math.floor(cy);
    const x1 = Math.min(w - 1, x0 + 1);
    const y1 = Math.min(h - 1, y0 + 1);
    const fx = cx - x0;
    const fy = cy - y0;
    const v = (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x1, y0)) + fy * ((1 - fx) * at(x0, y1) + fx * at(x1, y1));
    // 0.5 at the boundary between pixel centres, pulled slightly inward so that a pixel's own
    // centre decides it.
    return k * (2 * v - 1) - 0.01;
  };
}

/** The region under the point as a candidate, a near-copy with lower IoU, and a rejected whole-frame one. */
export function regionResponder(iouFor: (ctx: FakeContext) => number = () => 0.95): (ctx: FakeContext) => FakeCandidate[] {
  return (ctx) => [
    { iou: iouFor(ctx), logit: regionLogit(ctx, ctx.label, 8), key: `region${ctx.label}k8` },
    { iou: iouFor(ctx) - 0.02, logit: regionLogit(ctx, ctx.label, 6), key: `region${ctx.label}k6` },
    { iou: 0.5, logit: () => 3, key: 'all' },
  ];
}

/** A shape of a test scene. */
export type TestShape =
  | { readonly kind: 'rect'; readonly x: number; readonly y: number; readonly w: number; readonly h: number; readonly color: readonly [number, number, number] }
  | { readonly kind: 'ellipse'; readonly cx: number; readonly cy: number; readonly rx: number; readonly ry: number; readonly color: readonly [number, number, number] };

/** A scene: the image and, per shape (drawn in order, later ones on top), its visible mask. */
export interface TestScene {
  readonly image: RgbImage;
  readonly masks: BinaryMask[];
  readonly background: BinaryMask;
}

/** Draw shapes on a flat background; ground truth is each shape's visible pixels. */
export function drawScene(width: number, height: number, shapes: readonly TestShape[], bg: readonly [number, number, number] = [20, 20, 20]): TestScene {
  const owner = new Int32Array(width * height).fill(-1);
  shapes.forEach((s, k) => {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const inside =
          s.kind === 'rect'
            ? x >= s.x && x < s.x + s.w && y >= s.y && y < s.y + s.h
            : ((x + 0.5 - s.cx) / s.rx) ** 2 + ((y + 0.5 - s.cy) / s.ry) ** 2 <= 1;
        if (inside) owner[y * width + x] = k;
      }
    }
  });
  const data = new Uint8Array(width * height * 3);
  const masks = shapes.map(() => ({ width, height, data: new Uint8Array(width * height) }));
  const background = { width, height, data: new Uint8Array(width * height) };
  for (let p = 0; p < width * height; p++) {
    const k = owner[p];
    const c = k < 0 ? bg : shapes[k].color;
    data.set(c, p * 3);
    if (k < 0) background.data[p] = 1;
    else masks[k].data[p] = 1;
  }
  return { image: { width, height, data }, masks, background };
}

/** IoU of two binary masks of the same size (the library's). */
export { maskIou } from '../src/masks/iou.js';

/** Deterministic PRNG (mulberry32) for property tests. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
