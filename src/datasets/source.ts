import { rleArea } from '../masks/rle.js';
import type { Category, DatasetAnnotation, DatasetImage } from './types.js';

/** An image's entry without its masks. */
export type DatasetImageInfo = Omit<DatasetImage, 'annotations'>;

/**
 * What the dataset writers read: the images in dataset order and their masks, fetched one
 * image at a time so a dataset of a hundred thousand images is never held in memory.
 */
export interface DatasetSource {
  readonly categories: readonly Category[];
  /** Images in dataset order (see {@link compareImages}). */
  readonly images: readonly DatasetImageInfo[];
  /** The masks of `images[index]`. */
  annotations(index: number): Promise<readonly DatasetAnnotation[]>;
  /** The model that made the masks, where known (Label Studio's `model_version`). */
  readonly model?: string;
}

/**
 * Dataset order: by file name, code point by code point, so the same images give the same
 * file whichever order they were processed in, by one run, a resumed one or several shards.
 */
export function compareImages(a: { fileName: string }, b: { fileName: string }): number {
  return a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0;
}

/** A {@link DatasetSource} over images already in memory (sorted into dataset order). */
export function datasetSource(images: readonly DatasetImage[], categories: readonly Category[], model?: string): DatasetSource {
  const sorted = [...images].sort(compareImages);
  return {
    categories,
    images: sorted.map(({ annotations: _, ...info }) => info),
    annotations: async (index) => sorted[index].annotations,
    ...(model !== undefined ? { model } : {}),
  };
}

/**
 * Categories in id order; a category's position in it is its YOLO class index, so
 * detector classes 0..k read from YOLO files (ids 1..k+1) keep their numbers when their
 * names are known (every named class is a category; without names only the classes used are).
 */
export function categoriesInOrder(categories: readonly Category[]): Category[] {
  return [...categories].sort((a, b) => a.id - b.id);
}

/** The masks a dataset records: empty masks are left out (no outline, no box to train on). */
export function writtenAnnotations(annotations: readonly DatasetAnnotation[]): DatasetAnnotation[] {
  return annotations.filter((a) => rleArea(a.rle) > 0);
}

/** The category with `id`; a RangeError when the dataset does not list it. */
export function categoryById(categories: readonly Category[], id: number): Category {
  const found = categories.find((c) => c.id === id);
  if (!found) throw new RangeError(`category ${id} is not among the dataset's categories`);
  return found;
}
