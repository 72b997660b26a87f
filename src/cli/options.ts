import { Option } from 'commander';
import { DATASET_FORMATS, DEFAULT_IMAGE_URL_PREFIX, isDatasetFormat, type DatasetFormat } from '../datasets/types.js';
import type { SessionOptions } from '../inference/types.js';
import type { Ui } from './ui.js';

/** Options every model-running command shares, as commander hands them over. */
export interface CommonRunOptions {
  model?: string;
  out: string;
  overwrite?: boolean;
  json?: boolean;
  quiet?: boolean;
  threads?: number;
  maxPixels?: number;
  device: 'cpu' | 'cuda';
  inference?: 'main' | 'worker';
}

/** The options shared by `segment` and `everything`. */
export function commonRunOptions(): Option[] {
  return [
    new Option('-m, --model <name|manifest>', 'catalog model name or path to a model manifest (default: see `samlite models default`)'),
    new Option('-o, --out <dir>', 'output folder').default('.', 'the current folder'),
    new Option('--overwrite', 'replace existing output files (otherwise an existing output is an error)'),
    new Option('--json', 'one JSON line per result on stdout (the default when stdout is not a terminal)'),
    new Option('-q, --quiet', 'no progress or summary on stderr (errors still shown)'),
    new Option('--threads <n>', 'onnxruntime intra-op threads (default: one per core)'),
    new Option('--device <device>', 'cpu, or cuda (falls back to the CPU with a warning when CUDA cannot start)')
      .choices(['cpu', 'cuda'])
      .default('cpu'),
    new Option('--inference <where>', 'run the models on the main thread or in a worker thread (default: worker on a terminal or with several images in flight, main otherwise)').choices([
      'main',
      'worker',
    ]),
    new Option('--max-pixels <n>', 'refuse images with more pixels than this (default 100M)'),
  ];
}

/**
 * Session options from the shared flags. Inference defaults to a worker thread when
 * several images are in flight (the main thread filters one image's masks while the worker
 * runs the model for another: measured 5 % faster on the benchmark models) or when stderr
 * is a terminal (the spinner, the progress bar and Ctrl-C stay live during model runs).
 * Otherwise the main thread: one image at a time gains nothing from the worker and pays
 * 3-5 % for moving tensors (docs/performance.md).
 */
export function sessionOptions(flags: CommonRunOptions, ui: Ui, imagesInFlight = 1): SessionOptions {
  return {
    threads: flags.threads,
    device: flags.device,
    inference: flags.inference ?? (ui.interactive || imagesInFlight > 1 ? 'worker' : 'main'),
    onWarning: (message) => ui.warn(message),
  };
}

/** JSON lines on stdout when asked for, or when stdout is a pipe or file. */
export function wantsJson(options: { json?: boolean }, stdout: NodeJS.WriteStream = process.stdout): boolean {
  return options.json === true || !stdout.isTTY;
}

export { DATASET_OPTION_FLAGS, datasetOptionsFromFlags, type DatasetFlags } from '../jobs/dataset-run.js';



/**
 * Options of the dataset formats (`--format coco,yolo-seg,labelme,labelstudio`). No
 * defaults here: `merge` takes what the parts' runs used unless a flag overrides it.
 */
export function datasetOptions(): Option[] {
  return [
    new Option('--coco-segmentation <how>', 'COCO masks as rle (exact) or polygon (outlines at --polygon-tolerance; default rle)').choices(['rle', 'polygon']),
    new Option('--image-url-prefix <url>', `Label Studio: prefix of each task's image URL before its file name (default ${DEFAULT_IMAGE_URL_PREFIX})`),
    new Option('--labelstudio-masks <how>', 'Label Studio results as polygon outlines or exact brush masks (default polygon)').choices(['polygon', 'brush']),
  ];
}

/** Split a `--format` list into the command's own per-image formats and dataset formats. */
export function splitFormats<T extends string>(formats: readonly (T | DatasetFormat)[]): { own: T[]; dataset: DatasetFormat[] } {
  return {
    own: formats.filter((f): f is T => !isDatasetFormat(f)),
    dataset: DATASET_FORMATS.filter((f) => formats.includes(f)),
  };
}
