import { rleToPolygons, polygonToPath } from '../masks/polygons.js';
import { writeOutputStream, type WriteOptions } from '../writers/files.js';
import { maskToLabelStudioRle } from './labelstudio-rle.js';
import { categoryById, writtenAnnotations, type DatasetImageInfo, type DatasetSource } from './source.js';
import { DEFAULT_IMAGE_URL_PREFIX, type Category, type DatasetAnnotation, type DatasetOptions } from './types.js';

/** The control and object tag names the results refer to (see the labelling config in docs/datasets.md). */
export const LABEL_STUDIO_FROM_NAME = 'label';
export const LABEL_STUDIO_TO_NAME = 'image';

/** One polygon region of a Label Studio prediction. */
export interface LabelStudioPolygonResult {
  id: string;
  type: 'polygonlabels';
  from_name: string;
  to_name: string;
  original_width: number;
  original_height: number;
  image_rotation: 0;
  /** Points in percent of the image's width and height (0-100). */
  value: { points: [number, number][]; closed: true; polygonlabels: string[] };
  score: number;
}

/** One mask as a Label Studio brush region (`--labelstudio-masks brush`). */
export interface LabelStudioBrushResult {
  id: string;
  type: 'brushlabels';
  from_name: string;
  to_name: string;
  original_width: number;
  original_height: number;
  image_rotation: 0;
  /** `rle`: Label Studio's packed RGBA runs (see maskToLabelStudioRle). */
  value: { format: 'rle'; rle: number[]; brushlabels: string[] };
  score: number;
}

/** A Label Studio task with samlite's masks as its pre-annotation. */
export interface LabelStudioTask {
  data: { image: string };
  predictions: { model_version: string; score: number; result: (LabelStudioPolygonResult | LabelStudioBrushResult)[] }[];
}

/** `prefix` + the file name, each path segment URL-encoded (`?d=` takes it as a query value). */
export function labelStudioImageUrl(fileName: string, prefix = DEFAULT_IMAGE_URL_PREFIX): string {
  return prefix + fileName.split('/').map(encodeURIComponent).join('/');
}

const percent = (v: number, size: number) => Math.round((v / size) * 100 * 1e4) / 1e4;

/**
 * One image as a Label Studio task: `data.image` is the URL Label Studio loads it from,
 * and one prediction holds a polygon result per connected part of each mask (Label Studio
 * polygons have one outline; holes are bridged in as in COCO polygons), or with
 * `labelStudioMasks: 'brush'` one exact brush result per mask. Result ids are `m<n>` for
 * mask n of the whole file, `m<n>-<k>` for its further parts, so they are unique across
 * tasks as Label Studio asks.
 */
export function labelStudioTask(
  image: DatasetImageInfo,
  annotations: readonly DatasetAnnotation[],
  categories: readonly Category[],
  firstMaskNumber: number,
  options: DatasetOptions & { model?: string } = {},
): LabelStudioTask {
  const result: (LabelStudioPolygonResult | LabelStudioBrushResult)[] = [];
  const written = writtenAnnotations(annotations);
  const common = { from_name: LABEL_STUDIO_FROM_NAME, to_name: LABEL_STUDIO_TO_NAME, original_width: image.width, original_height: image.height, image_rotation: 0 as const };
  written.forEach((a, i) => {
    const label = categoryById(categories, a.categoryId).name;
    if (options.labelStudioMasks === 'brush') {
      result.push({
        id: `m${firstMaskNumber + i}`,
        type: 'brushlabels',
        ...common,
        value: { format: 'rle', rle: maskToLabelStudioRle(a.rle), brushlabels: [label] },
        score: a.predictedIou,
      });
      return;
    }
    rleToPolygons(a.rle, { tolerance: options.polygonTolerance }).forEach((polygon, k) => {
      const points = polygonToPath(polygon).map(([x, y]): [number, number] => [percent(x, image.width), percent(y, image.height)]);
      result.push({
        id: `m${firstMaskNumber + i}${k === 0 ? '' : `-${k}`}`,
        type: 'polygonlabels',
        ...common,
        value: { points, closed: true, polygonlabels: [label] },
        score: a.predictedIou,
      });
    });
  });
  const score = written.length ? written.reduce((s, a) => s + a.predictedIou, 0) / written.length : 0;
  return {
    data: { image: labelStudioImageUrl(image.fileName, options.imageUrlPrefix) },
    predictions: [{ model_version: `samlite${options.model ? ` ${options.model}` : ''}`, score, result }],
  };
}

/**
 * Write Label Studio's import file: a JSON list of tasks, one per image in dataset order,
 * streamed one task per line. Returns the number of masks written.
 */
export async function writeLabelStudioTasks(
  path: string,
  source: DatasetSource,
  options: DatasetOptions & WriteOptions = {},
): Promise<number> {
  let masks = 0;
  await writeOutputStream(
    path,
    async (write) => {
      await write('[');
      for (let i = 0; i < source.images.length; i++) {
        const annotations = await source.annotations(i);
        const task = labelStudioTask(source.images[i], annotations, source.categories, masks + 1, { ...options, model: source.model });
        masks += writtenAnnotations(annotations).length;
        await write(`${i === 0 ? '' : ','}\n${JSON.stringify(task)}`);
      }
      await write('\n]\n');
    },
    options,
  );
  return masks;
}
