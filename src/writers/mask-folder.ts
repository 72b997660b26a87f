import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { forEachForegroundSpan } from '../masks/crop.js';
import type { MaskRecord } from '../masks/record.js';
import { InputError } from '../util/errors.js';
import { pathExists, writeOutputFile, type WriteOptions } from './files.js';
import { maskStats } from './mask-stats.js';
import { MASKS_INDEX_NAME, maskFileName } from './naming.js';
import { checkRecordSizes, maskId } from './order.js';
import { writePng } from './png.js';

/** Columns of the folder index, as in SAM's `metadata.csv` (bbox in the COCO convention). */
export const MASKS_INDEX_COLUMNS = [
  'id',
  'area',
  'bbox_x0',
  'bbox_y0',
  'bbox_w',
  'bbox_h',
  'point_input_x',
  'point_input_y',
  'predicted_iou',
  'stability_score',
  'crop_box_x0',
  'crop_box_y0',
  'crop_box_w',
  'crop_box_h',
] as const;

/**
 * The folder index as CSV text: a header row, then one row per mask in record order.
 * `id` names the mask's file (`<id>.png`); point_input is the first prompt point.
 */
export function masksIndexCsv(records: readonly MaskRecord[]): string {
  const rows: string[] = [MASKS_INDEX_COLUMNS.join(',')];
  records.forEach((r, i) => {
    const { bbox, area } = maskStats(r.rle);
    const [px, py] = r.pointCoords[0] ?? [NaN, NaN];
    const cells = [maskId(i), area, ...bbox, px, py, r.predictedIou, r.stabilityScore, ...r.cropBox];
    // An absent point is an empty cell, not "NaN".
    rows.push(cells.map((c) => (Number.isFinite(c) ? String(c) : '')).join(','));
  });
  return `${rows.join('\n')}\n`;
}

/**
 * Write one single-channel PNG per mask (255 on the mask, 0 elsewhere, full image size)
 * into `dir` as `<id>.png`, then the index `metadata.csv` last: the index's presence means
 * the folder is complete. Returns the files written, index last.
 *
 * Each PNG is painted from the RLE runs into one reused buffer, so memory is one image
 * plane whatever the number of masks.
 *
 * Ownership of the folder: when the index exists the folder is a finished output, and
 * without `overwrite` that is an error naming the index. With `overwrite` the index is
 * deleted first (so the folder never looks complete while being rewritten) and numbered
 * PNGs beyond the new mask count, left from a run that found more masks, are removed.
 * Without an index the folder is an interrupted run's leftovers and its PNGs are replaced.
 * Files with other names are never touched.
 */
export async function writeMaskFolder(
  dir: string,
  width: number,
  height: number,
  records: readonly MaskRecord[],
  options: WriteOptions = {},
): Promise<string[]> {
  checkRecordSizes(records, width, height);
  const index = join(dir, MASKS_INDEX_NAME);
  if (await pathExists(index)) {
    if (!options.overwrite) throw new InputError(`${index} already exists; pass --overwrite to replace ${dir}`);
    await rm(index, { force: true });
  }
  await removeStaleMasks(dir, records.length);
  const files: string[] = [];
  const plane = new Uint8Array(width * height);
  for (let i = 0; i < records.length; i++) {
    plane.fill(0);
    forEachForegroundSpan(records[i].rle, (x, y, length) => {
      for (let o = y * width + x, end = o + length * width; o < end; o += width) plane[o] = 255;
    });
    const path = join(dir, maskFileName(maskId(i)));
    await writePng(path, { width, height, channels: 1, data: plane }, { overwrite: true });
    files.push(path);
  }
  await writeOutputFile(index, masksIndexCsv(records), { overwrite: true });
  files.push(index);
  return files;
}

/** Remove `<n>.png` files with n above `count`: masks of an earlier, larger run. */
async function removeStaleMasks(dir: string, count: number): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const name of names) {
    const m = /^(\d+)\.png$/.exec(name);
    if (m && Number(m[1]) > count) await rm(join(dir, name), { force: true });
  }
}
