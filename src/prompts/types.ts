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

/**
 * One step of an interactive prompt: the prompt so far (every click up to and including
 * this one) and, when the person picked another candidate than the family's choice, the
 * index of the mask they kept (`PromptMask.index`). A refining model is fed the kept mask's
 * low-resolution logits with the next step.
 */
export interface PromptStep {
  readonly prompt: Prompt;
  readonly maskIndex?: number;
}
