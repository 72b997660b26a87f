import { lstat, copyFile, symlink } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { rleToCrop } from '../masks/crop.js';
import { densifyPath } from '../masks/densify.js';
import { cropToPolygons, polygonsToSinglePath, type Position } from '../masks/polygons.js';
import { withTempFile } from '../util/atomic-write.js';
import { refuseExisting, writeOutputFile, type WriteOptions } from '../writers/files.js';
import { InputError } from '../util/errors.js';
import type { Rle } from '../masks/rle.js';
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
 *
 * ultralytics does not fill the outline as written: it first resamples it by vertex index
 * ({@link yoloSegOutline} says how, and how the outline is written to come through).
 */
export function yoloSegLabels(image: DatasetImage, categories: readonly Category[], options: DatasetOptions = {}): string {
  const order = categoriesInOrder(categories);
  const lines: string[] = [];
  for (const a of writtenAnnotations(image.annotations)) {
    const cls = order.indexOf(categoryById(order, a.categoryId));
    const path = yoloSegOutline(a.rle, options.polygonTolerance);
    const coords = path.flatMap(([x, y]) => [normalised(x, image.width), normalised(y, image.height)]);
    lines.push(`${cls} ${coords.join(' ')}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** Every divisor of 999 from 3 up: the vertex counts older ultralytics keeps whole (see {@link yoloSegOutline}). */
const KEPT_WHOLE_COUNTS = [3, 9, 27, 37, 111, 333, 999];

/**
 * The vertex count a YOLO-seg outline of `count` vertices is written with: the smallest
 * divisor of 999 that holds it (at least 27 for an outline with 45° edges), or `count`
 * itself past 999.
 */
export function yoloSegVertexCount(count: number, diagonal = false): number {
  const least = Math.max(count, diagonal ? 27 : 3);
  return KEPT_WHOLE_COUNTS.find((n) => n >= least) ?? count;
}

/**
 * A mask's YOLO-seg outline, in pixels: one path through boundary pixel centres (holes and
 * parts bridged in), written so that ultralytics' resampling keeps its corners.
 *
 * ultralytics' dataset (`YOLODataset.update_labels_info` calling `resample_segments`)
 * resamples every outline of an image to n points by `np.interp` over the vertex index of
 * the closed ring: a ring of L vertices, its first repeated as vertex L, is sampled at index
 * positions L / (n - 1) apart. n is 1000 (since 8.3.50, one more than the image's longest
 * outline when that is longer). Releases before December 2024 (ultralytics PR 18051) keep
 * only those points, so vertex i survives only when i (n - 1) / L is whole: for every vertex
 * exactly when L divides 999. Any other L cuts the corners that fall between samples: a
 * 1400 x 750 px rectangle with a serrated top (529 vertices) lost 15 168 px, the fixtures'
 * masks came back with IoU down to 0.983. Later releases add the n - L - 1 points to the
 * vertices instead of replacing them.
 *
 * So the vertex count is a divisor of 999 ({@link yoloSegVertexCount}), made up with
 * vertices on pixel centres along the outline's own edges ({@link densifyPath}): the older
 * readers then sample every vertex, and between vertices only points of the same straight
 * edges, at fractions k / m of them (m = 999 / L, odd), which on rows and columns truncate
 * onto the row or column. On a 45° edge a point half-way between two pixel centres would
 * truncate its x and y separately onto a pixel off the edge; an odd m never puts one there,
 * and the count of at least 27 keeps points 1/74 px or more from it (six decimals move a
 * point by at most 5e-7 x the image size). Past 999 vertices older readers must drop
 * some; newer ones keep them all. Edges at other angles (a tolerance above 0 makes them)
 * have points between their ends that truncate a pixel off the edge, so there the fill
 * can change by a few pixels.
 */
export function yoloSegOutline(rle: Rle, tolerance?: number): Position[] {
  const crop = rleToCrop(rle);
  if (!crop) return [];
  const path = polygonsToSinglePath(cropToPolygons(crop, { tolerance, vertices: 'centres' }), { vertices: 'centres' });
  return densifyPath(path, yoloSegVertexCount(path.length, hasDiagonal(path)));
}

/** Whether a closed path has a 45° edge. */
function hasDiagonal(path: readonly Position[]): boolean {
  return path.some(([x, y], i) => {
    const [nx, ny] = path[(i + 1) % path.length];
    return x !== nx && Math.abs(nx - x) === Math.abs(ny - y);
  });
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
