import { dirname, relative, sep } from 'node:path';
import { polygonToPath, rleToPolygons, type Position } from '../masks/polygons.js';
import { writeOutputFile, type WriteOptions } from '../writers/files.js';
import { categoryById, writtenAnnotations } from './source.js';
import type { Category, DatasetImage, DatasetOptions } from './types.js';

/** The labelme version whose file layout samlite writes. */
export const LABELME_VERSION = '5.5.0';

/** One labelme shape. */
export interface LabelmeShape {
  label: string;
  points: Position[];
  /** The mask's number in the image (1-based): every part of one mask shares it. */
  group_id: number;
  description: string;
  shape_type: 'polygon';
  flags: Record<string, boolean>;
}

/** A labelme annotation file. */
export interface LabelmeDocument {
  version: string;
  flags: Record<string, boolean>;
  shapes: LabelmeShape[];
  /** The image, relative to the folder of the JSON file (labelme resolves it from there). */
  imagePath: string;
  imageData: null;
  imageHeight: number;
  imageWidth: number;
}

/**
 * labelme's JSON for one image, to be written at `jsonPath`: one polygon shape per
 * connected part of each mask (labelme polygons have one outline), parts of one mask
 * sharing its `group_id`, holes bridged into their outline as in COCO polygons (labelme
 * fills with PIL, which keeps them empty). The image is referenced, not embedded.
 *
 * The points run through the centres of the mask's boundary pixels (`vertices: 'centres'`),
 * not along pixel edges as in COCO: labelme's `shape_to_mask` draws the polygon with PIL's
 * `polygon(xy, outline=1, fill=1)`, which truncates each point to a pixel and fills the
 * boundary pixels too, so edge vertices would grow every shape by a one-pixel ring. A point
 * x + 0.5 truncates to pixel x, and in labelme's window it sits in the middle of that pixel.
 */
export function labelmeDocument(jsonPath: string, image: DatasetImage, categories: readonly Category[], options: DatasetOptions = {}): LabelmeDocument {
  const shapes: LabelmeShape[] = [];
  writtenAnnotations(image.annotations).forEach((a, i) => {
    const label = categoryById(categories, a.categoryId).name;
    for (const polygon of rleToPolygons(a.rle, { tolerance: options.polygonTolerance, vertices: 'centres' })) {
      shapes.push({ label, points: polygonToPath(polygon, { vertices: 'centres' }), group_id: i + 1, description: '', shape_type: 'polygon', flags: {} });
    }
  });
  return {
    version: LABELME_VERSION,
    flags: {},
    shapes,
    imagePath: relative(dirname(jsonPath), image.path).split(sep).join('/'),
    imageData: null,
    imageHeight: image.height,
    imageWidth: image.width,
  };
}

/** Write labelme's JSON for one image to `jsonPath` (atomically). */
export async function writeLabelme(
  jsonPath: string,
  image: DatasetImage,
  categories: readonly Category[],
  options: DatasetOptions & WriteOptions = {},
): Promise<void> {
  await writeOutputFile(jsonPath, `${JSON.stringify(labelmeDocument(jsonPath, image, categories, options))}\n`, options);
}
