import { DEFAULT_POLYGON_TOLERANCE } from '../masks/polygons.js';
import type { Rle } from '../masks/rle.js';

/**
 * Dataset formats: outputs for the whole run that annotation and training tools import as
 * they are, rather than samlite's own files per image.
 */
export type DatasetFormat = 'coco' | 'yolo-seg' | 'labelme' | 'labelstudio';
export const DATASET_FORMATS: readonly DatasetFormat[] = ['coco', 'yolo-seg', 'labelme', 'labelstudio'];

/** True for the names in {@link DATASET_FORMATS}. */
export function isDatasetFormat(name: string): name is DatasetFormat {
  return (DATASET_FORMATS as readonly string[]).includes(name);
}

/** An object class, with the id the detection file gave it (COCO `category_id`). */
export interface Category {
  readonly id: number;
  readonly name: string;
}

/** The one category of masks that no detector classified (`everything`, point prompts). */
export const DEFAULT_CATEGORY: Category = { id: 1, name: 'object' };

/** One mask of a dataset image, with what is known about where it came from. */
export interface DatasetAnnotation {
  /** The mask at full image resolution. */
  readonly rle: Rle;
  readonly categoryId: number;
  /** The model's predicted IoU for the mask. */
  readonly predictedIou: number;
  /** `everything` only. */
  readonly stabilityScore?: number;
  /** The detection the box prompt came from: its COCO annotation id, or its YOLO line number. */
  readonly detectionId?: string | number;
  /** The detector's confidence for that box. */
  readonly detectionScore?: number;
}

/** One image of a dataset and its masks. */
export interface DatasetImage {
  /**
   * The image's name in the dataset files: the path relative to the walked folder (or to
   * the detection file's image root), else the file name; `/` separated.
   */
  readonly fileName: string;
  /** The image file on this machine (absolute), for links and relative paths. */
  readonly path: string;
  readonly width: number;
  readonly height: number;
  /** The image's `id` in a COCO detection file the prompts came from, kept in the output. */
  readonly sourceId?: number;
  readonly annotations: readonly DatasetAnnotation[];
}

/** How masks are encoded where a format offers a choice. */
export interface DatasetOptions {
  /** COCO `segmentation`: `rle` (exact, default) or `polygon` (outlines, holes bridged). */
  readonly cocoSegmentation?: 'rle' | 'polygon';
  /** Douglas–Peucker tolerance of every polygon written, in pixels (0 = exact outline). */
  readonly polygonTolerance?: number;
  /** Label Studio: prefix of each task's `data.image` before the image's file name. */
  readonly imageUrlPrefix?: string;
  /** Label Studio results: `polygon` outlines (default) or exact `brush` masks. */
  readonly labelStudioMasks?: 'polygon' | 'brush';
}

/** Label Studio's URL prefix for files served from its local-files storage. */
export const DEFAULT_IMAGE_URL_PREFIX = '/data/local-files/?d=';

/** What a dataset writer uses for an option no run, part or flag gave. */
export const DATASET_OPTION_DEFAULTS: Required<DatasetOptions> = {
  cocoSegmentation: 'rle',
  polygonTolerance: DEFAULT_POLYGON_TOLERANCE,
  imageUrlPrefix: DEFAULT_IMAGE_URL_PREFIX,
  labelStudioMasks: 'polygon',
};
