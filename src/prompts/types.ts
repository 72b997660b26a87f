/** A point in original image pixels of the displayed (EXIF-rotated) image. */
export interface Point {
  readonly x: number;
  readonly y: number;
}

/** A box in original image pixels: top-left (x1, y1), bottom-right (x2, y2). */
export interface Box {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

/**
 * One prompt set: yields one mask (or, with multimask, the family's candidates).
 * Coordinates are in original image pixels.
 */
export interface Prompt {
  /** Foreground points. */
  readonly points?: readonly Point[];
  /** Background points (SAM family only). */
  readonly negPoints?: readonly Point[];
  readonly box?: Box;
}
