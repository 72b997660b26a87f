import type { RgbImage } from '../image/types.js';
import type { PolygonOptions } from '../masks/polygons.js';
import type { MaskRecord } from '../masks/record.js';
import type { WriteOptions } from './files.js';
import { writeLabelMap } from './labels.js';
import { writeMaskFolder } from './mask-folder.js';
import {
  EVERYTHING_FORMATS,
  everythingOutputPaths,
  imageStem,
  relativeInputName,
  type EverythingFormat,
  type OutputTarget,
} from './naming.js';
import { writeEverythingOverlay, type OverlayOptions } from './overlay.js';
import { writePolygons } from './polygons.js';
import { writeSa1bJson, type ImageJson } from './sa1b-json.js';

export interface EverythingWriteOptions extends WriteOptions, PolygonOptions, OverlayOptions {
  /** `image.image_id` in the JSON outputs. Default: the input's file stem. */
  readonly imageId?: number | string;
  /** `image.file_name`. Default: the input's path relative to the walked folder, or its name. */
  readonly fileName?: string;
}

/** The `image` object written in the JSON outputs for `target` (see {@link EverythingWriteOptions}). */
export function imageJson(
  size: { width: number; height: number },
  target: OutputTarget,
  options: Pick<EverythingWriteOptions, 'imageId' | 'fileName'> = {},
): ImageJson {
  return {
    image_id: options.imageId ?? imageStem(target.input),
    width: size.width,
    height: size.height,
    file_name: options.fileName ?? relativeInputName(target),
  };
}

/**
 * Write every requested `samlite everything` format for one image, named by
 * {@link everythingOutputPaths}, and return the files written. Formats are written in a
 * fixed order (json, labels, masks, overlay, polygons) whatever order they are asked in.
 *
 * Mask ids are 1 + the record index everywhere. Image pixels are read only by the overlay;
 * masks stay RLE and are decoded one at a time. Each file is written atomically; a failure
 * part-way leaves the files already finished in place and no partial file.
 */
export async function writeEverythingOutputs(
  image: RgbImage,
  records: readonly MaskRecord[],
  target: OutputTarget,
  formats: readonly EverythingFormat[],
  options: EverythingWriteOptions = {},
): Promise<string[]> {
  const paths = everythingOutputPaths(target);
  const info = imageJson(image, target, options);
  const files: string[] = [];
  for (const format of EVERYTHING_FORMATS) {
    if (!formats.includes(format)) continue;
    if (format === 'json') {
      await writeSa1bJson(paths.json, info, records, options);
      files.push(paths.json);
    } else if (format === 'labels') {
      await writeLabelMap(paths.labels, image.width, image.height, records, options);
      files.push(paths.labels);
    } else if (format === 'masks') {
      files.push(...(await writeMaskFolder(paths.masksDir, image.width, image.height, records, options)));
    } else if (format === 'overlay') {
      await writeEverythingOverlay(paths.overlay, image, records, options);
      files.push(paths.overlay);
    } else {
      files.push(...(await writePolygons(paths.geojson, paths.cocoPolygons, info, records, options)));
    }
  }
  return files;
}
