import { lstat, copyFile, symlink } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { polygonsToSinglePath, rleToPolygons } from '../masks/polygons.js';
import { withTempFile } from '../util/atomic-write.js';
import { refuseExisting, writeOutputFile, type WriteOptions } from '../writers/files.js';
import { InputError } from '../errors.js';
import { categoriesInOrder, categoryById, writtenAnnotations } from './source.js';
import type { Category, DatasetImage, DatasetOptions } from './types.js';

/**
 * ultralytics' segmentation labels for one image: one line per mask,
 * `class x1 y1 x2 y2 ...`, coordinates divided by the image's width and height.
 *
 * ultralytics rasterises a label by multiplying the points back by the image size, casting
 * them to int32 (truncation) and calling `cv2.fillPoly`, which fills the boundary pixels
 * too. So the outline runs through the centres of the mask's boundary pixels
 * (`vertices: 'centres'`): a centre x + 0.5 truncates to pixel x, and fillPoly gives the
 * mask back at tolerance 0, where edge vertices would add a one-pixel ring.
 *
 * A line holds one polygon, so a mask's holes and separate parts are joined into a single
 * outline by zero-width bridges ({@link polygonsToSinglePath}). fillPoly keeps holes empty
 * but draws every edge, so a bridge between two separate parts paints the background pixels
 * it crosses (bridges run through pixel centres, along a row or column and a diagonal; a
 * hole's runs through the mask). The class is the category's
 * position in id order. Empty masks are left out.
 */
export function yoloSegLabels(image: DatasetImage, categories: readonly Category[], options: DatasetOptions = {}): string {
  const order = categoriesInOrder(categories);
  const lines: string[] = [];
  for (const a of writtenAnnotations(image.annotations)) {
    const cls = order.indexOf(categoryById(order, a.categoryId));
    const path = polygonsToSinglePath(rleToPolygons(a.rle, { tolerance: options.polygonTolerance, vertices: 'centres' }), { vertices: 'centres' });
    const coords = path.flatMap(([x, y]) => [normalised(x, image.width), normalised(y, image.height)]);
    lines.push(`${cls} ${coords.join(' ')}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/**
 * `v / size` with six decimals. For a pixel centre v = x + 0.5, ultralytics' truncation of
 * the value read back (float32) times `size` lands on x: rounding moves it by at most
 * 5e-7 * size and float32 by about 6e-8 * size, together under 0.5 px for images up to
 * 800 000 px wide (test/datasets.test.ts checks it).
 */
export function normalised(v: number, size: number): string {
  return Math.min(1, Math.max(0, v / size)).toFixed(6);
}

/** A YAML double-quoted scalar: JSON's string syntax is a subset of YAML's. */
function yamlString(text: string): string {
  return JSON.stringify(text);
}

/**
 * The dataset's `data.yaml` for ultralytics: `path` (the dataset folder, absolute, since
 * ultralytics resolves a relative one against its own datasets folder), `train` and `val`
 * (both `images`: samlite does not split), and `names` by class index.
 */
export function yoloDataYaml(datasetDir: string, categories: readonly Category[]): string {
  const names = categoriesInOrder(categories).map((c, i) => `  ${i}: ${yamlString(c.name)}`);
  return [
    '# ultralytics YOLO segmentation dataset, written by samlite',
    `path: ${yamlString(datasetDir)}`,
    'train: images',
    'val: images',
    'names:',
    ...names,
    '',
  ].join('\n');
}

/** Write an image's label file (atomically; an image without masks gets an empty file). */
export async function writeYoloSegLabels(
  path: string,
  image: DatasetImage,
  categories: readonly Category[],
  options: DatasetOptions & WriteOptions = {},
): Promise<void> {
  await writeOutputFile(path, yoloSegLabels(image, categories, options), options);
}

/**
 * Make the image visible at `linkPath` under the dataset's `images/` folder: a relative
 * symbolic link to `imagePath`, or a copy where links cannot be made (Windows without the
 * privilege). Created under a temporary name and renamed, like every other output.
 */
export async function linkDatasetImage(linkPath: string, imagePath: string, options: WriteOptions = {}): Promise<void> {
  await refuseExisting(linkPath, options);
  await withTempFile(linkPath, async (tmp) => {
    try {
      await symlink(relative(dirname(linkPath), imagePath), tmp);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
      await copyFile(imagePath, tmp);
    }
    // rename() replaces a file or link, never a folder: refuse one plainly.
    if ((await lstat(linkPath).catch(() => undefined))?.isDirectory()) throw new InputError(`${linkPath} is a folder`);
  });
}
