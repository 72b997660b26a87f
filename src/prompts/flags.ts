import { UsageError } from '../util/errors.js';
import type { Box, Point, Prompt } from './types.js';

const NUMBER = String.raw`\s*(-?(?:\d+(?:\.\d*)?|\.\d+))\s*`;
const POINT_RE = new RegExp(`^${NUMBER},${NUMBER}$`);
const BOX_RE = new RegExp(`^${NUMBER},${NUMBER},${NUMBER},${NUMBER}$`);

/** Parse `x,y` (pixels, decimals allowed) from a `--point` / `--neg-point` flag. */
export function parsePointFlag(text: string, flag = '--point'): Point {
  const m = POINT_RE.exec(text);
  if (!m) throw new UsageError(`${flag} ${JSON.stringify(text)}: expected x,y in pixels, for example ${flag} 120,80`);
  return { x: Number(m[1]), y: Number(m[2]) };
}

/** Parse `x1,y1,x2,y2` (top-left, bottom-right) from a `--box` flag. */
export function parseBoxFlag(text: string): Box {
  const m = BOX_RE.exec(text);
  if (!m) throw new UsageError(`--box ${JSON.stringify(text)}: expected x1,y1,x2,y2 in pixels, for example --box 10,20,200,180`);
  const box = { x1: Number(m[1]), y1: Number(m[2]), x2: Number(m[3]), y2: Number(m[4]) };
  const problem = boxProblem(box);
  if (problem) throw new UsageError(`--box ${text}: ${problem}`);
  return box;
}

/** Why a box is unusable (corners out of order), or undefined. */
export function boxProblem(box: Box): string | undefined {
  if (box.x2 < box.x1) return `x2 (${box.x2}) is less than x1 (${box.x1})`;
  if (box.y2 < box.y1) return `y2 (${box.y2}) is less than y1 (${box.y1})`;
  return undefined;
}

/** The prompt flags of `samlite segment`, as commander collects them. */
export interface PromptFlags {
  readonly point?: readonly string[];
  readonly negPoint?: readonly string[];
  readonly box?: string;
}

/** One prompt set from the flags, or undefined when none was given. */
export function promptFromFlags(flags: PromptFlags): Prompt | undefined {
  const points = (flags.point ?? []).map((t) => parsePointFlag(t, '--point'));
  const negPoints = (flags.negPoint ?? []).map((t) => parsePointFlag(t, '--neg-point'));
  const box = flags.box === undefined ? undefined : parseBoxFlag(flags.box);
  if (points.length === 0 && negPoints.length === 0 && !box) return undefined;
  if (points.length === 0 && !box) {
    throw new UsageError('--neg-point needs at least one --point or a --box: background points alone select nothing');
  }
  return { points, negPoints, ...(box ? { box } : {}) };
}
