import { join, resolve } from 'node:path';
import { outputPrefix, relativeInputName, type OutputTarget } from '../writers/naming.js';
import { DATASET_FORMATS, type DatasetFormat } from './types.js';

/** Folder under `--out` holding one part per image until the dataset files are merged. */
export const PARTS_DIR = 'samlite-parts';
/** Suffix of a part file: `<out>/samlite-parts/<sub-path>/<stem>.part.json`. */
export const PART_SUFFIX = '.part.json';

/** The dataset files written once for the whole run, by format, under `--out`. */
export const DATASET_RUN_FILES: Readonly<Partial<Record<DatasetFormat, string>>> = {
  coco: 'coco.json',
  labelstudio: 'labelstudio.json',
  'yolo-seg': 'data.yaml',
};

/** The formats `samlite merge` can build: those with one file for the whole dataset. */
export const MERGE_FORMATS: readonly DatasetFormat[] = DATASET_FORMATS.filter((f) => DATASET_RUN_FILES[f]);

/** The part file of one image: its masks in samlite's neutral form, merged at the end. */
export function datasetPartPath(target: OutputTarget): string {
  return `${outputPrefix({ ...target, outDir: join(target.outDir, PARTS_DIR) })}${PART_SUFFIX}`;
}

/** labelme's file for one image: `<stem>.json` (labelme looks for it under that name). */
export function labelmePath(target: OutputTarget): string {
  return `${outputPrefix(target)}.json`;
}

/** ultralytics' label file for one image: `<out>/labels/<sub-path>/<stem>.txt`. */
export function yoloLabelPath(target: OutputTarget): string {
  return `${outputPrefix({ ...target, outDir: join(target.outDir, 'labels') })}.txt`;
}

/**
 * Where the image appears in the YOLO-seg dataset: `<out>/images/<sub-path>/<name>`.
 * ultralytics finds an image's labels by replacing `/images/` with `/labels/` in its path,
 * so the image has to be seen under `images/`: samlite links it there.
 */
export function yoloImagePath(target: OutputTarget): string {
  return join(target.outDir, 'images', ...relativeInputName(target).split('/'));
}

/** The files written once for the whole run (`coco.json`, `labelstudio.json`, `data.yaml`). */
export function datasetRunFiles(outDir: string, formats: readonly DatasetFormat[]): string[] {
  return formats.flatMap((f) => (DATASET_RUN_FILES[f] ? [join(outDir, DATASET_RUN_FILES[f])] : []));
}

/**
 * True when the input already sits where the YOLO-seg dataset wants it (`--out data/` over
 * `data/images/`), so there is nothing to link.
 */
export function imageAlreadyInDataset(target: OutputTarget): boolean {
  return resolve(yoloImagePath(target)) === resolve(target.input);
}
