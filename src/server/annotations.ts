/**
 * The page's annotation session on disk: what was accepted on each image is kept as a
 * samlite prompts file (`<out>/samlite-prompts.json`: the clicks of every object and its
 * category), and saving an image writes the files `samlite segment --prompts` writes for
 * that file. Reopening the folder reads the session back; the CLI replays it to the same files.
 */
import { readFile, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { InputError, UsageError, oneLine } from '../util/errors.js';
import { datasetPartPath } from '../datasets/paths.js';
import { readPart, serializePart } from '../datasets/part.js';
import type { Category, DatasetFormat } from '../datasets/types.js';
import { datasetImageFiles } from '../datasets/writer.js';
import type { RgbImage } from '../image/types.js';
import { datasetSettings, finishDataset, type DatasetFlags } from '../jobs/dataset-run.js';
import { segmentImage, segmentTarget, type SegmentImageJob } from '../jobs/segment-image.js';
import { categoryListSchema, parsePromptsJson } from '../prompts/prompts-file.js';
import { stripBom } from '../util/text.js';
import type { Segmenter } from '../segmenter/segmenter.js';
import { writeOutputFile } from '../writers/files.js';
import { segmentOutputFiles, type SegmentFormat } from '../writers/naming.js';
import type { ServedFolder } from './folder.js';

/** File name of the session under `--out`. */
export const SESSION_FILE = 'samlite-prompts.json';

/** One accepted object as the page sends it: its category and its prompt set's JSON. */
export interface SessionObject {
  readonly category: string;
  /** The prompts-file JSON of the object's prompt (`steps`, or points/neg_points/box and mask_index). */
  readonly prompt: Record<string, unknown>;
}

/** The session file's document (a samlite per-image prompts file). */
interface SessionDoc {
  root: string;
  categories?: Category[];
  images: { image: string; prompts: Record<string, unknown>[] }[];
}

/** What a save did. */
export interface SaveResult {
  /** Files written for the image and the dataset. */
  readonly files: readonly string[];
  /** Problems, one line each (a prompt the model refused, an unreadable part). */
  readonly problems: readonly string[];
}

/** The formats a session writes, and the dataset options, as `serve` was started with. */
export interface SessionSettings extends DatasetFlags {
  readonly outDir: string;
  readonly formats: readonly SegmentFormat[];
  readonly dataset: readonly DatasetFormat[];
  readonly polygonTolerance?: number;
}

export class AnnotationSession {
  private constructor(
    private readonly folder: ServedFolder,
    private readonly settings: SessionSettings,
    private doc: SessionDoc,
  ) {}

  /** The session in `settings.outDir`, read back from its file when there is one. */
  static async open(folder: ServedFolder, settings: SessionSettings): Promise<AnnotationSession> {
    const path = join(settings.outDir, SESSION_FILE);
    const root = relative(settings.outDir, folder.root).split(sep).join('/') || '.';
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new UsageError(`${path}: ${oneLine(err)}`);
    }
    if (text === undefined) return new AnnotationSession(folder, settings, { root, images: [] });
    text = stripBom(text);
    const emptied = emptiedSession(text, path);
    if (emptied) return new AnnotationSession(folder, settings, { root, categories: emptied.categories, images: [] });
    // Checked by the prompts parser: a damaged session stops the server with its one line.
    parsePromptsJson(text, path, settings.outDir);
    const doc = JSON.parse(text) as SessionDoc;
    doc.root = root;
    return new AnnotationSession(folder, settings, doc);
  }

  /** The session file's path. */
  get path(): string {
    return join(this.settings.outDir, SESSION_FILE);
  }

  /** The categories and each saved image's objects, for the page. */
  view(): { categories: Category[]; images: Record<string, SessionObject[]> } {
    const images: Record<string, SessionObject[]> = {};
    for (const entry of this.doc.images) {
      images[entry.image] = entry.prompts.map(({ category, ...prompt }) => ({ category: String(category ?? ''), prompt }));
    }
    return { categories: this.doc.categories ?? [], images };
  }

  /**
   * Save `objects` as the annotation of the served image `name` (none: the image is
   * unannotated again), then rebuild the dataset files. The image's earlier files that the
   * new count no longer has are removed, so the folder holds what `samlite segment` would
   * write for the session file.
   */
  async save(segmenter: Segmenter, name: string, image: RgbImage, objects: readonly SessionObject[], categoryNames: readonly string[]): Promise<SaveResult> {
    const served = this.folder.images.find((i) => i.name === name);
    if (!served) throw new InputError(`image ${JSON.stringify(name)}: not among the served images`);
    const categories = this.mergeCategories([...categoryNames, ...objects.map((o) => o.category)]);
    const prompts = objects.map((o) => ({ ...o.prompt, category: o.category }));
    const doc: SessionDoc = {
      root: this.doc.root,
      categories,
      images: [...this.doc.images.filter((e) => e.image !== name), ...(prompts.length > 0 ? [{ image: name, prompts }] : [])].sort((a, b) =>
        a.image < b.image ? -1 : a.image > b.image ? 1 : 0,
      ),
    };
    const text = `${JSON.stringify(doc, null, 1)}\n`;
    // The document is checked by the CLI's own parser before anything is written.
    const plan = doc.images.length > 0 ? parsePromptsJson(text, this.path, this.settings.outDir) : undefined;
    const previous = this.doc.images.find((e) => e.image === name)?.prompts.length ?? 0;
    const job: SegmentImageJob = {
      image: served.path,
      display: name,
      sets: plan?.kind === 'per-image' ? (plan.images.find((i) => i.image === served.path)?.sets ?? []) : [],
      root: this.folder.root,
    };
    const { outDir, formats, dataset } = this.settings;
    const target = segmentTarget(job, outDir);
    const settings = datasetSettings({ ...this.settings, overwrite: true }, dataset, categories, segmenter.modelName);
    const problems: string[] = [];
    const files: string[] = [];
    // What the earlier save wrote and this one will not.
    const before = new Set([...segmentOutputFiles(target, formats, previous), ...(previous > 0 ? datasetImageFiles(target, dataset) : [])]);
    for (const f of [...segmentOutputFiles(target, formats, job.sets.length), ...(job.sets.length > 0 ? datasetImageFiles(target, dataset) : [])]) before.delete(f);
    for (const stale of before) await rm(stale, { force: true });
    if (job.sets.length > 0) {
      await segmentImage(segmenter, image, job, { outDir, formats, dataset: settings, overwrite: true }, {
        onMask: (record) => files.push(...Object.values(record.files)),
        onFailure: (message, promptIndex) => {
          problems.push(`${name}${promptIndex === undefined ? '' : ` object ${promptIndex}`}: ${message}`);
        },
      });
      if (dataset.length > 0) files.push(...datasetImageFiles(target, dataset));
    }
    await writeOutputFile(this.path, text, { overwrite: true });
    this.doc = doc;
    const partPaths = doc.images.map((e) => datasetPartPath(segmentTarget({ image: join(this.folder.root, e.image), display: e.image, sets: [], root: this.folder.root }, outDir)));
    // Every part lists the session's categories, as one `samlite segment` run's parts do.
    for (const part of partPaths) await this.updatePartCategories(part, categories);
    await finishDataset(
      { error: (m) => problems.push(m), info: () => {}, record: (r) => files.push(...(((r as { dataset?: string[] }).dataset) ?? [])) },
      outDir,
      partPaths,
      settings,
    );
    return { files, problems };
  }

  /** The session's categories with `names` added (new names take the next ids). */
  private mergeCategories(names: readonly string[]): Category[] {
    const categories = [...(this.doc.categories ?? [])];
    for (const name of names) {
      if (typeof name !== 'string' || name.trim() === '') throw new InputError('category: expected a non-empty name');
      if (!categories.some((c) => c.name === name)) categories.push({ id: Math.max(0, ...categories.map((c) => c.id)) + 1, name });
    }
    return categories;
  }

  private async updatePartCategories(path: string, categories: readonly Category[]): Promise<void> {
    let part;
    try {
      part = await readPart(path);
    } catch {
      return; // a missing or unreadable part is reported when the dataset is built
    }
    if (JSON.stringify(part.categories) === JSON.stringify(categories)) return;
    await writeOutputFile(path, serializePart({ ...part, categories }), { overwrite: true });
  }
}

/**
 * A session whose every object was deleted: `images` empty, which a prompts file may not be
 * (the prompts parser refuses it), but which a save writes so the categories survive.
 * Undefined for anything else, which the prompts parser then checks.
 */
function emptiedSession(text: string, path: string): { categories: Category[] } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (json === null || typeof json !== 'object' || !Array.isArray((json as SessionDoc).images) || (json as SessionDoc).images.length > 0) return undefined;
  const categories = (json as SessionDoc).categories;
  if (categories === undefined) return { categories: [] };
  // The prompts parser's own rule for the list, so a save later cannot refuse it.
  const checked = categoryListSchema.safeParse(categories);
  const ids = new Set(categories.map((c) => c.id));
  const names = new Set(categories.map((c) => c.name));
  if (!checked.success || ids.size !== categories.length || names.size !== categories.length) {
    throw new UsageError(`${path}: categories: expected a list of {id, name} with unique ids from 1 and unique names`);
  }
  return { categories };
}
