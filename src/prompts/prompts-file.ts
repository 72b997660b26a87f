import { resolve } from 'node:path';
import { z } from 'zod';
import { UsageError, oneLine } from '../util/errors.js';
import { stripBom } from '../util/text.js';
import { boxProblem } from './flags.js';
import type { Category } from '../datasets/types.js';
import type { Box, Prompt, PromptStep } from './types.js';

/** One prompt set, numbered in the order given for its image; each yields one mask. */
export interface PromptSet {
  /** 0-based position among the image's prompt sets; used in output names. */
  readonly index: number;
  /** Optional label from the prompts file, copied to the output records. */
  readonly id?: string | number;
  /** The prompt: every click of an interactive prompt (its last step's). */
  readonly prompt: Prompt;
  /**
   * An interactive prompt's steps, click by click (see {@link PromptStep}): a refining model
   * replays them with its mask input between steps. Absent for a one-step prompt.
   */
  readonly steps?: readonly PromptStep[];
  /** The model's mask the person kept instead of the family's choice (one-step prompts). */
  readonly maskIndex?: number;
  /**
   * A box given in fractions of the image's width and height (YOLO files): it replaces
   * `prompt` once the image's size is known (see promptForImage).
   */
  readonly relativeBox?: Box;
  /** From a detection file: the box's category id. */
  readonly categoryId?: number;
  /** From a detection file: the detection's id (COCO annotation id, YOLO line number). */
  readonly detectionId?: string | number;
  /** From a detection file: the detector's confidence. */
  readonly detectionScore?: number;
}

/** One image of a per-image plan and the prompt sets to run on it. */
export interface PlannedImage {
  /** Absolute path. */
  readonly image: string;
  readonly sets: readonly PromptSet[];
  /** The image's name in a detection file (COCO `file_name`), kept in dataset outputs. */
  readonly fileName?: string;
  /** The folder `fileName` is relative to, so outputs keep its sub-path. */
  readonly root?: string;
  /** The image's id in a COCO detection file. */
  readonly sourceId?: number;
}

/**
 * What a prompts file asks for: either the same prompt sets for every image named on the
 * command line, or prompt sets per image (image paths resolved against the file's folder,
 * or the working directory for stdin).
 */
export type PromptPlan =
  | {
      readonly kind: 'shared';
      readonly sets: readonly PromptSet[];
      /** The categories the sets name, numbered from 1 in order of first use. */
      readonly categories?: readonly Category[];
    }
  | {
      readonly kind: 'per-image';
      readonly images: readonly PlannedImage[];
      /** Detection files: every category the file names. */
      readonly categories?: readonly Category[];
      /**
       * Detection files: entries that could not be used (unknown image id, malformed line,
       * box outside the image), one line each naming the file and the entry. The rest run.
       */
      readonly problems?: readonly string[];
      /** Detection files: boxes left out for a score below `--min-score`. */
      readonly belowMinScore?: number;
    };

const coord = z.number().finite();
const pointSchema = z.tuple([coord, coord]);
const boxSchema = z.tuple([coord, coord, coord, coord]);
const maskIndexSchema = z.number().int().min(0);

/** Report a box whose corners are the wrong way round. */
function checkBox(box: readonly number[] | undefined, ctx: z.RefinementCtx, path: (string | number)[]): void {
  if (!box) return;
  const problem = boxProblem({ x1: box[0], y1: box[1], x2: box[2], y2: box[3] });
  if (problem) ctx.addIssue({ code: 'custom', path, message: problem });
}

/** One click of an interactive prompt: what it adds (a box replaces an earlier one). */
const stepSchema = z.strictObject({
  points: z.array(pointSchema).optional(),
  neg_points: z.array(pointSchema).optional(),
  box: boxSchema.optional(),
  mask_index: maskIndexSchema.optional(),
});
const promptSetSchema = z
  .strictObject({
    id: z.union([z.string(), z.number()]).optional(),
    /** The object's category, by name (the file's `categories` give the ids). */
    category: z.string().min(1).optional(),
    points: z.array(pointSchema).optional(),
    neg_points: z.array(pointSchema).optional(),
    box: boxSchema.optional(),
    mask_index: maskIndexSchema.optional(),
    steps: z.array(stepSchema).min(1).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.steps) {
      for (const key of ['points', 'neg_points', 'box', 'mask_index'] as const) {
        if (v[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'give the clicks either as steps or as points/neg_points/box, not both' });
      }
      v.steps.forEach((step, i) => {
        if (!step.points?.length && !step.neg_points?.length && !step.box) ctx.addIssue({ code: 'custom', path: ['steps', i], message: 'a step adds at least one point or a box' });
        checkBox(step.box, ctx, ['steps', i, 'box']);
      });
      const last = cumulativeSteps(v.steps).at(-1)!;
      if ((last.prompt.points?.length ?? 0) === 0 && !last.prompt.box) ctx.addIssue({ code: 'custom', path: ['steps'], message: 'needs at least one point or a box' });
      return;
    }
    if ((v.points?.length ?? 0) === 0 && !v.box) {
      ctx.addIssue({ code: 'custom', message: 'needs at least one point or a box' });
    }
    checkBox(v.box, ctx, ['box']);
  });
const promptListSchema = z.array(promptSetSchema).min(1, 'needs at least one prompt set');
export const categoryListSchema = z.array(z.strictObject({ id: z.number().int().min(1), name: z.string().min(1) })).min(1);
const fileSchema = z.union([
  promptListSchema,
  z.strictObject({ prompts: promptListSchema }),
  z.strictObject({
    /** Folder the images' names are relative to (from the file's folder); outputs keep their sub-path. */
    root: z.string().min(1).optional(),
    /** The categories, with their ids, in the order the dataset files list them. */
    categories: categoryListSchema.optional(),
    images: z
      .array(z.strictObject({ image: z.string().min(1).refine((s) => !s.includes('\0'), 'holds a NUL character'), prompts: promptListSchema }))
      .min(1),
  }),
]);

type RawStep = z.infer<typeof stepSchema>;

/** A prompt from a step's JSON fields. */
function promptFromJson(raw: Pick<RawStep, 'points' | 'neg_points' | 'box'>): Prompt {
  const pt = ([x, y]: [number, number]) => ({ x, y });
  return {
    points: (raw.points ?? []).map(pt),
    negPoints: (raw.neg_points ?? []).map(pt),
    ...(raw.box ? { box: { x1: raw.box[0], y1: raw.box[1], x2: raw.box[2], y2: raw.box[3] } } : {}),
  };
}

/** Steps as written (what each click adds) to steps as run (every click so far). */
export function cumulativeSteps(raw: readonly RawStep[]): PromptStep[] {
  const steps: PromptStep[] = [];
  let sofar: Prompt = { points: [], negPoints: [] };
  for (const step of raw) {
    const added = promptFromJson(step);
    sofar = {
      points: [...sofar.points!, ...added.points!],
      negPoints: [...sofar.negPoints!, ...added.negPoints!],
      ...(added.box ? { box: added.box } : sofar.box ? { box: sofar.box } : {}),
    };
    steps.push({ prompt: sofar, ...(step.mask_index !== undefined ? { maskIndex: step.mask_index } : {}) });
  }
  return steps;
}

type RawPromptSet = z.infer<typeof promptSetSchema>;

/** The keys of a prompt set, to recognise one given bare. */
const PROMPT_SET_KEYS: ReadonlySet<string> = new Set(Object.keys(promptSetSchema.shape));

function toPromptSet(raw: RawPromptSet, index: number, categories: readonly Category[]): PromptSet {
  const id = raw.id !== undefined ? { id: raw.id } : {};
  const category = raw.category === undefined ? {} : { categoryId: categories.find((c) => c.name === raw.category)!.id };
  if (raw.steps) {
    const steps = cumulativeSteps(raw.steps);
    return { index, ...id, ...category, prompt: steps.at(-1)!.prompt, steps };
  }
  return { index, ...id, ...category, prompt: promptFromJson(raw), ...(raw.mask_index !== undefined ? { maskIndex: raw.mask_index } : {}) };
}

/**
 * The categories of a prompts file: its `categories` list, to which every set's category
 * must belong; without one, the sets' category names numbered from 1 in order of first use.
 * Undefined when no set names a category.
 */
function fileCategories(source: string, listed: readonly Category[] | undefined, sets: readonly RawPromptSet[]): Category[] | undefined {
  const used = [...new Set(sets.flatMap((s) => (s.category === undefined ? [] : [s.category])))];
  if (!listed) return used.length > 0 ? used.map((name, i) => ({ id: i + 1, name })) : undefined;
  for (const [key, values] of [['id', listed.map((c) => c.id)], ['name', listed.map((c) => c.name)]] as const) {
    const twice = values.find((v, i) => values.indexOf(v as never) !== i);
    if (twice !== undefined) throw new UsageError(`${source}: categories: ${key} ${JSON.stringify(twice)} is listed twice`);
  }
  const unknown = used.find((name) => !listed.some((c) => c.name === name));
  if (unknown !== undefined) throw new UsageError(`${source}: category ${JSON.stringify(unknown)} is not in the file's categories`);
  return [...listed];
}

/** Describe a schema issue by the image and prompt it concerns, from the parsed JSON. */
function describeIssue(source: string, json: unknown, issue: z.core.$ZodIssue): string {
  const where: string[] = [];
  let rest = [...issue.path];
  if (rest[0] === 'images' && typeof rest[1] === 'number') {
    const entry = (json as { images?: { image?: unknown }[] }).images?.[rest[1]];
    // A name with a NUL is shown by its position: the character would cut the line.
    where.push(typeof entry?.image === 'string' && !entry.image.includes('\0') ? `image ${entry.image}` : `images[${rest[1]}]`);
    rest = rest.slice(2);
  }
  if (rest[0] === 'prompts' && typeof rest[1] === 'number') rest = rest.slice(1);
  if (typeof rest[0] === 'number') {
    where.push(`prompt ${rest[0]}`);
    rest = rest.slice(1);
  }
  const field = rest.length > 0 ? `${rest.join('.')}: ` : '';
  return `${source}: ${where.length ? `${where.join(', ')}: ` : ''}${field}${issue.message}`;
}

/**
 * Parse and validate a prompts document (a leading byte-order mark is skipped). Every
 * problem is a UsageError whose one line names the source, the image and the prompt index.
 */
export function parsePromptsJson(text: string, source: string, baseDir: string): PromptPlan {
  let json: unknown;
  try {
    json = JSON.parse(stripBom(text));
  } catch (err) {
    throw new UsageError(`${source}: not valid JSON (${oneLine(err)})`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    throw new UsageError(describeBestIssue(source, json, parsed.error));
  }
  const value = parsed.data;
  if (Array.isArray(value) || 'prompts' in value) {
    const shared = Array.isArray(value) ? value : value.prompts;
    const categories = fileCategories(source, undefined, shared) ?? [];
    return { kind: 'shared', sets: shared.map((set, i) => toPromptSet(set, i, categories)), ...(categories.length ? { categories } : {}) };
  }
  // An image listed twice (`a.jpg` and `./a.jpg` too) gets the prompt sets of all its
  // entries, numbered on in file order: its outputs must not collide, and a file built
  // from one detection per entry is a natural thing to write.
  const root = value.root === undefined ? undefined : resolve(baseDir, value.root);
  const byImage = new Map<string, RawPromptSet[]>();
  for (const entry of value.images) {
    const image = resolve(root ?? baseDir, entry.image);
    byImage.set(image, [...(byImage.get(image) ?? []), ...entry.prompts]);
  }
  const categories = fileCategories(source, value.categories, value.images.flatMap((e) => e.prompts));
  return {
    kind: 'per-image',
    images: [...byImage].map(([image, sets]) => ({ image, sets: sets.map((set, i) => toPromptSet(set, i, categories ?? [])), ...(root !== undefined ? { root } : {}) })),
    ...(categories ? { categories } : {}),
  };
}

/**
 * Of a union's failures, report the branch the document was evidently meant as (by its
 * top-level shape), so the message points at the real mistake rather than "invalid input".
 */
function describeBestIssue(source: string, json: unknown, error: z.ZodError): string {
  const branch = Array.isArray(json) ? 0 : json && typeof json === 'object' && 'images' in json ? 2 : 1;
  const union = error.issues.find((i) => i.code === 'invalid_union') as
    | (z.core.$ZodIssueInvalidUnion & { errors: z.core.$ZodIssue[][] })
    | undefined;
  const issues = union?.errors?.[branch] ?? error.issues;
  const issue = issues[0] ?? error.issues[0];
  const shapes = 'a list of prompt sets, {"prompts": [...]} or {"images": [...]}';
  if (!json || typeof json !== 'object') return `${source}: expected ${shapes}`;
  if (branch === 1 && !('prompts' in json)) {
    // An object that is none of the three shapes: say what it is instead of "prompts: expected array".
    const keys = Object.keys(json);
    if (keys.length > 0 && keys.every((k) => PROMPT_SET_KEYS.has(k))) {
      return `${source}: a single prompt set must be inside a list: [${JSON.stringify(json)}], or give {"prompts": [...]}`;
    }
    return `${source}: expected ${shapes}, got an object with ${keys.length ? `keys ${keys.join(', ')}` : 'no keys'}`;
  }
  return describeIssue(source, json, issue);
}
