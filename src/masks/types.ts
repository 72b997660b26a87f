/** A binary mask, row-major, one byte per pixel: 1 foreground, 0 background. */
export interface BinaryMask {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Mask logits, row-major; foreground is logit > 0. */
export interface MaskLogits {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** Box in pixel coordinates as [x, y, width, height] (see docs/output-formats.md for the convention written). */
export type BoxXYWH = [number, number, number, number];
