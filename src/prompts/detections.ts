import { InputError } from '../util/errors.js';
import type { Size } from '../families/types.js';
import type { PromptSet } from './prompts-file.js';
import type { Box, Prompt } from './types.js';

/** Options shared by the detection-file readers (COCO JSON, YOLO labels). */
export interface DetectionReadOptions {
  /**
   * Folder image names are resolved against (`--image-root`). Default: the COCO file's
   * folder; for YOLO labels, the `images/` folder beside a `labels/` folder, else the labels'
   * own folder.
   */
  readonly imageRoot?: string;
  /** Leave out detections whose score is below this (detections without a score are kept). */
  readonly minScore?: number;
}

/**
 * A detector's box clipped to the `width` x `height` image (detectors often reach a little
 * past the border); undefined when nothing of it is inside.
 */
export function clipBox(box: Box, width: number, height: number): Box | undefined {
  const clipped = {
    x1: Math.max(0, box.x1),
    y1: Math.max(0, box.y1),
    x2: Math.min(width, box.x2),
    y2: Math.min(height, box.y2),
  };
  return clipped.x1 < clipped.x2 && clipped.y1 < clipped.y2 ? clipped : undefined;
}

/** Why a detection's score leaves it out, or undefined when it is kept. */
export function belowMinScore(score: number | undefined, minScore: number | undefined): boolean {
  return score !== undefined && minScore !== undefined && score < minScore;
}

/**
 * The prompt to run for a set on an image of `size`: the set's own prompt, or its box in
 * fractions of the image (YOLO) turned into pixels. A detection's box (a set with a
 * category) is clipped to the image here, where its real size is known, since detectors
 * often reach a little past the border; one with nothing inside is an InputError naming it.
 */
export function promptForImage(set: PromptSet, size: Size): Prompt {
  const r = set.relativeBox;
  const prompt = r
    ? { points: [], negPoints: [], box: { x1: r.x1 * size.width, y1: r.y1 * size.height, x2: r.x2 * size.width, y2: r.y2 * size.height } }
    : set.prompt;
  const box = prompt.box;
  if (set.categoryId === undefined || !box) return prompt;
  const clipped = clipBox(box, size.width, size.height);
  if (!clipped) {
    const which = set.detectionId !== undefined ? ` of detection ${set.detectionId}` : '';
    throw new InputError(`box (${box.x1}, ${box.y1}, ${box.x2}, ${box.y2})${which} is outside the ${size.width}x${size.height} image`);
  }
  return { ...prompt, box: clipped };
}
